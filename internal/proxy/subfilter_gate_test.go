package proxy_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"wsgate/internal/proxytest"
)

// readChunk reads one chunk of a chunked body ("" at the last chunk).
func readChunk(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("reading a chunk size: %v", err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(line), 16, 64)
	if err != nil {
		t.Fatalf("chunk size %q: %v", line, err)
	}
	b := make([]byte, n+2)
	if _, err := io.ReadFull(br, b); err != nil {
		t.Fatalf("reading a chunk: %v", err)
	}
	return string(b[:n])
}

// readHead reads a response head and returns its lines but Date.
func readHead(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	var b strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the head: %v", err)
		}
		if line == "\r\n" {
			return b.String()
		}
		if !strings.HasPrefix(line, "Date: ") {
			b.WriteString(strings.TrimSuffix(line, "\r\n") + "\n")
		}
	}
}

// TestGateSubFilterStreams: a proxied text/html body goes through
// sub_filter as it arrives: the bytes before a search string that the
// upstream's first write cuts reach the client before the upstream sends
// the rest (nothing waits for the whole body), the string is found across
// the two writes, and the head loses Content-Length, Last-Modified and
// ETag and is chunked, as nginx sends it.
func TestGateSubFilterStreams(t *testing.T) {
	more := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(more) }) }
	t.Cleanup(release)
	b := proxytest.NewFunc(t, func(c net.Conn, br *bufio.Reader) {
		for {
			line, err := br.ReadString('\n')
			if err != nil || line == "\r\n" {
				break
			}
		}
		first, rest := `<a href="http://backe`, `nd/x">http://BACKEND/</a>`
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: "+
			strconv.Itoa(len(first)+len(rest))+"\r\nLast-Modified: Mon, 07 Dec 2026 00:00:00 GMT\r\nETag: \"1\"\r\nX-B: 1\r\n\r\n"+first)
		<-more
		io.WriteString(c, rest)
	})
	g := startGate(t, `
server { listen {{listen}};
  location / {
    sub_filter http://backend/ https://$host/;
    sub_filter_once off;
    proxy_pass http://{{b}};
  }
}`, map[string]string{"listen": "{{listen}}", "b": b.Addr})
	c := g.dial()
	c.send("GET / HTTP/1.1\nHost: example.com\n\n")
	head := readHead(t, c.br)
	want := "HTTP/1.1 200 OK\nServer: wsgate/1.2.3\nContent-Type: text/html; charset=utf-8\nTransfer-Encoding: chunked\nConnection: keep-alive\nX-B: 1\n"
	if head != want {
		t.Fatalf("got head\n%s\nwant\n%s", head, want)
	}
	if got := readChunk(t, c.br); got != `<a href="` {
		t.Fatalf("first chunk %q; want the bytes before the cut string", got)
	}
	release()
	var body strings.Builder
	for {
		ch := readChunk(t, c.br)
		if ch == "" {
			break
		}
		body.WriteString(ch)
	}
	if got, want := body.String(), `https://example.com/x">https://example.com/</a>`; got != want {
		t.Fatalf("got body %q; want %q", got, want)
	}
}

