package h2

import (
	"strings"

	"golang.org/x/net/http2/hpack"

	"wsgate/internal/framed"
	"wsgate/internal/http1"
)

// buildRequest makes st's request from its header fields as nginx's
// HTTP/2 module does (framed.ParseRequest). An extended CONNECT for a
// WebSocket (RFC 8441 section 4) becomes the HTTP/1.1 handshake it
// stands for (section 5).
//
// ok is false for a malformed request (RFC 9113 8.1.1), which gets
// RST_STREAM PROTOCOL_ERROR; status, when not 0, is the error the
// request is answered with (nginx's head errors).
func (st *stream) buildRequest(fields []hpack.HeaderField, truncated bool) (status int, ok bool) {
	var method, scheme, authority, path, protocol string
	i := 0
	for ; i < len(fields) && strings.HasPrefix(fields[i].Name, ":"); i++ {
		switch v := fields[i].Value; fields[i].Name {
		case ":method":
			method = v
		case ":scheme":
			scheme = v
		case ":authority":
			authority = v
		case ":path":
			path = v
		case ":protocol":
			protocol = v
		}
	}
	regular := fields[i:]
	for _, f := range regular {
		switch f.Name {
		case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
			// Connection-specific fields (RFC 9113 8.2.2).
			return 0, false
		case "te":
			if f.Value != "trailers" {
				return 0, false
			}
		}
	}
	switch {
	case method == "CONNECT" && protocol == "":
		// nginx refuses CONNECT (ngx_http_process_request_header), with
		// whatever pseudo-header fields.
		target := path
		if target == "" {
			target = authority
		}
		st.setMinimalRequest(method, target)
		return 405, true
	case protocol != "":
		// RFC 8441 section 4: only with CONNECT, after the server's
		// SETTINGS_ENABLE_CONNECT_PROTOCOL.
		if method != "CONNECT" || !st.sc.cfg.ExtendedConnect || scheme == "" || path == "" {
			return 0, false
		}
		if !strings.EqualFold(protocol, "websocket") {
			st.setMinimalRequest("CONNECT", path)
			return 501, true
		}
		st.extConnect = true
		method = "GET"
	case method == "" || scheme == "" || path == "":
		return 0, false
	}
	if truncated {
		st.setMinimalRequest(method, path)
		return http1.StatusRequestHeaderTooLarge, true
	}

	h := framed.RequestHead{Method: method, Path: path, Authority: authority, ExtConnect: st.extConnect,
		Fields: func(yield func(string, string) bool) {
			for _, f := range regular {
				if !yield(f.Name, f.Value) {
					return
				}
			}
		}}
	if status = framed.ParseRequest(&h, &st.sc.cfg.Head, &st.req, 2, &st.body); status != 0 {
		return status, true
	}
	r := &st.req.Request
	// A body without a declared length is framed by its DATA frames;
	// an extended CONNECT has none: its DATA is the tunnel's.
	r.Chunked = !st.bodyless && !st.extConnect && r.ContentLength < 0
	if st.bodyless && r.ContentLength > 0 {
		return 0, false
	}
	return 0, true
}

// setMinimalRequest gives a request refused before its head was read the
// method and target nginx's log shows.
func (st *stream) setMinimalRequest(method, target string) {
	framed.SetMinimalRequest(&st.req.Request, method, target, 2, &st.body)
}
