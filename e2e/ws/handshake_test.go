package wse2e

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// upgradeReply is a backend's 101 for the §9.1 key, with a Server header
// the proxy must drop and an X-Backend it must pass.
const upgradeReply = "HTTP/1.1 101 Switching Protocols\r\n" +
	"Upgrade: websocket\r\n" +
	"Connection: Upgrade\r\n" +
	"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
	"Sec-WebSocket-Protocol: chat\r\n" +
	"Sec-WebSocket-Extensions: permessage-deflate\r\n" +
	"Server: backend\r\n" +
	"X-Backend: ws\r\n" +
	"\r\n"

// seedUpstreamBytes is what nginx 1.22.1 sends the backend for the browser
// handshake through the seed's /ws/ location (nginx-semantics §9.1).
const seedUpstreamBytes = "GET /ws/chat?room=1 HTTP/1.1\r\n" +
	"Upgrade: websocket\r\n" +
	"Connection: upgrade\r\n" +
	"Host: example.com\r\n" +
	"Pragma: no-cache\r\n" +
	"Cache-Control: no-cache\r\n" +
	"User-Agent: Mozilla/5.0 test\r\n" +
	"Origin: http://example.com\r\n" +
	"Sec-WebSocket-Version: 13\r\n" +
	"Accept-Encoding: gzip, deflate, br\r\n" +
	"Accept-Language: en-US,en;q=0.9\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
	"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
	"\r\n"

// TestSeedHandshakeBytes sends the browser handshake of §9.1 and checks the
// backend receives nginx's bytes exactly, the client gets the backend's
// 101 headers, and the tunnel echoes a frame.
func TestSeedHandshakeBytes(t *testing.T) {
	be := proxytest.NewRecording(t, upgradeReply)
	g := startGate(t, seedConf, map[string]string{"WS": be.Addr})
	c := dialRaw(t, g.addr)
	c.send(t, handshake("/ws/chat?room=1"))
	r := c.response(t, "GET")
	if r.Status != 101 {
		t.Fatalf("got status %d; want 101\n%s", r.Status, r.Raw)
	}
	reqs := be.WaitRequests(1, 5*time.Second)
	if len(reqs) != 1 {
		t.Fatalf("got %d requests at the backend; want 1", len(reqs))
	}
	if got := string(reqs[0].Raw); got != seedUpstreamBytes {
		t.Errorf("backend got:\n%s\nwant (nginx 1.22.1):\n%s", got, seedUpstreamBytes)
	}
	for _, want := range []proxytest.Header{
		{Name: "Connection", Value: "upgrade"},
		{Name: "Upgrade", Value: "websocket"},
		{Name: "Sec-WebSocket-Accept", Value: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
		{Name: "Sec-WebSocket-Protocol", Value: "chat"},
		{Name: "Sec-WebSocket-Extensions", Value: "permessage-deflate"},
		{Name: "X-Backend", Value: "ws"},
	} {
		if v, ok := r.Get(want.Name); !ok || v != want.Value {
			t.Errorf("client header %s: got %q (present %v); want %q", want.Name, v, ok, want.Value)
		}
	}
	if v, _ := r.Get("Server"); v == "backend" {
		t.Errorf("client header Server: got the backend's %q; want the proxy's own", v)
	}
	// The backend is a byte echo after its 101.
	f := frame(true, 1, []byte("hello"))
	c.send(t, string(f))
	got := make([]byte, len(f))
	if _, err := ioReadFull(c, got); err != nil || !bytes.Equal(got, f) {
		t.Fatalf("echo through tunnel: got %q, %v; want %q", got, err, f)
	}
}

// TestSeedHandshakeMatchesNginx runs real nginx and wsgate on the same seed
// configuration against the same recording backend and compares the bytes
// each sends upstream for the browser handshake.
func TestSeedHandshakeMatchesNginx(t *testing.T) {
	be := proxytest.NewRecording(t, upgradeReply)
	listen := proxytest.StartNginx(t, proxytest.NginxHTTP(fmt.Sprintf(`
    server {
        listen %[1]s;
        server_name example.com;
        location /ws/ {
            proxy_pass http://%[2]s;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_set_header Host $host;
            proxy_read_timeout 86400;
        }
        location / { proxy_pass http://127.0.0.1:9; }
    }`, proxytest.FreeAddr(t), be.Addr))).Addr
	g := startGate(t, seedConf, map[string]string{"WS": be.Addr})

	send := func(addr string) string {
		be.Reset()
		c := dialRaw(t, addr)
		c.send(t, handshake("/ws/chat?room=1"))
		if r := c.response(t, "GET"); r.Status != 101 {
			t.Fatalf("%s: got status %d; want 101", addr, r.Status)
		}
		reqs := be.WaitRequests(1, 5*time.Second)
		if len(reqs) == 0 {
			t.Fatalf("%s: nothing reached the backend", addr)
		}
		c.Close()
		return string(reqs[0].Raw)
	}
	fromNginx := send(listen)
	fromGate := send(g.addr)
	if fromGate != fromNginx {
		t.Errorf("backend bytes differ\nwsgate:\n%s\nnginx:\n%s", fromGate, fromNginx)
	}
	if fromNginx != seedUpstreamBytes {
		t.Errorf("nginx no longer sends the documented bytes:\n%s", fromNginx)
	}
}

// TestAutoUpgrade: a location without proxy_http_version 1.1 and the
// Upgrade/Connection lines still upgrades (wsgate's documented difference
// from nginx); "ws_upgrade off;" gives nginx's behaviour: HTTP/1.0,
// Connection: close, no Upgrade, so no tunnel.
func TestAutoUpgrade(t *testing.T) {
	for _, tc := range []struct {
		name       string
		extra      string
		wantStatus int
		wantLine   string
		wantUp     bool
	}{
		{"default on", "", 101, "GET /plain/x HTTP/1.1", true},
		{"ws_upgrade off", "ws_upgrade off;", 426, "GET /plain/x HTTP/1.0", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be := wsBackend(t, proxytest.WSOptions{})
			g := startGate(t, seedConf, map[string]string{
				"WS":   be.Addr,
				"LOCS": "location /plain/ { proxy_pass http://" + be.Addr + "; " + tc.extra + " }",
			})
			c := dialRaw(t, g.addr)
			c.send(t, handshake("/plain/x"))
			r := c.response(t, "GET")
			if r.Status != tc.wantStatus {
				t.Fatalf("got status %d; want %d\n%s", r.Status, tc.wantStatus, r.Raw)
			}
			reqs := be.WaitRequests(1, 5*time.Second)
			if len(reqs) != 1 {
				t.Fatalf("got %d backend requests; want 1", len(reqs))
			}
			if reqs[0].Line != tc.wantLine {
				t.Errorf("backend request line: got %q; want %q", reqs[0].Line, tc.wantLine)
			}
			_, hasUp := reqs[0].Get("Upgrade")
			if hasUp != tc.wantUp {
				t.Errorf("backend got Upgrade header: %v; want %v\n%s", hasUp, tc.wantUp, reqs[0].HeadText())
			}
			if tc.wantStatus == 101 {
				c.send(t, string(frame(true, 1, []byte("hi"))))
				_, op, p, err := readFrame(c.br)
				if err != nil || op != 1 || string(p) != "hi" {
					t.Fatalf("echo: got op %d %q %v; want text \"hi\"", op, p, err)
				}
			}
		})
	}
}

