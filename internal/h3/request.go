package h3

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"sync"

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
	body body
	w    ResponseWriter
}

// buildRequest makes st's request from what quic-go parsed, as nginx's
// HTTP/3 module makes it: the request line from :method and :path, a
// Host line from :authority first, the fields, the cookies last as one
// line joined with "; ". quic-go has checked the pseudo-header fields
// and refused connection-specific fields (RFC 9114 4.2, 4.3.1). The head
// is then read by internal/http1's parser, as on HTTP/1.1 and HTTP/2.
//
// An extended CONNECT for a WebSocket (RFC 9220, RFC 8441 section 4)
// becomes the HTTP/1.1 handshake it stands for (section 5). The status,
// when not 0, is the error the request is answered with.
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

	b := headPool.Get().(*bytes.Buffer)
	defer headPool.Put(b)
	b.Reset()
	b.WriteString(method)
	b.WriteByte(' ')
	b.WriteString(path)
	b.WriteString(" HTTP/1.1\r\n")
	if r.Host != "" {
		writeLine(b, "host", r.Host)
	}
	if st.extConnect {
		var key [16]byte
		rand.Read(key[:])
		b.WriteString("upgrade: websocket\r\nconnection: upgrade\r\nsec-websocket-key: ")
		b.WriteString(base64.StdEncoding.EncodeToString(key[:]))
		b.WriteString("\r\n")
	}
	names := make([]string, 0, len(r.Header))
	for name := range r.Header {
		names = append(names, name)
	}
	slices.Sort(names)
	var cookie []string
	for _, name := range names {
		lname := strings.ToLower(name)
		switch {
		case lname == "cookie":
			cookie = r.Header[name]
			continue
		case st.extConnect && lname == "sec-websocket-key":
			continue
		}
		for _, v := range r.Header[name] {
			writeLine(b, lname, v)
		}
	}
	if len(cookie) > 0 {
		writeLine(b, "cookie", strings.Join(cookie, "; "))
	}
	b.WriteString("\r\n")
	head := b.Bytes()

	br := readerPool.Get().(*bufio.Reader)
	br.Reset(bytes.NewReader(head))
	err := http1.ParseRequestHead(br, &st.cfg.Head, &st.req)
	br.Reset(nil)
	readerPool.Put(br)
	req := &st.req.Request
	req.ProtoMajor, req.ProtoMinor = 3, 0
	req.Body = &st.body
	if err != nil {
		if status = http1.StatusOf(err); status == 0 {
			status = 400
		}
		return status
	}
	req.HeadLength = len(head)
	// A body without a declared length is framed by DATA frames; an
	// extended CONNECT has none: its DATA is the tunnel's.
	req.Chunked = !st.bodyless && req.ContentLength < 0
	return 0
}

// setMinimalRequest gives a request refused before its head was read the
// method and target nginx's log shows.
func (st *stream) setMinimalRequest(method, target string) {
	r := &st.req.Request
	r.Method, r.URI, r.Path, r.NormalizedPath = []byte(method), []byte(target), []byte(target), []byte(target)
	r.ProtoMajor, r.ProtoMinor = 3, 0
	r.ContentLength = -1
	r.Body = &st.body
	st.bodyless = true
}

func writeLine(b *bytes.Buffer, name, value string) {
	b.WriteString(name)
	b.WriteString(": ")
	b.WriteString(value)
	b.WriteString("\r\n")
}

// headSizes is large_client_header_buffers with nginx's defaults for
// zero values.
func headSizes(c *http1.HeadConfig) (small, large, num int) {
	small, large, num = c.HeaderBufferSize, c.LargeBufferSize, c.LargeBufferCount
	if small <= 0 {
		small = 1024
	}
	if large <= 0 {
		large = 8192
	}
	if num <= 0 {
		num = 4
	}
	return small, large, num
}

var (
	headPool   = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}
)
