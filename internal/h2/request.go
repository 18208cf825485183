package h2

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"sync"

	"golang.org/x/net/http2/hpack"

	"wsgate/internal/http1"
)

// buildRequest makes st's request from its header fields as nginx's
// HTTP/2 module does (ngx_http_v2_state_process_header,
// ngx_http_v2_construct_request_line, ngx_http_v2_construct_cookie_header):
// the request line from :method and :path, a Host line from :authority
// first, the fields in their order, the cookie fields last as one line
// joined with "; ". The head is then read by internal/http1's parser, so
// that it is checked as an HTTP/1.1 head is (header names, Host, the URI,
// large_client_header_buffers).
//
// An extended CONNECT for a WebSocket (RFC 8441 section 4) becomes the
// HTTP/1.1 handshake it stands for (section 5): GET, "Upgrade:
// websocket", "Connection: upgrade" and a fresh Sec-WebSocket-Key, with
// the client's Sec-WebSocket-Version, -Protocol and -Extensions.
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

	b := headPool.Get().(*bytes.Buffer)
	defer headPool.Put(b)
	b.Reset()
	b.WriteString(method)
	b.WriteByte(' ')
	b.WriteString(path)
	b.WriteString(" HTTP/1.1\r\n")
	if authority != "" {
		writeLine(b, "host", authority)
	}
	if st.extConnect {
		var key [16]byte
		rand.Read(key[:])
		b.WriteString("upgrade: websocket\r\nconnection: upgrade\r\nsec-websocket-key: ")
		b.WriteString(base64.StdEncoding.EncodeToString(key[:]))
		b.WriteString("\r\n")
	}
	cookies := 0
	for _, f := range regular {
		if f.Name == "cookie" {
			cookies++
			continue
		}
		if st.extConnect && f.Name == "sec-websocket-key" {
			continue
		}
		writeLine(b, f.Name, f.Value)
	}
	if cookies > 0 {
		b.WriteString("cookie: ")
		n := 0
		for _, f := range regular {
			if f.Name == "cookie" {
				if n > 0 {
					b.WriteString("; ")
				}
				b.WriteString(f.Value)
				n++
			}
		}
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	head := b.Bytes()

	br := readerPool.Get().(*bufio.Reader)
	br.Reset(bytes.NewReader(head))
	err := http1.ParseRequestHead(br, &st.sc.cfg.Head, &st.req)
	br.Reset(nil)
	readerPool.Put(br)
	r := &st.req.Request
	r.ProtoMajor, r.ProtoMinor = 2, 0
	r.Body = &st.body
	if err != nil {
		if status = http1.StatusOf(err); status == 0 {
			status = 400
		}
		return status, true
	}
	r.HeadLength = len(head)
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
	r := &st.req.Request
	r.Method, r.URI, r.Path, r.NormalizedPath = []byte(method), []byte(target), []byte(target), []byte(target)
	r.ProtoMajor, r.ProtoMinor = 2, 0
	r.ContentLength = -1
	r.Body = &st.body
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
