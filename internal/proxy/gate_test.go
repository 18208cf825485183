package proxy_test

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"wsgate/internal/proxytest"
	"wsgate/internal/proxytest/gatetest"
	"wsgate/internal/server"
)

// These tests run the whole serving path in process (gatetest: server.Start
// with a configuration written to a temporary directory, a listener on a
// free loopback port) with proxytest backends behind it. Requests are raw bytes
// on real connections, so what is checked is what a client and a backend
// see on the wire.

// gate is a running wsgate for one test.
type gate struct {
	t    *testing.T
	addr string
	dir  string
	srv  *server.Server
}

// startGate serves the http{} block body conf. In conf, "{{listen}}" is
// the listening address, "{{dir}}" the prefix directory and each
// "{{NAME}}" is replaced by the backend address given in backends.
// Without an access_log directive the block gets "access_log off;" so
// that tests do not write to stdout.
func startGate(t *testing.T, conf string, backends map[string]string) *gate {
	t.Helper()
	var pairs []string
	for name, addr := range backends {
		pairs = append(pairs, "{{"+name+"}}", addr)
	}
	conf = strings.NewReplacer(pairs...).Replace(conf)
	if !strings.Contains(conf, "access_log") {
		conf = "access_log off;\n" + conf
	}
	g := gatetest.Start(t, gatetest.HTTP(conf), gatetest.Options{Version: "1.2.3"})
	return &gate{t: t, addr: g.Addr, dir: g.Dir, srv: g.Server}
}

// startBenchGate is startGate for benchmarks: conf's "{{b}}" is backend.
func startBenchGate(b *testing.B, conf, backend string) string {
	b.Helper()
	conf = "access_log off;\n" + strings.ReplaceAll(conf, "{{b}}", backend)
	return gatetest.Start(b, gatetest.HTTP(conf), gatetest.Options{Version: "1.2.3"}).Addr
}

// dial opens a client connection with a generous deadline.
func (g *gate) dial() *client {
	g.t.Helper()
	c, err := net.Dial("tcp", g.addr)
	if err != nil {
		g.t.Fatalf("dialing wsgate: %v", err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	g.t.Cleanup(func() { c.Close() })
	return &client{t: g.t, c: c, br: bufio.NewReader(c)}
}

// do sends raw (LF line ends become CRLF) on a new connection and reads
// one response.
func (g *gate) do(raw, method string) *proxytest.Response {
	g.t.Helper()
	c := g.dial()
	c.send(raw)
	return c.read(method)
}

// get is do for "GET path" with Host h.
func (g *gate) get(path string) *proxytest.Response {
	g.t.Helper()
	return g.do("GET "+path+" HTTP/1.1\nHost: h\n\n", "GET")
}

type client struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

// send writes raw with LF line ends turned into CRLF.
func (c *client) send(raw string) {
	c.t.Helper()
	if _, err := io.WriteString(c.c, crlfLines(raw)); err != nil {
		c.t.Fatalf("writing request: %v", err)
	}
}

func (c *client) sendRaw(raw string) {
	c.t.Helper()
	if _, err := io.WriteString(c.c, raw); err != nil {
		c.t.Fatalf("writing request: %v", err)
	}
}

func (c *client) read(method string) *proxytest.Response {
	c.t.Helper()
	r, err := proxytest.ReadResponse(c.br, method)
	if err != nil {
		c.t.Fatalf("reading response: %v", err)
	}
	return r
}

// closed reports whether the server closed the connection within d
// without sending anything more.
func (c *client) closed(d time.Duration) bool {
	c.c.SetReadDeadline(time.Now().Add(d))
	defer c.c.SetReadDeadline(time.Now().Add(20 * time.Second))
	b, err := c.br.ReadByte()
	if err == nil {
		c.t.Errorf("got byte %q after the response; want none", b)
		return false
	}
	return err == io.EOF || strings.Contains(err.Error(), "reset")
}

func crlfLines(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// headLines renders a response's header lines without Date and Server, one
// per line, for comparisons of order.
func headLines(r *proxytest.Response) string {
	var b strings.Builder
	for _, h := range r.Headers {
		if h.Name == "Date" || h.Name == "Server" {
			continue
		}
		b.WriteString(h.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func header(r *proxytest.Request, name string) string {
	v, _ := r.Get(name)
	return v
}

func waitOne(t *testing.T, b *proxytest.Backend) proxytest.Request {
	t.Helper()
	reqs := b.WaitRequests(1, 5*time.Second)
	if len(reqs) == 0 {
		t.Fatalf("backend got no request")
	}
	return reqs[len(reqs)-1]
}

// upgradeWS sends a WebSocket handshake for /ws on c and reads wsgate's
// 101 head, failing the test on anything else; the reader holds what
// follows the head.
func upgradeWS(t *testing.T, c net.Conn) *bufio.Reader {
	t.Helper()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: "+benchKey+"\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(c)
	line, err := br.ReadSlice('\n')
	if err != nil || !strings.HasPrefix(string(line), "HTTP/1.1 101 ") {
		t.Fatalf("got %q, %v; want a 101", line, err)
	}
	for len(line) != 2 {
		if line, err = br.ReadSlice('\n'); err != nil {
			t.Fatalf("reading 101 head: %v", err)
		}
	}
	return br
}
