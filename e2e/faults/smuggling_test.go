package faults_test

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// TestSmuggling sends requests whose framing two parsers could read
// differently. Each must be refused by wsgate with the status nginx 1.22
// answers, reach the backend not at all (the recording backend records no
// request), and leave wsgate serving the next client.
func TestSmuggling(t *testing.T) {
	be := proxytest.NewRecording(t, "")
	g := startGate(t, "", fmt.Sprintf("location / { proxy_pass http://%s; }", be.Addr))

	cases := []struct {
		name string
		raw  string
		want int
	}{
		{"cl and te", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		{"te and cl", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n", 400},
		{"duplicate cl same", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nabcd", 400},
		{"duplicate cl differ", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nabcd", 400},
		{"cl list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4, 4\r\n\r\nabcd", 400},
		{"cl sign", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +4\r\n\r\nabcd", 400},
		{"te not chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501},
		{"te identity", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", 501},
		{"te on http/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		{"bare cr in value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: one\rTransfer-Encoding: chunked\r\n\r\n", 400},
		{"bare cr in request line", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"nul in value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: a\x00b\r\n\r\n", 400},
		{"space before colon", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\n", 400},
		{"duplicate host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
		{"no host on 1.1", "GET / HTTP/1.1\r\nX-A: a\r\n\r\n", 400},
		// No line feed: the method bytes alone must be refused, at once.
		{"tls client hello", "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 400},
		{"lower-case method, no line end", "get / HTTP/1.1", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			be.Reset()
			c, br := g.dial()
			io.WriteString(c, tc.raw)
			resp, err := proxytest.ReadResponse(br, "GET")
			if err != nil {
				t.Fatalf("reading response: %v", err)
			}
			if resp.Status != tc.want {
				t.Fatalf("got status %d; want %d\n%s", resp.Status, tc.want, resp.Raw)
			}
			// A refused head ends the connection: nothing after it is read
			// as a request.
			expectClosed(t, c, br, 10*time.Second)
			if got := be.Requests(); len(got) != 0 {
				t.Fatalf("backend got %d requests; want none: %q", len(got), got[0].Raw)
			}
			g.mustServe("/after", 200)
		})
	}
}

// TestObsFold sends a folded header line (RFC 9112 5.2 obs-fold) hiding a
// Transfer-Encoding. nginx 1.22 answers 400 ("client sent invalid header
// line": a line may not begin with a blank), and so must wsgate, with
// nothing reaching the backend.
func TestObsFold(t *testing.T) {
	be := proxytest.NewRecording(t, "")
	g := startGate(t, "", fmt.Sprintf("location / { proxy_pass http://%s; }", be.Addr))
	for _, fold := range []string{" ", "\t"} {
		raw := "POST /fold HTTP/1.1\r\nHost: a\r\nX-A: one\r\n" + fold + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello"
		resp, c, br := g.roundTrip(raw, "POST")
		if resp.Status != 400 {
			t.Fatalf("fold %q: got status %d; want 400", fold, resp.Status)
		}
		expectClosed(t, c, br, 10*time.Second)
	}
	if reqs := be.Requests(); len(reqs) != 0 {
		t.Fatalf("backend got %d requests; want none: %q", len(reqs), reqs[0].Raw)
	}
	g.mustServe("/after", 200)
}

// TestBadChunkedFraming sends chunked bodies whose framing wsgate rejects
// (a bare LF where CRLF must end a chunk line: wsgate is stricter than nginx
// here, see internal/http1; a size that is not hex; a missing chunk end).
// wsgate streams request bodies, so the backend may see the head of such a
// request, but never a complete request: the upstream connection is
// dropped before the body ends, and the recording backend, which records
// only complete requests, records nothing. The client gets 400 and the
// connection closes.
func TestBadChunkedFraming(t *testing.T) {
	be := proxytest.NewRecording(t, "")
	g := startGate(t, "", fmt.Sprintf("location / { proxy_pass http://%s; }", be.Addr))

	cases := []struct {
		name, body string
	}{
		{"bare lf after size", "5\nhello\r\n0\r\n\r\n"},
		{"bare lf after data", "5\r\nhello\n0\r\n\r\n"},
		{"size not hex", "zz\r\nhello\r\n0\r\n\r\n"},
		{"data longer than size", "3\r\nhello\r\n0\r\n\r\n"},
		{"size overflow", "ffffffffffffffffff\r\nhello\r\n0\r\n\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			be.Reset()
			c, br := g.dial()
			io.WriteString(c, "POST /chunk HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"+tc.body+"GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n")
			resp, err := proxytest.ReadResponse(br, "POST")
			if err != nil {
				t.Fatalf("reading response: %v", err)
			}
			if resp.Status != 400 {
				t.Fatalf("got status %d; want 400\n%s", resp.Status, resp.Raw)
			}
			expectClosed(t, c, br, 10*time.Second)
			// Nothing to wait for: the backend must stay without a
			// request for a while after the connection ended.
			proxytest.Consistently(t, 100*time.Millisecond, func() bool { return len(be.Requests()) == 0 },
				"backend recorded a request; want none")
			g.mustServe("/after", 200)
		})
	}
}

// TestNonUpgradeThenRequest is the upgrade-based smuggling attempt: the
// client asks for a WebSocket and pipelines a second request right after
// it; the backend refuses the upgrade (426, 400, 200). wsgate must answer
// the refusal as an ordinary response and read the next bytes as the next
// HTTP request, which the backend must receive as its own request, parsed,
// never as raw bytes in a tunnel.
func TestNonUpgradeThenRequest(t *testing.T) {
	for _, status := range []int{426, 400, 200} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			be := proxytest.NewNonUpgrade(t, status)
			g := startGate(t, "", fmt.Sprintf(`location / {
            proxy_pass http://%s;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
        }`, be.Addr))
			c, br := g.dial()
			io.WriteString(c, "GET /ws/chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
				"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"+
				"GET /second HTTP/1.1\r\nHost: a\r\nX-Second: yes\r\n\r\n")
			r1, err := proxytest.ReadResponse(br, "GET")
			if err != nil {
				t.Fatalf("reading first response: %v", err)
			}
			if r1.Status != status {
				t.Fatalf("first response: got %d; want %d", r1.Status, status)
			}
			r2, err := proxytest.ReadResponse(br, "GET")
			if err != nil {
				t.Fatalf("reading second response: %v", err)
			}
			if r2.Status != status {
				t.Fatalf("second response: got %d; want %d (the backend's answer to a parsed request)", r2.Status, status)
			}
			reqs := be.WaitRequests(2, 5*time.Second)
			if len(reqs) != 2 {
				t.Fatalf("backend got %d requests; want 2", len(reqs))
			}
			if reqs[0].Target != "/ws/chat" || strings.Contains(string(reqs[0].Raw), "/second") {
				t.Fatalf("first backend request: got %q", reqs[0].Raw)
			}
			if reqs[1].Line != "GET /second HTTP/1.1" {
				t.Fatalf("second backend request line: got %q; want %q", reqs[1].Line, "GET /second HTTP/1.1")
			}
			if v, _ := reqs[1].Get("X-Second"); v != "yes" {
				t.Fatalf("second backend request lost its headers:\n%s", reqs[1].Raw)
			}
			if _, up := reqs[1].Get("Upgrade"); up {
				t.Fatalf("second backend request carries an Upgrade it never had:\n%s", reqs[1].Raw)
			}
		})
	}
}

// TestH2CNotTunnelled sends "Upgrade: h2c" to a location that allows only
// WebSocket upgrades (no ws_allow_upgrade). A backend that answers with an
// ordinary response leaves the connection an HTTP connection; a backend
// that switches protocols anyway gets the client a 502, and no tunnel is
// made.
func TestH2CNotTunnelled(t *testing.T) {
	const h2c = "GET /h2 HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n"
	seedHeaders := `proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";`

	t.Run("ordinary answer", func(t *testing.T) {
		be := proxytest.NewRecording(t, "")
		g := startGate(t, "", fmt.Sprintf("location / { proxy_pass http://%s; %s }", be.Addr, seedHeaders))
		c, br := g.dial()
		io.WriteString(c, h2c+"GET /next HTTP/1.1\r\nHost: a\r\n\r\n")
		for i, want := range []int{200, 200} {
			resp, err := proxytest.ReadResponse(br, "GET")
			if err != nil {
				t.Fatalf("response %d: %v", i+1, err)
			}
			if resp.Status != want {
				t.Fatalf("response %d: got %d; want %d", i+1, resp.Status, want)
			}
		}
		reqs := be.WaitRequests(2, 5*time.Second)
		if len(reqs) != 2 || reqs[1].Line != "GET /next HTTP/1.1" {
			t.Fatalf("backend requests: got %d; want the h2c request and GET /next as two requests", len(reqs))
		}
		if g.srv.Tunnels().Len() != 0 {
			t.Fatalf("got %d live tunnels; want 0", g.srv.Tunnels().Len())
		}
	})
	t.Run("backend switches anyway", func(t *testing.T) {
		be := proxytest.NewUnsolicited101(t)
		g := startGate(t, "", fmt.Sprintf("location / { proxy_pass http://%s; %s }", be.Addr, seedHeaders))
		resp, _, _ := g.roundTrip(h2c, "GET")
		if resp.Status != 502 {
			t.Fatalf("got status %d; want 502", resp.Status)
		}
		if strings.Contains(string(resp.Raw), proxytest.Unsolicited101Tail) {
			t.Fatalf("client saw bytes of the backend's switched protocol:\n%s", resp.Raw)
		}
		if g.srv.Tunnels().Len() != 0 {
			t.Fatalf("got %d live tunnels; want 0", g.srv.Tunnels().Len())
		}
	})
}

// TestUnreadBodyNotParsed: a request whose body wsgate does not forward (an
// upstream that refuses, a return, an upstream that answers before reading)
// carries a second request inside its body. That body must be discarded or
// the connection closed: the embedded request must never be parsed as one,
// and the request that really follows must be served as itself.
func TestUnreadBodyNotParsed(t *testing.T) {
	good := proxytest.NewRecording(t, "")
	early := proxytest.NewRecordingFunc(t, func(*proxytest.Request) []byte {
		return []byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\n\r\nno\n")
	})
	g := startGate(t, "", fmt.Sprintf(`location /refused/ { proxy_pass http://%s; }
        location = /ret { return 403; }
        location /early/ { proxy_pass http://%s; }
        location / { proxy_pass http://%s; }`, proxytest.FreeAddr(t), early.Addr, good.Addr))

	const smuggled = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"
	chunk := fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(smuggled), smuggled)
	cases := []struct {
		name, path, framing, body string
		want                      int
	}{
		{"refused, length", "/refused/x", fmt.Sprintf("Content-Length: %d\r\n", len(smuggled)), smuggled, 502},
		{"refused, chunked", "/refused/x", "Transfer-Encoding: chunked\r\n", chunk, 502},
		{"return, length", "/ret", fmt.Sprintf("Content-Length: %d\r\n", len(smuggled)), smuggled, 403},
		{"return, chunked", "/ret", "Transfer-Encoding: chunked\r\n", chunk, 403},
		{"return, expect without 100", "/ret", fmt.Sprintf("Expect: 100-continue\r\nContent-Length: %d\r\n", len(smuggled)), smuggled, 403},
		{"upstream answers 403, length", "/early/x", fmt.Sprintf("Content-Length: %d\r\n", len(smuggled)), smuggled, 403},
		{"upstream answers 403, chunked", "/early/x", "Transfer-Encoding: chunked\r\n", chunk, 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			good.Reset()
			c, br := g.dial()
			io.WriteString(c, "POST "+tc.path+" HTTP/1.1\r\nHost: a\r\n"+tc.framing+"\r\n"+tc.body+"GET /next HTTP/1.1\r\nHost: a\r\n\r\n")
			r1, err := proxytest.ReadResponse(br, "POST")
			if err != nil {
				t.Fatalf("first response: %v", err)
			}
			if r1.Status != tc.want {
				t.Fatalf("first response: got %d; want %d", r1.Status, tc.want)
			}
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			r2, err := proxytest.ReadResponse(br, "GET")
			if err == nil && r2.Status != 200 {
				t.Fatalf("second response: got %d; want 200 from GET /next (or a closed connection)", r2.Status)
			}
			onlyNext := func() bool {
				for _, r := range good.Requests() {
					if r.Target != "/next" {
						return false
					}
				}
				return true
			}
			// Nothing to wait for: no other request may reach the
			// backend for a while after the answers.
			proxytest.Consistently(t, 50*time.Millisecond, onlyNext, "backend got a request other than GET /next")
			if err == nil && len(good.Requests()) != 1 {
				t.Fatalf("second response 200 but the backend got %d requests; want GET /next", len(good.Requests()))
			}
			t.Logf("after %d: second request %s", tc.want, map[bool]string{true: "served", false: "not served (connection closed)"}[err == nil])
		})
	}
	g.mustServe("/after", 200)
}
