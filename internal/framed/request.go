package framed

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"iter"
	"sync"

	"wsgate/internal/exchange"
	"wsgate/internal/http1"
)

// RequestHead is what a stream's request head says: its pseudo-header
// fields and the regular fields after them.
type RequestHead struct {
	// Method and Path are the request line's (:method, :path); Authority
	// (:authority) becomes the Host line, "" for none.
	Method, Path, Authority string
	// ExtConnect: the request is an extended CONNECT for a WebSocket
	// (RFC 8441 section 4, RFC 9220), whose Method is already GET.
	ExtConnect bool
	// Fields yields the regular fields in their order, names
	// lower-cased; ParseRequest ranges over it twice.
	Fields iter.Seq2[string, string]
}

// ParseRequest makes req from h as nginx's HTTP/2 and HTTP/3 modules do
// (ngx_http_v2_state_process_header, ngx_http_v2_construct_request_line,
// ngx_http_v2_construct_cookie_header): the request line from :method
// and :path, a Host line from :authority first, the fields in their
// order, the cookie fields last as one line joined with "; ". The head
// is then read by internal/http1's parser, so that it is checked as an
// HTTP/1.1 head is (header names, Host, the URI,
// large_client_header_buffers).
//
// An extended CONNECT becomes the HTTP/1.1 handshake it stands for (RFC
// 8441 section 5): "Upgrade: websocket", "Connection: upgrade" and a
// fresh Sec-WebSocket-Key, with the client's Sec-WebSocket-Version,
// -Protocol and -Extensions.
//
// req's version is major.0 and its Body body. status, when not 0, is
// the error the request is answered with (nginx's head errors).
func ParseRequest(h *RequestHead, cfg *http1.HeadConfig, req *http1.Request, major int, body exchange.Body) (status int) {
	b := headPool.Get().(*bytes.Buffer)
	defer headPool.Put(b)
	b.Reset()
	b.WriteString(h.Method)
	b.WriteByte(' ')
	b.WriteString(h.Path)
	b.WriteString(" HTTP/1.1\r\n")
	if h.Authority != "" {
		writeLine(b, "host", h.Authority)
	}
	if h.ExtConnect {
		var key [16]byte
		rand.Read(key[:])
		b.WriteString("upgrade: websocket\r\nconnection: upgrade\r\nsec-websocket-key: ")
		b.WriteString(base64.StdEncoding.EncodeToString(key[:]))
		b.WriteString("\r\n")
	}
	cookies := 0
	for name, value := range h.Fields {
		if name == "cookie" {
			cookies++
			continue
		}
		if h.ExtConnect && name == "sec-websocket-key" {
			continue
		}
		writeLine(b, name, value)
	}
	if cookies > 0 {
		b.WriteString("cookie: ")
		n := 0
		for name, value := range h.Fields {
			if name == "cookie" {
				if n > 0 {
					b.WriteString("; ")
				}
				b.WriteString(value)
				n++
			}
		}
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	head := b.Bytes()

	br := readerPool.Get().(*bufio.Reader)
	br.Reset(bytes.NewReader(head))
	err := http1.ParseRequestHead(br, cfg, req)
	br.Reset(nil)
	readerPool.Put(br)
	r := &req.Request
	r.ProtoMajor, r.ProtoMinor = major, 0
	r.Body = body
	if err != nil {
		if status = http1.StatusOf(err); status == 0 {
			status = 400
		}
		return status
	}
	r.HeadLength = len(head)
	return 0
}

// SetMinimalRequest gives a request refused before its head was read the
// method and target nginx's log shows.
func SetMinimalRequest(r *exchange.Request, method, target string, major int, body exchange.Body) {
	r.Method, r.URI, r.Path, r.NormalizedPath = []byte(method), []byte(target), []byte(target), []byte(target)
	r.ProtoMajor, r.ProtoMinor = major, 0
	r.ContentLength = -1
	r.Body = body
}

func writeLine(b *bytes.Buffer, name, value string) {
	b.WriteString(name)
	b.WriteString(": ")
	b.WriteString(value)
	b.WriteString("\r\n")
}

var (
	headPool   = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}
)
