package ws

import (
	"bytes"
	"regexp"
	"strings"
)

// Policy is one location's WebSocket handshake policy (ws_allow_origins,
// ws_subprotocols, ws_deflate), compiled once per configuration and
// immutable afterwards. A nil *Policy allows everything and changes
// nothing.
type Policy struct {
	origins      []originRule // nil: any Origin
	subprotocols []string     // nil: any subprotocol
	deflate      Deflate
}

// Deflate is what a location does with permessage-deflate (RFC 7692).
type Deflate uint8

const (
	DeflatePass  Deflate = iota // ws_deflate on: negotiated by the peers, untouched
	DeflateStrip                // ws_deflate strip: the offer is removed from the handshake
	DeflateOff                  // ws_deflate off: as strip, and an upstream that turns it on anyway is refused
)

type originRule struct {
	exact  string         // whole lower-cased Origin, or host[:port] when host is set
	suffix string         // "*.example.com": ".example.com"
	scheme string         // with suffix or host: the scheme required ("" any)
	host   bool           // compare the host[:port] part only
	re     *regexp.Regexp // "~regex"
}

// NewPolicy compiles a location's policy from the configuration's values
// (config.WSConf: AllowOrigins, Subprotocols, Deflate); nil when nothing
// is set. Regexes were checked by the configuration.
func NewPolicy(origins, subprotocols []string, deflate string) (*Policy, error) {
	p := &Policy{subprotocols: subprotocols}
	switch deflate {
	case "strip":
		p.deflate = DeflateStrip
	case "off":
		p.deflate = DeflateOff
	}
	if len(origins) > 0 {
		p.origins = make([]originRule, 0, len(origins))
	}
	for _, o := range origins {
		var r originRule
		switch {
		case strings.HasPrefix(o, "~*"):
			re, err := regexp.Compile("(?i)" + o[2:])
			if err != nil {
				return nil, err
			}
			r.re = re
		case strings.HasPrefix(o, "~"):
			re, err := regexp.Compile(o[1:])
			if err != nil {
				return nil, err
			}
			r.re = re
		default:
			rest := o
			if i := strings.Index(o, "://"); i >= 0 {
				r.scheme, rest = o[:i], o[i+3:]
			} else {
				r.host = true
			}
			if strings.HasPrefix(rest, "*.") {
				r.suffix = rest[1:]
				r.host = true
			} else if r.host {
				r.exact = rest
			} else {
				r.exact = o
			}
		}
		p.origins = append(p.origins, r)
	}
	if p.origins == nil && p.subprotocols == nil && p.deflate == DeflatePass {
		return nil, nil
	}
	return p, nil
}

// AllowOrigin reports whether a handshake with this Origin header
// (RFC 6454 serialization, RFC 6455 4.1 item 8) may pass. A handshake
// without Origin, which browsers always send, is not cross-site
// WebSocket hijacking and passes.
func (p *Policy) AllowOrigin(origin []byte) bool {
	if p == nil || p.origins == nil || origin == nil {
		return true
	}
	lower := strings.ToLower(string(origin))
	scheme, hostport := "", lower
	if i := strings.Index(lower, "://"); i >= 0 {
		scheme, hostport = lower[:i], lower[i+3:]
	}
	for i := range p.origins {
		r := &p.origins[i]
		switch {
		case r.re != nil:
			if r.re.Match(origin) {
				return true
			}
		case r.scheme != "" && r.scheme != scheme:
		case r.suffix != "":
			if len(hostport) > len(r.suffix) && strings.HasSuffix(hostport, r.suffix) {
				return true
			}
		case r.host:
			if hostport == r.exact {
				return true
			}
		case lower == r.exact:
			return true
		}
	}
	return false
}

// ChecksOrigins reports whether the policy restricts Origins.
func (p *Policy) ChecksOrigins() bool { return p != nil && p.origins != nil }

// ChecksSubprotocols reports whether the policy has a subprotocol
// allowlist.
func (p *Policy) ChecksSubprotocols() bool { return p != nil && p.subprotocols != nil }

// FilterSubprotocols returns the elements of one Sec-WebSocket-Protocol
// value (RFC 6455 11.3.4: comma-separated tokens) that the allowlist
// names, joined as the value to send upstream, and whether any was kept.
// Without an allowlist it returns value unchanged.
func (p *Policy) FilterSubprotocols(value []byte) ([]byte, bool) {
	if !p.ChecksSubprotocols() {
		return value, len(value) > 0
	}
	var out []byte
	for _, el := range bytes.Split(value, []byte(",")) {
		tok := bytes.TrimSpace(el)
		for _, s := range p.subprotocols {
			if string(tok) == s {
				if out != nil {
					out = append(out, ", "...)
				}
				out = append(out, tok...)
				break
			}
		}
	}
	return out, out != nil
}

// Deflate returns what the location does with permessage-deflate.
func (p *Policy) Deflate() Deflate {
	if p == nil {
		return DeflatePass
	}
	return p.deflate
}

// StripDeflate returns one Sec-WebSocket-Extensions value (RFC 6455 9.1:
// comma-separated extensions, each with ";" parameters) without its
// permessage-deflate offers (RFC 7692 5), and whether anything is left.
// The value is returned as is when it offers none.
func StripDeflate(value []byte) ([]byte, bool) {
	if !bytes.Contains(bytes.ToLower(value), []byte("permessage-deflate")) {
		return value, len(bytes.TrimSpace(value)) > 0
	}
	var out []byte
	for _, el := range bytes.Split(value, []byte(",")) {
		name, _, _ := bytes.Cut(el, []byte(";"))
		if bytes.EqualFold(bytes.TrimSpace(name), []byte("permessage-deflate")) {
			continue
		}
		if out != nil {
			out = append(out, ',')
		}
		out = append(out, bytes.TrimSpace(el)...)
	}
	return out, len(out) > 0
}

// OffersDeflate reports whether a Sec-WebSocket-Extensions value names
// permessage-deflate.
func OffersDeflate(value []byte) bool {
	for _, el := range bytes.Split(value, []byte(",")) {
		name, _, _ := bytes.Cut(el, []byte(";"))
		if bytes.EqualFold(bytes.TrimSpace(name), []byte("permessage-deflate")) {
			return true
		}
	}
	return false
}
