package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"wsgate/internal/proxytest"
	"wsgate/internal/ws"
)

// h3Conf serves a.test on addr over TLS and QUIC: /ws/ proxies
// WebSockets to wsBack, /up proxies to back, / returns a page with
// $server_protocol.
func h3Conf(t *testing.T, addr, wsBack, back, extra string) string {
	dir := t.TempDir()
	cert, key := writeCert(t, dir, "a.test")
	return "events {}\nhttp {\n    access_log off;\n" +
		"    server { listen " + addr + " ssl; listen " + addr + " quic; server_name a.test;\n" +
		"        ssl_certificate " + cert + "; ssl_certificate_key " + key + "; client_max_body_size 1m;" + extra + "\n" +
		"        location /ws/ { proxy_pass http://" + wsBack + "; proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection \"upgrade\"; }\n" +
		"        location /up { proxy_pass http://" + back + "; proxy_http_version 1.1; }\n" +
		"        location / { add_header X-Proto $server_protocol; add_header X-H3 $http3; add_header Alt-Svc 'h3=\":443\"'; return 200 \"page\"; } }\n" +
		"}\n"
}

func h3TLS() *tls.Config {
	return &tls.Config{InsecureSkipVerify: true, ServerName: "a.test", NextProtos: []string{http3.NextProtoH3}}
}

// h3Dial opens one QUIC connection to addr and waits for the server's
// SETTINGS.
func h3Dial(t *testing.T, addr string) *http3.ClientConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	qc, err := quic.DialAddr(ctx, addr, h3TLS(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { qc.CloseWithError(0, "") })
	cc := (&http3.Transport{}).NewClientConn(qc)
	select {
	case <-cc.ReceivedSettings():
	case <-ctx.Done():
		t.Fatal("no SETTINGS from the server")
	}
	return cc
}

// dialH3WS opens a WebSocket over one HTTP/3 stream of cc (RFC 9220)
// with an extended CONNECT to path.
func dialH3WS(t *testing.T, cc *http3.ClientConn, path string) *streamWS {
	t.Helper()
	if !cc.Settings().EnableExtendedConnect {
		t.Fatal("the server does not offer SETTINGS_ENABLE_CONNECT_PROTOCOL")
	}
	rs, err := cc.OpenRequestStream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("CONNECT", "https://a.test"+path, nil)
	req.Proto = "websocket"
	req.Header.Set("Sec-WebSocket-Version", "13")
	if err := rs.SendRequestHeader(req); err != nil {
		t.Fatal(err)
	}
	resp, err := rs.ReadResponse()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("extended CONNECT: %v %v; want 200", resp, err)
	}
	rs.SetDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() { rs.CancelRead(0); rs.Close() })
	return &streamWS{out: rs, br: bufio.NewReader(rs)}
}

