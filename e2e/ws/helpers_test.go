// Package wse2e holds wsgate's end-to-end WebSocket tests: the seed tutorial's
// configuration served in-process by reload.Start (gatetest), loopback backends from
// proxytest or raw ones where wire bytes matter, and real clients (Go's
// coder/websocket, Node's ws, Python's websockets).
package wse2e

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"wsgate/internal/proxytest"
	"wsgate/internal/proxytest/gatetest"
	"wsgate/internal/server"
)

// seedConf is the seed tutorial's server block (nginx-semantics §9) with its
// ports replaced: {{LISTEN}} for wsgate, {{WS}} for the WebSocket backend,
// {{APP}} for the plain one, {{READ_TIMEOUT}} for /ws/'s proxy_read_timeout
// (86400, the seed's, unless given). {{EXTRA_WS}} adds lines to location /ws/,
// {{EXTRA_HTTP}} lines to the http block, {{LOCS}} more locations.
const seedConf = `events {}
http {
    log_format wsfmt '$request|$status|$body_bytes_sent|$ws_duration|$ws_bytes_in|$ws_bytes_out|$ws_closed_by|$ws_close_code|$upstream_addr';
    access_log {{LOG}} wsfmt;
    error_log {{ERRLOG}};
    {{EXTRA_HTTP}}
    server {
        listen {{LISTEN}};
        server_name example.com;
        location /ws/ {
            proxy_pass http://{{WS}};
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_set_header Host $host;
            proxy_read_timeout {{READ_TIMEOUT}};
            {{EXTRA_WS}}
        }
        {{LOCS}}
        location / {
            proxy_pass http://{{APP}};
        }
    }
}
`

// gate is a wsgate serving a configuration in-process.
type gate struct {
	*gatetest.Gate
	t       testing.TB
	srv     *server.Server
	addr    string // 127.0.0.1:PORT wsgate listens on
	logPath string // access log
	vars    map[string]string
}

// confText fills the placeholders of tmpl from vars; missing ones become "".
func confText(tmpl string, vars map[string]string) string {
	out := tmpl
	for _, k := range []string{"LISTEN", "WS", "APP", "LOG", "ERRLOG", "EXTRA_WS", "EXTRA_HTTP", "LOCS", "READ_TIMEOUT"} {
		out = strings.ReplaceAll(out, "{{"+k+"}}", vars[k])
	}
	return out
}

// startGate serves tmpl (with vars filled in; LISTEN, LOG and ERRLOG are
// a free address and files in the gate's directory unless given) until
// the test ends.
func startGate(t testing.TB, tmpl string, vars map[string]string) *gate {
	t.Helper()
	v := map[string]string{
		"LISTEN":       "{{listen}}",
		"LOG":          "{{dir}}/access.log",
		"ERRLOG":       "{{dir}}/error.log",
		"READ_TIMEOUT": "86400",
		"APP":          "127.0.0.1:9", // discard port: refused
	}
	for k, val := range vars {
		if val != "" {
			v[k] = val
		}
	}
	var opts gatetest.Options
	if testing.Verbose() {
		opts = gatetest.Options{Log: os.Stderr, Level: slog.LevelWarn}
	}
	gg := gatetest.Start(t, confText(tmpl, v), opts)
	return &gate{
		Gate: gg, t: t, srv: gg.Server, addr: gg.Addr, vars: v,
		logPath: strings.ReplaceAll(v["LOG"], "{{dir}}", gg.Dir),
	}
}

// rewrite replaces the configuration file with tmpl filled from the gate's
// vars overridden by over; it does not reload.
func (g *gate) rewrite(tmpl string, over map[string]string) {
	g.t.Helper()
	v := map[string]string{}
	for k, val := range g.vars {
		v[k] = val
	}
	for k, val := range over {
		v[k] = val
	}
	g.Write(confText(tmpl, v))
}

// url is ws://wsgate/path.
func (g *gate) url(path string) string { return "ws://" + g.addr + path }