// TestNonUpgradeAnswerStaysHTTP: a backend that answers an upgrade with 200
// or 400 gets its response to the client and the client connection stays
// HTTP: a second request on it is answered as HTTP and reaches the backend
// as a normal request (no blind tunnel, no smuggling).
func TestNonUpgradeAnswerStaysHTTP(t *testing.T) {
	for _, status := range []int{200, 400} {
		t.Run(itoa(status), func(t *testing.T) {
			be := proxytest.NewNonUpgrade(t, status)
			g := startGate(t, seedConf, map[string]string{"WS": be.Addr})
			c := dialRaw(t, g.addr)
			c.send(t, handshake("/ws/chat"))
			r := c.response(t, "GET")
			if r.Status != status {
				t.Fatalf("got status %d; want %d", r.Status, status)
			}
			if want := fmt.Sprintf("no upgrade: %d\n", status); string(r.Body) != want {
				t.Errorf("body: got %q; want %q", r.Body, want)
			}
			// The smuggling attempt: a request line that a blind tunnel
			// would carry to the backend inside the first connection.
			c.send(t, "GET /ws/second HTTP/1.1\r\nHost: example.com\r\n\r\n")
			r2 := c.response(t, "GET")
			if r2.Status != status {
				t.Fatalf("second request: got status %d; want %d (answered as HTTP)", r2.Status, status)
			}
			reqs := be.WaitRequests(2, 5*time.Second)
			if len(reqs) != 2 {
				t.Fatalf("got %d backend requests; want 2", len(reqs))
			}
			second := reqs[1]
			if second.Line != "GET /ws/second HTTP/1.1" {
				t.Errorf("second backend request line: got %q; want %q", second.Line, "GET /ws/second HTTP/1.1")
			}
			if v, _ := second.Get("Connection"); v != "upgrade" {
				// The seed sets Connection "upgrade" on every request of /ws/.
				t.Errorf("second request Connection: got %q; want %q", v, "upgrade")
			}
			if _, ok := second.Get("Sec-WebSocket-Key"); ok {
				t.Errorf("second request carries the first one's handshake headers:\n%s", second.HeadText())
			}
		})
	}
}

