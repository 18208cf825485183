package server

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"wsgate/internal/proxytest"
	"wsgate/internal/ws"
)

// h2Conn is one HTTP/2 connection to addr (TLS, ALPN h2) as x/net's
// client keeps it: every round trip on it is a stream of this connection.
func h2Conn(t *testing.T, addr string) *http2.ClientConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true, ServerName: "a.test", NextProtos: []string{"h2"}})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	cc, err := (&http2.Transport{}).NewClientConn(tc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

// dialWS opens a WebSocket over one HTTP/2 stream of cc (RFC 8441)
// with an extended CONNECT to path: the client's frames go through the
// request body pipe, the server's come on the response body.
func dialWS(t *testing.T, cc *http2.ClientConn, path string) *streamWS {
	t.Helper()
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("CONNECT", "https://a.test"+path, pr)
	req.Header.Set(":protocol", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	resp, err := cc.RoundTrip(req)
	if err != nil {
		t.Fatalf("extended CONNECT: %v", err)
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("extended CONNECT: status %d %q; want 200", resp.StatusCode, b)
	}
	t.Cleanup(func() { pw.Close(); resp.Body.Close() })
	return &streamWS{out: pw, br: bufio.NewReader(resp.Body)}
}

// h2WSConf is a TLS http2 address proxying /ws/ to back, with
// proxy_read_timeout read.
func h2WSConf(t *testing.T, addr, back, read string) string {
	dir := t.TempDir()
	cert, key := writeCert(t, dir, "a.test")
	return "events {}\nhttp {\n    access_log off;\n" +
		"    server { listen " + addr + " ssl http2; server_name a.test; ssl_certificate " + cert + "; ssl_certificate_key " + key + ";\n" +
		"        location /ws/ { proxy_pass http://" + back + "; proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection \"upgrade\"; proxy_read_timeout " + read + "; }\n" +
		"        location / { return 200 \"page\"; } }\n" +
		"}\n"
}

// TestH2WebSocket checks RFC 8441: many WebSockets on one HTTP/2
// connection, each bridged to an HTTP/1.1 Upgrade to the backend with a
// fresh Sec-WebSocket-Key, messages echoed both ways, an ordinary request
// on the same connection meanwhile, and a Close that ends the stream.
func TestH2WebSocket(t *testing.T) {
	back := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	a := proxytest.FreeAddr(t)
	start(t, h2WSConf(t, a, back.Addr, "60s"), Options{})
	cc := h2Conn(t, a)

	const n = 20
	socks := make([]*streamWS, n)
	for i := range socks {
		socks[i] = dialWS(t, cc, fmt.Sprintf("/ws/%d", i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i, s := range socks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 5 {
				msg := fmt.Sprintf("m%d-%d", i, j)
				if err := s.send(ws.OpText, []byte(msg)); err != nil {
					errs <- err
					return
				}
				op, p, err := s.recv()
				if err != nil || op != ws.OpText || string(p) != msg {
					errs <- fmt.Errorf("socket %d: got %v %q %v; want text %q", i, op, p, err, msg)
					return
				}
			}
		}()
	}
	// An ordinary request on the same connection while they run.
	req, _ := http.NewRequest("GET", "https://a.test/", nil)
	resp, err := cc.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "page" {
		t.Errorf("GET / on the WebSockets' connection: got %q; want \"page\"", body)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	rs := back.Requests()
	if len(rs) != n {
		t.Fatalf("backend saw %d handshakes; want %d", len(rs), n)
	}
	checkHandshakes(t, rs)

	// Close: the client's Close frame reaches the backend, whose Close
	// comes back, and the stream ends.
	socks[0].closeNormally(t, "END_STREAM")
}

// TestH2WebSocketReload: a reload that leaves the WebSocket's route as it
// was does not touch a tunnel on an HTTP/2 stream; one that changes it
// ends the tunnel with Close 1012 (Service Restart) on the stream, as
// over HTTP/1.1; a stop afterwards ends the connection.
func TestH2WebSocketReload(t *testing.T) {
	back := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	a := proxytest.FreeAddr(t)
	conf := h2WSConf(t, a, back.Addr, "60s")
	ts := start(t, conf, Options{})
	cc := h2Conn(t, a)
	s := dialWS(t, cc, "/ws/x")
	echo := func(msg string) {
		t.Helper()
		if err := s.send(ws.OpText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		op, p, err := s.recv()
		if err != nil || op != ws.OpText || string(p) != msg {
			t.Fatalf("echo of %q: got %v %q %v", msg, op, p, err)
		}
	}
	echo("before")
	// The same file with one more location elsewhere: the route is kept.
	ts.write(strings.Replace(conf, "location / {", "location /other { return 204; }\n        location / {", 1))
	if err := ts.s.Reload(); err != nil {
		t.Fatal(err)
	}
	echo("after an unrelated reload")
	// proxy_read_timeout changes: the route changed.
	ts.write(strings.Replace(conf, "proxy_read_timeout 60s", "proxy_read_timeout 90s", 1))
	if err := ts.s.Reload(); err != nil {
		t.Fatal(err)
	}
	op, p, err := s.recv()
	if err != nil || op != ws.OpClose || len(p) < 2 || int(p[0])<<8|int(p[1]) != 1012 {
		t.Fatalf("after the route changed: got %v %v %v; want Close 1012", op, p, err)
	}
	// The client answers; the stream ends.
	s.send(ws.OpClose, p[:2])
	s.out.Close()
	if _, err := io.ReadAll(s.br); err != nil {
		t.Errorf("after the closing handshake: %v; want the stream's end", err)
	}
	// The connection still serves new streams.
	s2 := dialWS(t, cc, "/ws/y")
	if err := s2.send(ws.OpText, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if op, p, err := s2.recv(); err != nil || string(p) != "new" {
		t.Fatalf("a new WebSocket after the reload: got %v %q %v", op, p, err)
	}
}

// TestH2WebSocketSlowReader: the tunnel writes to a WebSocket stream no
// more than the client's flow-control window grants (RFC 9113 6.9): with
// a 100-byte stream window, a 1000-byte echo arrives 100 bytes per
// WINDOW_UPDATE.
func TestH2WebSocketSlowReader(t *testing.T) {
	back := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	a := proxytest.FreeAddr(t)
	start(t, h2WSConf(t, a, back.Addr, "60s"), Options{})
	c, err := net.DialTimeout("tcp", a, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(tc, tc)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	io.WriteString(tc, http2.ClientPreface)
	fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 100})
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, f := range [][2]string{{":method", "CONNECT"}, {":protocol", "websocket"}, {":scheme", "https"}, {":authority", "a.test"}, {":path", "/ws/slow"}, {"sec-websocket-version", "13"}} {
		enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndHeaders: true}); err != nil {
		t.Fatal(err)
	}
	msg := bytes.Repeat([]byte("z"), 1000)
	h := ws.Header{Fin: true, Opcode: ws.OpBinary, Masked: true, MaskKey: [4]byte{9, 8, 7, 6}, Length: uint64(len(msg))}
	frame := ws.AppendHeader(nil, h)
	frame = append(frame, msg...)
	ws.Mask(frame[len(frame)-len(msg):], h.MaskKey, 0)
	sent := false
	got, granted := 0, 100
	want := len(msg) + 4 // the echo's frame: a 4-byte header, no mask
	for got < want {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("after %d bytes: %v", got, err)
		}
		switch f := f.(type) {
		case *http2.MetaHeadersFrame:
			if s := f.PseudoValue("status"); s != "200" {
				t.Fatalf("extended CONNECT: status %q; want 200", s)
			}
			if !sent {
				fr.WriteData(1, false, frame)
				sent = true
			}
		case *http2.DataFrame:
			got += len(f.Data())
			if got > granted {
				t.Fatalf("received %d bytes with a stream window of %d", got, granted)
			}
			if got == granted {
				granted += 100
				fr.WriteWindowUpdate(1, 100)
			}
		case *http2.RSTStreamFrame, *http2.GoAwayFrame:
			t.Fatalf("got %v", f)
		}
	}
}

// TestH2Shutdown: a graceful stop sends GOAWAY on an HTTP/2 connection
// and Close 1001 on its WebSocket stream; when the client answers, the
// connection ends and Shutdown returns without waiting out its bound.
func TestH2Shutdown(t *testing.T) {
	back := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	a := proxytest.FreeAddr(t)
	ts := start(t, h2WSConf(t, a, back.Addr, "60s"), Options{})
	cc := h2Conn(t, a)
	s := dialWS(t, cc, "/ws/x")
	s.echo(t, "hi")
	if err := <-s.answerShutdown(t, ts.s); err != nil {
		t.Errorf("Shutdown: %v; want a clean stop", err)
	}
	// GOAWAY: the client's connection takes no new requests.
	proxytest.Eventually(t, 5*time.Second, func() bool { return !cc.CanTakeNewRequest() }, "client connection still takes requests after the stop")
}

// TestH2ExtendedConnectOffered: SETTINGS_ENABLE_CONNECT_PROTOCOL is sent
// only on an address where a server proxies (where a WebSocket can go);
// elsewhere x/net's client refuses to send an extended CONNECT.
func TestH2ExtendedConnectOffered(t *testing.T) {
	a := proxytest.FreeAddr(t)
	dir := t.TempDir()
	cert, key := writeCert(t, dir, "a.test")
	start(t, "events {}\nhttp {\n    access_log off;\n"+
		"    server { listen "+a+" ssl http2; ssl_certificate "+cert+"; ssl_certificate_key "+key+"; location / { return 200 \"page\"; } }\n}\n", Options{})
	cc := h2Conn(t, a)
	req, _ := http.NewRequest("CONNECT", "https://a.test/ws/", nil)
	req.Header.Set(":protocol", "websocket")
	if resp, err := cc.RoundTrip(req); err == nil {
		resp.Body.Close()
		t.Fatalf("extended CONNECT to an address without a proxied location: status %d; want the client to refuse (not offered)", resp.StatusCode)
	}
}
