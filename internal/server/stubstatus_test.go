package server

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"wsgate/internal/connstats"
	"wsgate/internal/proxytest"
)

// TestStubStatusCounts checks stub_status's figures, and the
// $connections_* variables, against connections in every state nginx
// counts: idle ones that sent nothing, an idle keep-alive one, one in the
// middle of a request head, a request waiting for its upstream, an open
// WebSocket (writing until it closes, as ngx_http_upstream_upgrade keeps
// it) and the status request itself. When they end, every gauge is back
// at zero.
func TestStubStatusCounts(t *testing.T) {
	release := make(chan struct{})
	slow := proxytest.NewFunc(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		<-release
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
	})
	released := false
	releaseSlow := func() {
		if !released {
			released = true
			close(release)
		}
	}
	t.Cleanup(releaseSlow)
	echo := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	addr := proxytest.FreeAddr(t)
	conf := `events {}
http {
    access_log off;
    server {
        listen ` + addr + `;
        location = /status { stub_status on; }
        location = /vars { return 200 "$connections_active $connections_reading $connections_writing $connections_waiting"; }
        location /slow { proxy_pass http://` + slow.Addr + `; }
        location /ws { proxy_pass http://` + echo.Addr + `; proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; }
    }
}
`
	ts := start(t, conf, Options{})
	dial := func() net.Conn {
		t.Helper()
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(30 * time.Second))
		return c
	}
	waitFor := func(want connstats.Stats) {
		t.Helper()
		var got connstats.Stats
		proxytest.Eventually(t, 10*time.Second, func() bool {
			got = ts.s.Stats()
			return got == want
		}, "stats: got %+v; want %+v", &got, want)
	}

	// Two connections that sent nothing: waiting.
	dial()
	dial()
	// A keep-alive connection after one request: waiting.
	ka := dial()
	kr := bufio.NewReader(ka)
	io.WriteString(ka, "GET /vars HTTP/1.1\r\nHost: h\r\n\r\n")
	resp, err := http.ReadResponse(kr, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	// Itself writing, the other two waiting.
	if got, want := string(body), "3 0 1 2"; got != want {
		t.Errorf("$connections_*: got %q; want %q", got, want)
	}
	waitFor(connstats.Stats{Accepts: 3, Handled: 3, Requests: 1, Active: 3, Waiting: 3})

	// A request waiting for its upstream: writing.
	sc := dial()
	io.WriteString(sc, "GET /slow HTTP/1.1\r\nHost: h\r\n\r\n")
	// An open WebSocket: writing.
	wc := dial()
	io.WriteString(wc, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	wr := bufio.NewReader(wc)
	line, err := wr.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 101 ") {
		t.Fatalf("websocket handshake: got %q, %v; want a 101", line, err)
	}
	// Half a request head: reading.
	pc := dial()
	io.WriteString(pc, "GET /status HTTP/1.1\r\n")
	waitFor(connstats.Stats{Accepts: 6, Handled: 6, Requests: 4, Active: 6, Reading: 1, Writing: 2, Waiting: 3})

	// The status request on a connection of its own: writing too.
	st := dial()
	io.WriteString(st, "GET /status HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
	resp, err = http.ReadResponse(bufio.NewReader(st), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	want := "Active connections: 7 \nserver accepts handled requests\n 7 7 5 \nReading: 1 Writing: 3 Waiting: 3 \n"
	if string(body) != want {
		t.Errorf("stub_status body:\n got %q\nwant %q", body, want)
	}
	if got := resp.Header.Get("Content-Type"); got != "text/plain" {
		t.Errorf("Content-Type: got %q; want text/plain", got)
	}
	if got := resp.ContentLength; got != int64(len(want)) {
		t.Errorf("Content-Length: got %d; want %d", got, len(want))
	}

	// Everything ends: the tunnel counts its own end.
	releaseSlow()
	for _, c := range []net.Conn{sc, wc, pc, ka} {
		c.Close()
	}
	var got connstats.Stats
	proxytest.Eventually(t, 10*time.Second, func() bool {
		got = ts.s.Stats()
		// The two connections that sent nothing are still open.
		return got.Active == 2 && got.Reading == 0 && got.Writing == 0
	}, "stats after the ends: got %+v; want 2 active, none reading or writing", &got)
	if got.Requests != 5 || got.Accepts != 7 {
		t.Errorf("counters: got %+v; want 7 accepts, 5 requests", got)
	}
}

// TestStubStatusMethods: stub_status answers GET and HEAD (with the
// head only) and refuses other methods with 405, as nginx does.
func TestStubStatusMethods(t *testing.T) {
	addr := proxytest.FreeAddr(t)
	start(t, "events {}\nhttp {\n    access_log off;\n    server {\n        listen "+addr+";\n        stub_status;\n    }\n}\n", Options{})
	for _, tc := range []struct {
		method string
		status int
		body   bool
	}{
		{"GET", 200, true},
		{"HEAD", 200, false},
		{"POST", 405, true},
		{"DELETE", 405, true},
	} {
		t.Run(tc.method, func(t *testing.T) {
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			fmt.Fprintf(c, "%s /any HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", tc.method)
			resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: tc.method})
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Errorf("status: got %d; want %d", resp.StatusCode, tc.status)
			}
			if got := len(body) > 0; got != tc.body {
				t.Errorf("body: got %q; want one: %v", body, tc.body)
			}
			if tc.status == 200 && tc.body && !strings.HasPrefix(string(body), "Active connections: 1 \n") {
				t.Errorf("body: got %q; want Active connections: 1", body)
			}
		})
	}
}

// TestStubStatusClosedCountedOut: a connection closed after its response
// is counted out before the client sees the close, as nginx frees the
// request and counts the connection's end before close(2). A client that
// reads each response to its end, keeps its socket open and connects
// again finds only itself active and writing (nginx-tests stub_status.t
// read 2 and 2 in $connections_active and $connections_writing).
func TestStubStatusClosedCountedOut(t *testing.T) {
	addr := proxytest.FreeAddr(t)
	start(t, "events {}\nhttp {\n    access_log off;\n    server {\n        listen "+addr+";\n"+
		"        return 200 \"$connections_active $connections_reading $connections_writing $connections_waiting\";\n    }\n}\n", Options{})
	for i, head := range []string{
		"GET / HTTP/1.0\r\n\r\n",
		"GET / HTTP/1.0\r\nHost: h\r\n\r\n",
		"HEAD / HTTP/1.0\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
		"GET / HTTP/1.0\r\n\r\n",
	} {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		// Left open until the test ends: only the server's close counts.
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, head)
		resp, err := io.ReadAll(c)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if strings.HasPrefix(head, "HEAD") {
			continue
		}
		if !strings.HasSuffix(string(resp), "\r\n\r\n1 0 1 0") {
			t.Errorf("request %d %q: got %q; want the body 1 0 1 0", i, head, resp)
		}
	}
}
