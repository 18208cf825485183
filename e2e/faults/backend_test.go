package faults_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"wsgate/internal/proxytest"
	"wsgate/internal/ws"
)

// TestBackendFaults points one location at a misbehaving backend and checks
// the status nginx answers (502 refused, broken or garbled, 504 timed out),
// and that a good location keeps serving.
func TestBackendFaults(t *testing.T) {
	cases := []struct {
		name  string
		start func(t *testing.T) string
		req   string
		want  int
	}{
		{"refused", func(t *testing.T) string { return proxytest.FreeAddr(t) }, "", 502},
		{"reset on accept", func(t *testing.T) string { return proxytest.NewAbrupt(t, proxytest.ResetOnAccept).Addr }, "", 502},
		{"closes without answer", func(t *testing.T) string { return proxytest.NewAbrupt(t, proxytest.CloseAfterRequest).Addr }, "", 502},
		{"never answers", func(t *testing.T) string { return proxytest.NewSlow(t, 0, "").Addr }, "", 504},
		{"never reads", func(t *testing.T) string { return proxytest.NewSilent(t).Addr }, "", 504},
		{"garbage", func(t *testing.T) string { return proxytest.NewGarbage(t, nil).Addr }, "", 502},
		{"unsolicited 101", func(t *testing.T) string { return proxytest.NewUnsolicited101(t).Addr }, "", 502},
		{"websocket handshake never answered", func(t *testing.T) string { return proxytest.NewSlow(t, 0, "").Addr },
			"GET /bad/ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 504},
		{"head too big", rawBackend("HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("b", 16<<10) + "\r\nContent-Length: 0\r\n\r\n"), "", 502},
		{"content-length and chunked", rawBackend("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), "", 502},
		{"two content-lengths", rawBackend("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello\n"), "", 502},
		{"bad status line", rawBackend("HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n"), "", 502},
		{"http/0.9 answer", rawBackend("hello\n"), "", 502},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			good := proxytest.NewRecording(t, "")
			bad := tc.start(t)
			g := startGate(t, "", fmt.Sprintf(`location /bad/ {
            proxy_pass http://%s;
            proxy_read_timeout 1s;
            proxy_connect_timeout 2s;
        }
        location / { proxy_pass http://%s; }`, bad, good.Addr))
			raw := tc.req
			if raw == "" {
				raw = "GET /bad/x HTTP/1.1\r\nHost: a\r\n\r\n"
			}
			start := time.Now()
			resp, _, _ := g.roundTrip(raw, "GET")
			if resp.Status != tc.want {
				t.Fatalf("got status %d; want %d\n%s", resp.Status, tc.want, resp.Raw)
			}
			if d := time.Since(start); d > 8*time.Second {
				t.Fatalf("answer took %v; want it within proxy_read_timeout 1s and a margin", d)
			}
			if g.srv.Tunnels().Len() != 0 {
				t.Fatalf("got %d live tunnels; want 0", g.srv.Tunnels().Len())
			}
			g.mustServe("/good", 200)
		})
	}
}

// TestBackendResetMidResponse: the backend announces 100 body bytes, sends
// 10 and resets. The head is already sent, so the client must see the
// connection end with the body truncated (nginx closes it), never a
// complete response.
func TestBackendResetMidResponse(t *testing.T) {
	bad := proxytest.NewAbrupt(t, proxytest.ResetMidResponse)
	good := proxytest.NewRecording(t, "")
	g := startGate(t, "", fmt.Sprintf("location /bad/ { proxy_pass http://%s; }\nlocation / { proxy_pass http://%s; }", bad.Addr, good.Addr))
	c, br := g.dial()
	io.WriteString(c, "GET /bad/x HTTP/1.1\r\nHost: a\r\n\r\n")
	_, err := proxytest.ReadResponse(br, "GET")
	if err == nil {
		t.Fatalf("got a complete response; want a truncated body and a closed connection")
	}
	expectClosed(t, c, br, 10*time.Second)
	g.mustServe("/good", 200)
}

// TestBackendDiesMidWebSocket: the upstream dies inside a message (a frame
// header promising 10 bytes, 3 sent, then RST), and, separately, a healthy
// echo backend is shut down while tunnels are idle. The client must learn
// promptly: a Close 1014 Bad Gateway where wsgate can place one at a frame
// boundary of the client's stream, otherwise the connection closes.
func TestBackendDiesMidWebSocket(t *testing.T) {
	t.Run("mid message", func(t *testing.T) {
		bad := proxytest.NewAbrupt(t, proxytest.ResetMidMessage)
		good := proxytest.NewRecording(t, "")
		g := startGate(t, "", wsLocations(bad.Addr, good.Addr))
		w := g.dialWS("/ws/x")
		start := time.Now()
		code, closed := w.closeOutcome(10 * time.Second)
		if !closed {
			t.Fatalf("client connection still open 10s after the backend died")
		}
		if code != 0 && code != ws.CloseBadGateway {
			t.Fatalf("got Close %d; want 1014 or no Close", code)
		}
		t.Logf("client learned after %v (Close %d)", time.Since(start), code)
		if !proxytest.Poll(10*time.Second, func() bool { return g.srv.Tunnels().Len() == 0 }) {
			t.Fatalf("got %d live tunnels; want 0", g.srv.Tunnels().Len())
		}
		g.mustServe("/good", 200)
	})
	t.Run("between messages", func(t *testing.T) {
		echo := proxytest.NewWSEcho(t, proxytest.WSOptions{})
		good := proxytest.NewRecording(t, "")
		g := startGate(t, "", wsLocations(echo.Addr, good.Addr))
		var clients []*wsClient
		for i := 0; i < 3; i++ {
			w := g.dialWS("/ws/x")
			w.echo(t, fmt.Sprint("hello ", i))
			clients = append(clients, w)
		}
		start := time.Now()
		echo.Close()
		for i, w := range clients {
			code, closed := w.closeOutcome(10 * time.Second)
			if !closed {
				t.Fatalf("client %d still open 10s after the backend died", i)
			}
			t.Logf("client %d: Close %d", i, code)
			if code != ws.CloseBadGateway && code != ws.CloseGoingAway {
				t.Fatalf("client %d: got Close %d; want 1014 (or the backend's own 1001)", i, code)
			}
		}
		t.Logf("clients learned after %v", time.Since(start))
		if !proxytest.Poll(10*time.Second, func() bool { return g.srv.Tunnels().Len() == 0 }) {
			t.Fatalf("got %d live tunnels; want 0", g.srv.Tunnels().Len())
		}
		g.mustServe("/good", 200)
	})
}

// rawBackend starts a recording backend that answers every request with
// response, byte for byte.
func rawBackend(response string) func(t *testing.T) string {
	return func(t *testing.T) string { return proxytest.NewRecording(t, response).Addr }
}

// TestBackendOverlongBody: the backend writes more than its Content-Length,
// and the surplus looks like a second response. The client must get the
// first response only, and its next request must get the backend's real
// answer, never the surplus bytes (response splitting).
func TestBackendOverlongBody(t *testing.T) {
	const fake = "HTTP/1.1 200 OK\r\nContent-Length: 8\r\nX-Fake: yes\r\n\r\nspoofed\n"
	be := proxytest.NewRecordingFunc(t, func(r *proxytest.Request) []byte {
		return []byte("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nfirst\n" + fake)
	})
	g := startGate(t, fmt.Sprintf("upstream be { server %s; keepalive 4; }", be.Addr), `location / {
            proxy_pass http://be;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }`)
	c, br := g.dial()
	for i := 0; i < 3; i++ {
		fmt.Fprintf(c, "GET /r%d HTTP/1.1\r\nHost: a\r\n\r\n", i)
		resp, err := proxytest.ReadResponse(br, "GET")
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		if _, fake := resp.Get("X-Fake"); fake || string(resp.Body) != "first\n" {
			t.Fatalf("response %d: got %q; want the backend's real answer \"first\"", i, resp.Raw)
		}
	}
}

// TestBackendBrokenChunkedBody: the backend's chunked body breaks off
// (connection closed after a chunk, or a chunk-size line of garbage). The
// client must never receive a last chunk that would make the truncated
// body look complete: its connection must end inside the body.
func TestBackendBrokenChunkedBody(t *testing.T) {
	const head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
	for _, tc := range []struct{ name, tail string }{
		{"closed after a chunk", ""},
		{"garbage size line", "zz\r\nmore\r\n0\r\n\r\n"},
		{"chunk shorter than its size", "10\r\nshort"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := proxytest.NewGarbage(t, []byte(head+tc.tail))
			good := proxytest.NewRecording(t, "")
			g := startGate(t, "", fmt.Sprintf("location /bad/ { proxy_pass http://%s; proxy_http_version 1.1; }\nlocation / { proxy_pass http://%s; }", bad.Addr, good.Addr))
			c, br := g.dial()
			io.WriteString(c, "GET /bad/x HTTP/1.1\r\nHost: a\r\n\r\n")
			resp, err := proxytest.ReadResponse(br, "GET")
			if err == nil {
				t.Fatalf("got a complete response %q; want the body cut off", resp.Body)
			}
			expectClosed(t, c, br, 10*time.Second)
			g.mustServe("/good", 200)
		})
	}
}

// TestBackendNeverReadsBody: the backend accepts and reads nothing while the
// client uploads 8 MiB. wsgate's writes stall and proxy_send_timeout (1s)
// ends the attempt with 504, without waiting for the whole body.
func TestBackendNeverReadsBody(t *testing.T) {
	bad := proxytest.NewSilent(t)
	good := proxytest.NewRecording(t, "")
	g := startGate(t, "", fmt.Sprintf(`location /bad/ {
            proxy_pass http://%s;
            proxy_send_timeout 1s;
            proxy_read_timeout 1s;
            client_max_body_size 16m;
        }
        location / { proxy_pass http://%s; }`, bad.Addr, good.Addr))
	const size = 8 << 20
	c, br := g.dial()
	go func() {
		fmt.Fprintf(c, "POST /bad/up HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n", size)
		c.Write(make([]byte, size)) // ends when wsgate closes
	}()
	start := time.Now()
	resp, err := proxytest.ReadResponse(br, "POST")
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	if resp.Status != 504 {
		t.Fatalf("got status %d; want 504", resp.Status)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("504 after %v; want it soon after proxy_send_timeout 1s", d)
	}
	g.mustServe("/good", 200)
}

// TestBackendWritesWhileIdle: a keepalive upstream connection on which the
// backend writes a whole unsolicited response while it sits idle in the
// pool. Reusing it would answer the next request with those bytes
// (response desync); wsgate must drop such a connection (as nginx's
// ngx_http_upstream_keepalive_close_handler does) and answer from a fresh
// one.
func TestBackendWritesWhileIdle(t *testing.T) {
	var evil atomic.Int64 // unsolicited responses written
	be := proxytest.NewFunc(t, func(c net.Conn, br *bufio.Reader) {
		c.SetDeadline(time.Now().Add(20 * time.Second))
		for n := 0; ; n++ {
			req, err := proxytest.ReadRequest(br)
			if err != nil {
				return
			}
			body := strings.TrimPrefix(req.Target, "/")
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
			if n == 0 {
				// The case is bytes that come while the connection
				// sits idle in the pool, after wsgate read the answer.
				time.Sleep(100 * time.Millisecond)
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nX-Evil: yes\r\n\r\nevil")
				evil.Add(1)
			}
		}
	})
	g := startGate(t, fmt.Sprintf("upstream be { server %s; keepalive 4; }", be.Addr), `location / {
            proxy_pass http://be;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }`)
	for i, path := range []string{"first", "second", "third"} {
		resp, _, _ := g.roundTrip("GET /"+path+" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", "GET")
		if string(resp.Body) != path {
			t.Fatalf("request %d: got body %q; want %q (the backend's answer to it)", i, resp.Body, path)
		}
		proxytest.Eventually(t, 10*time.Second, func() bool { return evil.Load() == int64(i+1) },
			"request %d: the backend wrote no unsolicited response on its connection", i)
	}
}