// TestUnsolicited101 : an upstream 101 to a request without Upgrade is a
// 502 (nginx would relay the 101 and leave the client hanging, §3.3).
func TestUnsolicited101(t *testing.T) {
	be := proxytest.NewUnsolicited101(t)
	g := startGate(t, seedConf, map[string]string{"WS": be.Addr})
	c := dialRaw(t, g.addr)
	c.send(t, "GET /ws/x HTTP/1.1\r\nHost: example.com\r\n\r\n")
	r := c.response(t, "GET")
	if r.Status != 502 {
		t.Fatalf("got status %d; want 502", r.Status)
	}
	if strings.Contains(string(r.Raw), proxytest.Unsolicited101Tail) {
		t.Errorf("the upstream's bytes after its 101 reached the client")
	}
}

// TestH2CUpgrade: "Upgrade: h2c" is not tunnelled unless the location has
// "ws_allow_upgrade h2c;".
func TestH2CUpgrade(t *testing.T) {
	const h2cReq = "GET /ws/h HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"
	for _, tc := range []struct {
		name      string
		extra     string
		wantUp    bool
		wantStats int
	}{
		{"not allowed", "", false, 502},
		{"allowed", "ws_allow_upgrade h2c;", true, 101},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be := proxytest.NewRecording(t, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
			g := startGate(t, seedConf, map[string]string{"WS": be.Addr, "EXTRA_WS": tc.extra})
			c := dialRaw(t, g.addr)
			c.send(t, h2cReq)
			r := c.response(t, "GET")
			reqs := be.WaitRequests(1, 5*time.Second)
			if len(reqs) != 1 {
				t.Fatalf("got %d backend requests; want 1", len(reqs))
			}
			if r.Status != tc.wantStats {
				t.Fatalf("got status %d; want %d", r.Status, tc.wantStats)
			}
			if tc.wantUp {
				c.send(t, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
				got := make([]byte, 24)
				if _, err := ioReadFull(c, got); err != nil || string(got) != "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" {
					t.Fatalf("tunnel echo: got %q, %v", got, err)
				}
			}
		})
	}
}

// TestMalformedHandshake: handshakes wsgate answers itself; nothing reaches
// the backend.
func TestMalformedHandshake(t *testing.T) {
	base := func(method, drop, version string) string {
		s := method + " /ws/x HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
		if drop != "key" {
			s += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		}
		if version != "" {
			s += "Sec-WebSocket-Version: " + version + "\r\n"
		}
		if method == "POST" {
			s += "Content-Length: 0\r\n"
		}
		return s + "\r\n"
	}
	for _, tc := range []struct {
		name        string
		req         string
		wantStatus  int
		wantVersion bool
	}{
		{"missing key", base("GET", "key", "13"), 400, false},
		{"bad key", strings.Replace(base("GET", "", "13"), "dGhlIHNhbXBsZSBub25jZQ==", "short", 1), 400, false},
		{"version 8", base("GET", "", "8"), 426, true},
		{"missing version", base("GET", "", ""), 426, true},
		{"POST", base("POST", "", "13"), 400, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be := wsBackend(t, proxytest.WSOptions{})
			g := startGate(t, seedConf, map[string]string{"WS": be.Addr})
			c := dialRaw(t, g.addr)
			c.send(t, tc.req)
			r := c.response(t, "GET")
			if r.Status != tc.wantStatus {
				t.Fatalf("got status %d; want %d\n%s", r.Status, tc.wantStatus, r.Raw)
			}
			v, _ := r.Get("Sec-WebSocket-Version")
			if tc.wantVersion && v != "13" {
				t.Errorf("Sec-WebSocket-Version: got %q; want \"13\"", v)
			}
			// Nothing to wait for: the backend must stay without a
			// connection for a while after the answer.
			proxytest.Consistently(t, 50*time.Millisecond, func() bool { return be.Accepted() == 0 },
				"backend accepted a connection; want none")
		})
	}
}
