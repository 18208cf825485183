package snapshot

// ServerInfo is how wsgate names itself in Server headers and error pages.
type ServerInfo struct {
	// Version is wsgate's version ("0.3.1"), shown when Tokens is set.
	Version string
	// Tokens is server_tokens: "wsgate/<version>" when on, "wsgate" when off.
	Tokens bool
}

func (s ServerInfo) appendName(dst []byte) []byte {
	dst = append(dst, "wsgate"...)
	if s.Tokens && s.Version != "" {
		dst = append(dst, '/')
		dst = append(dst, s.Version...)
	}
	return dst
}

// Name is the Server header value: "wsgate/<version>" with server_tokens
// on, "wsgate" with it off.
func (s ServerInfo) Name() string {
	if s.Tokens && s.Version != "" {
		return "wsgate/" + s.Version
	}
	return "wsgate"
}
