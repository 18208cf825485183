package h3

import (
	"net/http"
	"slices"
	"strings"

	"wsgate/internal/framed"
	"wsgate/internal/http1"
)

// stream is one request stream: the request as the handlers see it, its
// body and its response writer.
type stream struct {
	conn *connState
	cfg  *Config
	hw   http.ResponseWriter
	hr   *http.Request

	// extConnect: the request is an extended CONNECT for a WebSocket
	// (RFC 9220), whose response Upgrade sends.
	extConnect bool
	// bodyless: the request has no body by its method and framing.
	bodyless bool
	// upgraded: a tunnel owns the stream (streamConn).
	upgraded bool

	req  http1.Request
	body framed.Body
	w    ResponseWriter
}

// buildRequest makes st's request from what quic-go parsed, as nginx's
// HTTP/3 module makes it (framed.ParseRequest). quic-go has checked the
// pseudo-header fields and refused connection-specific fields (RFC 9114
// 4.2, 4.3.1). An extended CONNECT for a WebSocket (RFC 9220, RFC 8441
// section 4) becomes the HTTP/1.1 handshake it stands for (section 5).
// The status, when not 0, is the error the request is answered with.
func (st *stream) buildRequest(r *http.Request) (status int) {
	method, path := r.Method, r.RequestURI
	switch {
	case method == http.MethodConnect && r.Proto == "HTTP/3.0":
		// nginx refuses CONNECT (ngx_http_process_request_header).
		st.setMinimalRequest(method, r.Host)
		return 405
	case method == http.MethodConnect:
		if !strings.EqualFold(r.Proto, "websocket") {
			st.setMinimalRequest(method, path)
			return 501
		}
		st.extConnect = true
		method = http.MethodGet
	}
	st.bodyless = st.extConnect || r.ContentLength == 0 ||
		r.ContentLength < 0 && (method == http.MethodGet || method == http.MethodHead)

	h := framed.RequestHead{Method: method, Path: path, Authority: r.Host, ExtConnect: st.extConnect,
		Fields: func(yield func(string, string) bool) {
			names := make([]string, 0, len(r.Header))
			for name := range r.Header {
				names = append(names, name)
			}
			slices.Sort(names)
			for _, name := range names {
				lname := strings.ToLower(name)
				for _, v := range r.Header[name] {
					if !yield(lname, v) {
						return
					}
				}
			}
		}}
	if status = framed.ParseRequest(&h, &st.cfg.Head, &st.req, 3, &st.body); status != 0 {
		return status
	}
	req := &st.req.Request
	// A body without a declared length is framed by DATA frames; an
	// extended CONNECT has none: its DATA is the tunnel's.
	req.Chunked = !st.bodyless && req.ContentLength < 0
	return 0
}

// setMinimalRequest gives a request refused before its head was read the
// method and target nginx's log shows.
func (st *stream) setMinimalRequest(method, target string) {
	framed.SetMinimalRequest(&st.req.Request, method, target, 3, &st.body)
	st.bodyless = true
}