// TestGateSubFilterEverywhere: the filter acts on every body a location
// sends (a return's text, nginx's own error page, a file), and never on a
// 101 or the bytes of its tunnel; a changed file gets no byte ranges, and
// an HTTP/1.0 client gets the body up to the connection's close.
func TestGateSubFilterEverywhere(t *testing.T) {
	ws := wsOnceBackend(t)
	g := startGate(t, `
default_type text/html;
server { listen {{listen}};
  sub_filter hello HELLO;
  sub_filter_types *;
  sub_filter wsgate gate;
  location /ret { return 200 "hello wsgate hello"; }
  location /ws { proxy_pass http://{{ws}}; }
  location /files/ { alias {{dir}}/; }
}`, map[string]string{"listen": "{{listen}}", "ws": ws})
	writeFile(t, g.dir+"/a.html", "say hello")

	tests := []struct {
		desc, req string
		status    int
		body      string
		noHeader  string // a header the response must not have
	}{
		{desc: "return", req: "GET /ret HTTP/1.1\nHost: h\n\n", status: 200, body: "HELLO gate hello", noHeader: "Content-Length"},
		{desc: "error page", req: "GET /ret/../../x HTTP/1.1\nHost: h\n\n", status: 400, noHeader: "Content-Length"},
		{desc: "file", req: "GET /files/a.html HTTP/1.1\nHost: h\nRange: bytes=0-2\n\n", status: 200, body: "say HELLO", noHeader: "Accept-Ranges"},
		{desc: "HTTP/1.0", req: "GET /ret HTTP/1.0\n\n", status: 200, body: "HELLO gate hello", noHeader: "Content-Length"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			r := g.do(tt.req, "GET")
			if r.Status != tt.status {
				t.Fatalf("got status %d; want %d", r.Status, tt.status)
			}
			if tt.body != "" && string(r.Body) != tt.body {
				t.Errorf("got body %q; want %q", r.Body, tt.body)
			}
			if tt.status == 400 && !strings.Contains(string(r.Body), "<center>gate/1.2.3</center>") {
				t.Errorf("error page not filtered: %q", r.Body)
			}
			if v, ok := r.Get(tt.noHeader); ok {
				t.Errorf("got %s: %s; want none", tt.noHeader, v)
			}
		})
	}

	t.Run("websocket", func(t *testing.T) {
		c := g.dial()
		c.send("GET /ws HTTP/1.1\nHost: h\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Version: 13\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\n\n")
		head := readHead(t, c.br)
		if !strings.HasPrefix(head, "HTTP/1.1 101 ") || strings.Contains(head, "Transfer-Encoding") {
			t.Fatalf("got head\n%s", head)
		}
		frame := make([]byte, 7)
		if _, err := io.ReadFull(c.br, frame); err != nil {
			t.Fatal(err)
		}
		if string(frame) != "\x81\x05hello" {
			t.Fatalf("got frame %q; want the tunnel's bytes untouched", frame)
		}
		c.sendRaw("\x88\x82\x00\x00\x00\x00\x03\xe8")
	})
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestGateGzip: gzip through the whole path: a file's .gz sent by
// gzip_static, a proxied text/html body compressed for a client that
// accepts it (decoding to the upstream's bytes), left alone for one that
// does not, and a WebSocket handshake
// that sends Accept-Encoding (browsers do) upgraded with its tunnel's
// bytes untouched.
func TestGateGzip(t *testing.T) {
	page := strings.Repeat("<p>hello, world</p>\n", 500)
	b := proxytest.NewFixed(t, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: "+strconv.Itoa(len(page))+"\r\n\r\n"+page)
	ws := wsOnceBackend(t)
	g := startGate(t, `
gzip on;
gzip_types *;
server { listen {{listen}};
  location / { proxy_pass http://{{b}}; }
  location /ws { proxy_pass http://{{ws}}; }
  location /static/ { alias {{dir}}/; gzip_static on; gzip off; }
}`, map[string]string{"listen": "{{listen}}", "b": b.Addr, "ws": ws})

	// gzip_static: the .gz as it is to a client that takes gzip, the
	// file itself to one that does not.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("<p>from the .gz</p>"))
	zw.Close()
	writeFile(t, g.dir+"/a.html", "<p>plain</p>")
	writeFile(t, g.dir+"/a.html.gz", gz.String())
	if r := g.do("GET /static/a.html HTTP/1.1\nHost: h\nAccept-Encoding: gzip\n\n", "GET"); string(r.Body) != gz.String() {
		t.Errorf("gzip_static: got %q; want the .gz's bytes", r.Body)
	} else if v, _ := r.Get("Content-Encoding"); v != "gzip" {
		t.Errorf("gzip_static: got Content-Encoding %q; want gzip", v)
	}
	if r := g.do("GET /static/a.html HTTP/1.1\nHost: h\n\n", "GET"); string(r.Body) != "<p>plain</p>" {
		t.Errorf("gzip_static without Accept-Encoding: got %q; want the file", r.Body)
	}

	r := g.do("GET / HTTP/1.1\nHost: h\nAccept-Encoding: gzip, deflate\n\n", "GET")
	if v, _ := r.Get("Content-Encoding"); v != "gzip" {
		t.Fatalf("got Content-Encoding %q; want gzip", v)
	}
	zr, err := gzip.NewReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	dec, err := io.ReadAll(zr)
	if err != nil || string(dec) != page {
		t.Fatalf("decoded %d bytes (%v); want the upstream's %d", len(dec), err, len(page))
	}
	// A HEAD gets the compressed response's head and no byte of body:
	// the next response on the connection follows it at once.
	hc := g.dial()
	hc.send("HEAD / HTTP/1.1\nHost: h\nAccept-Encoding: gzip\n\nGET /x HTTP/1.1\nHost: h\n\n")
	if r := hc.read("HEAD"); r.Status != 200 || len(r.Body) != 0 {
		t.Fatalf("HEAD: got %d with %d body bytes; want 200 and none", r.Status, len(r.Body))
	}
	if r := hc.read("GET"); r.Status != 200 || string(r.Body) != page {
		t.Fatalf("after HEAD: got %d %d bytes; want the page", r.Status, len(r.Body))
	}
	r = g.do("GET / HTTP/1.1\nHost: h\n\n", "GET")
	if _, ok := r.Get("Content-Encoding"); ok || string(r.Body) != page {
		t.Fatalf("without Accept-Encoding: got %v %d bytes; want the page as it is", r.Headers, len(r.Body))
	}

	c := g.dial()
	c.send("GET /ws HTTP/1.1\nHost: h\nUpgrade: websocket\nConnection: Upgrade\nAccept-Encoding: gzip\nSec-WebSocket-Version: 13\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\n\n")
	head := readHead(t, c.br)
	if !strings.HasPrefix(head, "HTTP/1.1 101 ") || strings.Contains(head, "gzip") {
		t.Fatalf("got head\n%s", head)
	}
	frame := make([]byte, 7)
	if _, err := io.ReadFull(c.br, frame); err != nil || string(frame) != "\x81\x05hello" {
		t.Fatalf("got frame %q (%v); want the tunnel's bytes untouched", frame, err)
	}
	c.sendRaw("\x88\x82\x00\x00\x00\x00\x03\xe8")
}