// logLines returns the access log's lines.
func (g *gate) logLines() []string {
	b, _ := os.ReadFile(g.logPath)
	s := strings.TrimRight(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// waitLog waits up to timeout for a log line containing sub and returns
// it, or "" when none came.
func (g *gate) waitLog(sub string, timeout time.Duration) string {
	var found string
	proxytest.Poll(timeout, func() bool {
		for _, l := range g.logLines() {
			if strings.Contains(l, sub) {
				found = l
				return true
			}
		}
		return false
	})
	return found
}

// dial opens a coder/websocket client through the gate.
func dial(t testing.TB, url string, opts *websocket.DialOptions) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dialing %s: %v (status %d)", url, err, status)
	}
	c.SetReadLimit(64 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// rawConn is a client connection speaking bytes.
type rawConn struct {
	net.Conn
	br *bufio.Reader
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dialing %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawConn{Conn: c, br: bufio.NewReader(c)}
}

func (c *rawConn) send(t testing.TB, s string) {
	t.Helper()
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatalf("writing: %v", err)
	}
}

func (c *rawConn) response(t testing.TB, method string) *proxytest.Response {
	t.Helper()
	r, err := proxytest.ReadResponse(c.br, method)
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	return r
}

// handshake is a browser's WebSocket handshake (nginx-semantics §9.1).
func handshake(path string) string {
	return "GET " + path + " HTTP/1.1\r\n" +
		"Host: example.com\r\n" +
		"Connection: Upgrade\r\n" +
		"Pragma: no-cache\r\n" +
		"Cache-Control: no-cache\r\n" +
		"User-Agent: Mozilla/5.0 test\r\n" +
		"Upgrade: websocket\r\n" +
		"Origin: http://example.com\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"Accept-Encoding: gzip, deflate, br\r\n" +
		"Accept-Language: en-US,en;q=0.9\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
		"\r\n"
}

// frame builds one client frame (masked with a fixed key).
func frame(fin bool, op byte, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	out := []byte{b0}
	n := len(payload)
	switch {
	case n < 126:
		out = append(out, 0x80|byte(n))
	case n < 1<<16:
		out = append(out, 0x80|126, byte(n>>8), byte(n))
	default:
		out = append(out, 0x80|127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	key := [4]byte{1, 2, 3, 4}
	out = append(out, key[:]...)
	for i, c := range payload {
		out = append(out, c^key[i%4])
	}
	return out
}

// readFrame reads one unmasked server frame: opcode and payload.
func readFrame(br *bufio.Reader) (fin bool, op byte, payload []byte, err error) {
	var h [2]byte
	if _, err = io.ReadFull(br, h[:]); err != nil {
		return
	}
	fin, op = h[0]&0x80 != 0, h[0]&0x0f
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var e [2]byte
		if _, err = io.ReadFull(br, e[:]); err != nil {
			return
		}
		n = uint64(e[0])<<8 | uint64(e[1])
	case 127:
		var e [8]byte
		if _, err = io.ReadFull(br, e[:]); err != nil {
			return
		}
		n = 0
		for _, c := range e {
			n = n<<8 | uint64(c)
		}
	}
	if h[1]&0x80 != 0 {
		var k [4]byte
		if _, err = io.ReadFull(br, k[:]); err != nil {
			return
		}
		payload = make([]byte, n)
		if _, err = io.ReadFull(br, payload); err != nil {
			return
		}
		for i := range payload {
			payload[i] ^= k[i%4]
		}
		return
	}
	payload = make([]byte, n)
	_, err = io.ReadFull(br, payload)
	return
}

// closeCode returns the code in a Close payload (1005 when empty).
func closeCode(p []byte) int {
	if len(p) < 2 {
		return 1005
	}
	return int(p[0])<<8 | int(p[1])
}

// wsBackend starts a proxytest WebSocket echo backend.
func wsBackend(t testing.TB, opts proxytest.WSOptions) *proxytest.Backend {
	return proxytest.NewWSEcho(t, opts)
}

// parallelDo runs f(i) for i in [0, n) on up to width goroutines.
func parallelDo(n, width int, f func(i int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, width)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			f(i)
		}(i)
	}
	wg.Wait()
}

func itoa(i int) string { return strconv.Itoa(i) }

func ioReadFull(r io.Reader, b []byte) (int, error) { return io.ReadFull(r, b) }