// TestH3 serves HTTP/3 on "listen ... quic" beside the TCP address, with
// quic-go's client: a page (HTTP/3.0, the user's Alt-Svc), a POST body
// over the stream window without a length relayed chunked, 413 from
// client_max_body_size, and WebSockets over extended CONNECT (RFC 9220)
// bridged to HTTP/1.1 Upgrades with fresh keys, echoing, kept across a
// reload that leaves their route alone, and ended by a Close.
func TestH3(t *testing.T) {
	wsBack := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	back := proxytest.NewRecording(t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	a := proxytest.FreeAddr(t)
	ts := start(t, h3Conf(t, a, wsBack.Addr, back.Addr, ""), Options{})
	tr := &http3.Transport{TLSClientConfig: h3TLS(),
		Dial: func(ctx context.Context, _ string, tc *tls.Config, qc *quic.Config) (*quic.Conn, error) {
			return quic.DialAddr(ctx, a, tc, qc)
		}}
	t.Cleanup(func() { tr.Close() })
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	resp, err := c.Get("https://a.test/")
	if err != nil {
		t.Fatalf("GET over HTTP/3: %v\n%s", err, ts.log.String())
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "page" || resp.Header.Get("X-Proto") != "HTTP/3.0" || resp.Header.Get("X-H3") != "h3" ||
		resp.Header.Get("Alt-Svc") != `h3=":443"` || resp.Header.Get("Server") == "" {
		t.Fatalf("GET: %d %q %v", resp.StatusCode, b, resp.Header)
	}

	body := bytes.Repeat([]byte("0123456789abcdef"), 300<<10/16)
	for _, tt := range []struct {
		name   string
		size   int
		status int
	}{{"body", len(body), 200}, {"too large", 2 << 20, 413}} {
		back.Reset()
		sent := body
		if tt.size != len(body) {
			sent = bytes.Repeat([]byte("z"), tt.size)
		}
		req, _ := http.NewRequest("POST", "https://a.test/up", io.NopCloser(bytes.NewReader(sent)))
		req.ContentLength = -1
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Fatalf("%s: status %d; want %d", tt.name, resp.StatusCode, tt.status)
		}
		if tt.status == 200 {
			rs := back.WaitRequests(1, 5*time.Second)
			if len(rs) != 1 || !bytes.Equal(rs[0].Body, body) || !rs[0].Chunked {
				t.Fatalf("%s: the backend got %d requests; want one with the body chunked", tt.name, len(rs))
			}
		}
	}

	cc := h3Dial(t, a)
	socks := []*streamWS{dialH3WS(t, cc, "/ws/1"), dialH3WS(t, cc, "/ws/2")}
	for _, s := range socks {
		s.echo(t, "before")
	}
	checkHandshakes(t, wsBack.Requests())

	// A reload that leaves /ws/ alone keeps the tunnels.
	ts.write(h3Conf(t, a, wsBack.Addr, back.Addr, " keepalive_timeout 70s;"))
	if err := ts.s.Reload(); err != nil {
		t.Fatal(err)
	}
	for _, s := range socks {
		s.echo(t, "after the reload")
	}
	dialH3WS(t, cc, "/ws/3").echo(t, "new")

	socks[0].closeNormally(t, "FIN")
}

// TestH3Shutdown: a graceful stop sends Close 1001 on a WebSocket over
// HTTP/3 and GOAWAY on its connection; once the client has answered and
// ended the stream, the connection ends and Shutdown returns without
// waiting out its bound, with no connection left counted active.
func TestH3Shutdown(t *testing.T) {
	wsBack := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	back := proxytest.NewRecording(t, "")
	a := proxytest.FreeAddr(t)
	ts := start(t, h3Conf(t, a, wsBack.Addr, back.Addr, ""), Options{})
	cc := h3Dial(t, a)
	s := dialH3WS(t, cc, "/ws/x")
	s.echo(t, "hi")
	done := s.answerShutdown(t, ts.s)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Shutdown: %v; want a clean stop", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Shutdown still waits after the client ended its stream")
	}
	// The QUIC connection's worker counts itself out as it returns, which
	// may come just after Shutdown has seen its streams end.
	if !proxytest.Poll(5*time.Second, func() bool { return ts.s.Stats().Active == 0 }) {
		t.Errorf("after the stop: %d connections active; want 0", ts.s.Stats().Active)
	}
}

// TestH3Settings: quic_retry on (the client goes through a Retry) and
// http3_max_concurrent_streams 1: a second request stream waits while a
// WebSocket holds the first, and opens once it has ended.
func TestH3Settings(t *testing.T) {
	wsBack := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	back := proxytest.NewRecording(t, "")
	a := proxytest.FreeAddr(t)
	start(t, h3Conf(t, a, wsBack.Addr, back.Addr, " quic_retry on; http3_max_concurrent_streams 1;"), Options{})
	cc := h3Dial(t, a)
	s := dialH3WS(t, cc, "/ws/x")
	s.echo(t, "hi")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	if _, err := cc.OpenRequestStream(ctx); err == nil {
		t.Fatal("a second stream opened beside the WebSocket; want it held at the limit of 1")
	}
	cancel()
	if err := s.send(ws.OpClose, []byte{0x03, 0xe8}); err != nil {
		t.Fatal(err)
	}
	if op, _, err := s.recv(); err != nil || op != ws.OpClose {
		t.Fatalf("Close: %v %v", op, err)
	}
	s.out.Close()
	s.br.ReadByte()
	dialH3WS(t, cc, "/ws/y").echo(t, "next")
}
