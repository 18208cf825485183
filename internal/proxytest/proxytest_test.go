package proxytest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

const ioTimeout = 10 * time.Second

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatalf("dialing %s: %v", addr, err)
	}
	c.SetDeadline(time.Now().Add(ioTimeout))
	t.Cleanup(func() { c.Close() })
	return c
}

// closedByPeer reports whether c reaches EOF or a reset within the bound.
func closedByPeer(c net.Conn, br *bufio.Reader) bool {
	c.SetReadDeadline(time.Now().Add(ioTimeout))
	_, err := br.ReadByte()
	return err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
}

func TestFreeAddr(t *testing.T) {
	addr := FreeAddr(t)
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("got %q; want 127.0.0.1:PORT", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("binding the free address %s: %v", addr, err)
	}
	ln.Close()
	if p := FreePort(t); p <= 0 || p > 65535 {
		t.Fatalf("got port %d; want 1..65535", p)
	}
}

func TestRecordingRecordsExactly(t *testing.T) {
	tests := []struct {
		name      string
		raw       string
		wantLine  string
		wantHdrs  []Header
		wantBody  string
		chunked   bool
		wantClose bool
	}{
		{
			name:     "HTTP/1.1 case and order kept",
			raw:      "GET /a/../b%2Fc//d?q=%20 HTTP/1.1\r\nhost: X\r\nX-Dup: 1\r\nUPGRADE: websocket\r\nX-Dup:  2 \r\n\r\n",
			wantLine: "GET /a/../b%2Fc//d?q=%20 HTTP/1.1",
			wantHdrs: []Header{{"host", "X"}, {"X-Dup", "1"}, {"UPGRADE", "websocket"}, {"X-Dup", "2"}},
		},
		{
			name:      "HTTP/1.0 body by length, then close",
			raw:       "POST /p HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc",
			wantLine:  "POST /p HTTP/1.0",
			wantHdrs:  []Header{{"Content-Length", "3"}},
			wantBody:  "abc",
			wantClose: true,
		},
		{
			name:     "chunked body decoded",
			raw:      "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n",
			wantLine: "POST /c HTTP/1.1",
			wantHdrs: []Header{{"Host", "h"}, {"Transfer-Encoding", "chunked"}},
			wantBody: "abcde",
			chunked:  true,
		},
		{
			name:     "bare LF line ends",
			raw:      "GET / HTTP/1.1\nHost: h\n\n",
			wantLine: "GET / HTTP/1.1",
			wantHdrs: []Header{{"Host", "h"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := NewRecording(t, "")
			c := dial(t, b.Addr)
			if _, err := io.WriteString(c, tc.raw); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			resp, err := ReadResponse(br, "GET")
			if err != nil {
				t.Fatalf("reading response: %v", err)
			}
			if string(resp.Raw) != DefaultResponse {
				t.Errorf("got response %q; want %q", resp.Raw, DefaultResponse)
			}
			reqs := b.WaitRequests(1, ioTimeout)
			if len(reqs) != 1 {
				t.Fatalf("got %d requests; want 1", len(reqs))
			}
			r := reqs[0]
			if r.Line != tc.wantLine {
				t.Errorf("got line %q; want %q", r.Line, tc.wantLine)
			}
			if !reflect.DeepEqual(r.Headers, tc.wantHdrs) {
				t.Errorf("got headers %q; want %q", r.Headers, tc.wantHdrs)
			}
			if string(r.Body) != tc.wantBody || r.Chunked != tc.chunked {
				t.Errorf("got body %q chunked=%v; want %q chunked=%v", r.Body, r.Chunked, tc.wantBody, tc.chunked)
			}
			if string(r.Raw) != tc.raw {
				t.Errorf("got raw %q; want %q", r.Raw, tc.raw)
			}
			if r.Conn != 1 || r.Seq != 1 {
				t.Errorf("got conn %d seq %d; want 1 1", r.Conn, r.Seq)
			}
			if tc.wantClose && !closedByPeer(c, br) {
				t.Errorf("connection stayed open; want closed after an HTTP/1.0 request")
			}
		})
	}
}

func TestRecordingKeepAliveAndConnections(t *testing.T) {
	b := NewRecording(t, "")
	c1 := dial(t, b.Addr)
	br1 := bufio.NewReader(c1)
	for i := 0; i < 3; i++ {
		io.WriteString(c1, "GET /k HTTP/1.1\r\nHost: h\r\n\r\n")
		if _, err := ReadResponse(br1, "GET"); err != nil {
			t.Fatalf("request %d on a kept-alive connection: %v", i+1, err)
		}
	}
	c2 := dial(t, b.Addr)
	io.WriteString(c2, "GET /other HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /second HTTP/1.0\r\n\r\n")
	br2 := bufio.NewReader(c2)
	for i := 0; i < 2; i++ {
		if _, err := ReadResponse(br2, "GET"); err != nil {
			t.Fatalf("HTTP/1.0 keep-alive request %d: %v", i+1, err)
		}
	}
	if !closedByPeer(c2, br2) {
		t.Errorf("HTTP/1.0 connection open after a request without keep-alive; want closed")
	}
	reqs := b.WaitRequests(5, ioTimeout)
	var got []string
	for _, r := range reqs {
		got = append(got, r.Target+"@"+string(rune('0'+r.Conn))+"."+string(rune('0'+r.Seq)))
	}
	want := []string{"/k@1.1", "/k@1.2", "/k@1.3", "/other@2.1", "/second@2.2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v; want %v", got, want)
	}
	if b.Accepted() != 2 {
		t.Errorf("got %d accepted; want 2", b.Accepted())
	}
}

func TestRecordingClosesAfterUnframedOrCloseResponse(t *testing.T) {
	for _, resp := range []string{
		"HTTP/1.1 200 OK\r\n\r\nto-eof",
		"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
	} {
		b := NewRecording(t, resp)
		c := dial(t, b.Addr)
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
		got, err := io.ReadAll(c)
		if err != nil {
			t.Fatalf("reading to close: %v", err)
		}
		if string(got) != resp {
			t.Errorf("got %q; want %q then close", got, resp)
		}
	}
}

func TestRecording101Echoes(t *testing.T) {
	key := "dGhlIHNhbXBsZSBub25jZQ=="
	if got, want := AcceptKey(key), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; got != want {
		t.Fatalf("AcceptKey: got %q; want %q (RFC 6455 §1.3)", got, want)
	}
	head := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
	b := NewRecording(t, head)
	c := dial(t, b.Addr)
	io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\npipelined")
	br := bufio.NewReader(c)
	resp, err := ReadResponse(br, "GET")
	if err != nil || resp.Status != 101 {
		t.Fatalf("got %v, %v; want a 101", resp, err)
	}
	io.WriteString(c, "+more")
	buf := make([]byte, len("pipelined+more"))
	if _, err := io.ReadFull(br, buf); err != nil || string(buf) != "pipelined+more" {
		t.Errorf("got echo %q, %v; want %q", buf, err, "pipelined+more")
	}
}

func TestWSEcho(t *testing.T) {
	tests := []struct {
		name        string
		opts        WSOptions
		path        string
		dialOpts    websocket.DialOptions
		wantProto   string
		wantDeflate bool
	}{
		{name: "plain echo", path: "/ws/echo"},
		{
			name:      "subprotocol negotiated",
			opts:      WSOptions{Subprotocols: []string{"chat", "superchat"}},
			path:      "/ws",
			dialOpts:  websocket.DialOptions{Subprotocols: []string{"superchat"}},
			wantProto: "superchat",
		},
		{
			name:        "permessage-deflate",
			opts:        WSOptions{Compression: websocket.CompressionContextTakeover},
			path:        "/ws",
			dialOpts:    websocket.DialOptions{CompressionMode: websocket.CompressionContextTakeover},
			wantDeflate: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := NewWSEcho(t, tc.opts)
			ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
			defer cancel()
			opts := tc.dialOpts
			opts.HTTPHeader = map[string][]string{"X-Mixed-Case": {"v"}}
			c, resp, err := websocket.Dial(ctx, "ws://"+b.Addr+tc.path+"?q=1", &opts)
			if err != nil {
				t.Fatalf("dialing: %v", err)
			}
			defer c.CloseNow()
			if c.Subprotocol() != tc.wantProto {
				t.Errorf("got subprotocol %q; want %q", c.Subprotocol(), tc.wantProto)
			}
			ext := resp.Header.Get("Sec-WebSocket-Extensions")
			if strings.Contains(ext, "permessage-deflate") != tc.wantDeflate {
				t.Errorf("got extensions %q; want deflate=%v", ext, tc.wantDeflate)
			}
			msg := strings.Repeat("echo me ", 100)
			if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
				t.Fatal(err)
			}
			typ, p, err := c.Read(ctx)
			if err != nil || typ != websocket.MessageText || string(p) != msg {
				t.Fatalf("got %v %q %v; want the text echoed", typ, p, err)
			}
			reqs := b.WaitRequests(1, ioTimeout)
			if len(reqs) != 1 {
				t.Fatalf("got %d handshakes; want 1", len(reqs))
			}
			r := reqs[0]
			if want := "GET " + tc.path + "?q=1 HTTP/1.1"; r.Line != want {
				t.Errorf("got line %q; want %q", r.Line, want)
			}
			if !IsUpgrade(&r) {
				t.Errorf("handshake %q not recognised as an upgrade", r.HeadText())
			}
			if !strings.Contains(string(r.Raw), "\r\nX-Mixed-Case: v\r\n") {
				t.Errorf("raw handshake %q lacks the header as sent", r.Raw)
			}
			if got := b.Messages(); len(got) != 1 || string(got[0]) != msg {
				t.Errorf("got %d recorded messages; want the one sent", len(got))
			}
		})
	}
}

func TestWSEchoBroadcast(t *testing.T) {
	b := NewWSEcho(t, WSOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	var conns []*websocket.Conn
	for i := 0; i < 3; i++ {
		c, _, err := websocket.Dial(ctx, "ws://"+b.Addr+BroadcastPath, nil)
		if err != nil {
			t.Fatalf("dialing client %d: %v", i, err)
		}
		defer c.CloseNow()
		conns = append(conns, c)
	}
	if n := len(b.WaitRequests(3, ioTimeout)); n != 3 {
		t.Fatalf("got %d handshakes; want 3", n)
	}
	// A client joins the hub right after its handshake is answered.
	Eventually(t, ioTimeout, func() bool { return b.hub.size() == 3 }, "not all three clients joined the broadcast hub")
	if err := conns[0].Write(ctx, websocket.MessageText, []byte("hi all")); err != nil {
		t.Fatal(err)
	}
	for i, c := range conns {
		_, p, err := c.Read(ctx)
		if err != nil || string(p) != "hi all" {
			t.Errorf("client %d: got %q, %v; want %q", i, p, err, "hi all")
		}
	}
}

func TestWSEchoRefusesPlainRequest(t *testing.T) {
	b := NewWSEcho(t, WSOptions{})
	c := dial(t, b.Addr)
	io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: h\r\n\r\n")
	resp, err := ReadResponse(bufio.NewReader(c), "GET")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 426 {
		t.Errorf("got %d; want 426 Upgrade Required", resp.Status)
	}
}

func TestSlow(t *testing.T) {
	t.Run("never answers", func(t *testing.T) {
		b := NewSlow(t, 0, "")
		c := dial(t, b.Addr)
		io.WriteString(c, "GET /s HTTP/1.1\r\nHost: h\r\n\r\n")
		if n := len(b.WaitRequests(1, ioTimeout)); n != 1 {
			t.Fatalf("got %d requests; want 1", n)
		}
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("got %v; want no answer (deadline exceeded)", err)
		}
		b.Close()
		c.SetReadDeadline(time.Now().Add(ioTimeout))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Errorf("connection still open after Close; want closed")
		}
	})
	t.Run("answers after delay", func(t *testing.T) {
		b := NewSlow(t, 100*time.Millisecond, "")
		c := dial(t, b.Addr)
		start := time.Now()
		io.WriteString(c, "GET /s HTTP/1.1\r\nHost: h\r\n\r\n")
		got, err := io.ReadAll(c)
		if err != nil || string(got) != DefaultResponse {
			t.Fatalf("got %q, %v; want the default response", got, err)
		}
		if d := time.Since(start); d < 100*time.Millisecond {
			t.Errorf("answered after %v; want at least 100ms", d)
		}
	})
	t.Run("silent", func(t *testing.T) {
		b := NewSilent(t)
		c := dial(t, b.Addr)
		io.WriteString(c, "GET / HTTP/1.1\r\n\r\n")
		if !b.WaitAccepted(1, ioTimeout) {
			t.Fatal("connection not accepted")
		}
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("got %v; want silence", err)
		}
		if len(b.Requests()) != 0 {
			t.Errorf("silent backend recorded a request; want none")
		}
	})
}

func TestAbrupt(t *testing.T) {
	upgrade := "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	tests := []struct {
		name      string
		mode      AbruptMode
		wantBytes string
		wantReset bool
		wantReqs  int
	}{
		{"close on accept", CloseOnAccept, "", false, 0},
		{"reset on accept", ResetOnAccept, "", true, 0},
		{"close after request", CloseAfterRequest, "", false, 1},
		{"reset mid response", ResetMidResponse, abruptPartialResponse, true, 1},
		{"reset mid message", ResetMidMessage, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n" + abruptPartialFrame, true, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := NewAbrupt(t, tc.mode)
			accepting := tc.mode == CloseOnAccept || tc.mode == ResetOnAccept
			c, err := net.DialTimeout("tcp", b.Addr, ioTimeout)
			if accepting && errors.Is(err, syscall.ECONNRESET) && tc.wantReset {
				return // the RST raced the end of the handshake: still a reset
			}
			if err != nil {
				t.Fatalf("dialing %s: %v", b.Addr, err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(ioTimeout))
			// Writing to a peer that already closed draws an RST, which
			// would hide the FIN of CloseOnAccept: send only when the
			// backend reads.
			if !accepting {
				io.WriteString(c, upgrade)
			}
			var got []byte
			buf := make([]byte, 512)
			for {
				var n int
				n, err = c.Read(buf)
				got = append(got, buf[:n]...)
				if err != nil {
					break
				}
			}
			if string(got) != tc.wantBytes {
				t.Errorf("got bytes %q; want %q", got, tc.wantBytes)
			}
			isReset := errors.Is(err, syscall.ECONNRESET)
			if isReset != tc.wantReset {
				t.Errorf("got end %v (reset=%v); want reset=%v", err, isReset, tc.wantReset)
			}
			if !tc.wantReset && err != io.EOF {
				t.Errorf("got end %v; want EOF", err)
			}
			if n := len(b.WaitRequests(tc.wantReqs, ioTimeout)); n != tc.wantReqs {
				t.Errorf("got %d recorded requests; want %d", n, tc.wantReqs)
			}
		})
	}
}

// TestAbruptResetAfterClose: the backend echoes a masked frame unmasked,
// answers a Close with the same payload and then resets.
func TestAbruptResetAfterClose(t *testing.T) {
	b := NewAbrupt(t, ResetAfterClose)
	c := dial(t, b.Addr)
	io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := ReadResponse(br, "GET")
	if err != nil || resp.Status != 101 {
		t.Fatalf("got %v, %v; want 101", resp, err)
	}
	mask := func(b0 byte, p string) []byte {
		key := [4]byte{1, 2, 3, 4}
		f := append([]byte{b0, 0x80 | byte(len(p))}, key[:]...)
		for i := range len(p) {
			f = append(f, p[i]^key[i%4])
		}
		return f
	}
	c.Write(append(mask(0x81, "hello"), mask(0x88, "\x03\xe8bye")...))
	for _, want := range []string{"\x81\x05hello", "\x88\x05\x03\xe8bye"} {
		got := make([]byte, len(want))
		if _, err := io.ReadFull(br, got); err != nil || string(got) != want {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
	}
	if _, err := br.ReadByte(); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("got end %v; want a reset", err)
	}
}

func TestNonUpgrade(t *testing.T) {
	for _, status := range []int{200, 400} {
		b := NewNonUpgrade(t, status)
		c := dial(t, b.Addr)
		io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		br := bufio.NewReader(c)
		resp, err := ReadResponse(br, "GET")
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != status {
			t.Errorf("got %d; want %d", resp.Status, status)
		}
		// Still an HTTP connection: a second request is answered.
		io.WriteString(c, "GET /again HTTP/1.1\r\nHost: h\r\n\r\n")
		if resp, err := ReadResponse(br, "GET"); err != nil || resp.Status != status {
			t.Errorf("second request: got %v, %v; want %d", resp, err, status)
		}
	}
}

func TestUnsolicited101(t *testing.T) {
	b := NewUnsolicited101(t)
	c := dial(t, b.Addr)
	io.WriteString(c, "GET /plain HTTP/1.1\r\nHost: h\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := ReadResponse(br, "GET")
	if err != nil || resp.Status != 101 {
		t.Fatalf("got %v, %v; want 101", resp, err)
	}
	if _, ok := resp.Get("Sec-WebSocket-Accept"); ok {
		t.Errorf("unsolicited 101 carries Sec-WebSocket-Accept; want none")
	}
	tail := make([]byte, len(Unsolicited101Tail))
	if _, err := io.ReadFull(br, tail); err != nil || string(tail) != Unsolicited101Tail {
		t.Errorf("got tail %q, %v; want %q", tail, err, Unsolicited101Tail)
	}
	if r := b.WaitRequests(1, ioTimeout); len(r) != 1 || IsUpgrade(&r[0]) {
		t.Errorf("got %d requests; want 1 without Upgrade", len(r))
	}
}

func TestGarbage(t *testing.T) {
	b := NewGarbage(t, nil)
	c := dial(t, b.Addr)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	got, err := io.ReadAll(c)
	if err != nil || string(got) != string(DefaultGarbage) {
		t.Errorf("got %q, %v; want %q then close", got, err, DefaultGarbage)
	}
	if _, err := ReadResponse(bufio.NewReader(strings.NewReader(string(got))), "GET"); err == nil {
		t.Errorf("garbage parsed as a response; want an error")
	}
}

func TestReadResponseFraming(t *testing.T) {
	tests := []struct {
		name, raw, method, wantBody string
		toEOF                       bool
	}{
		{"length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA", "GET", "ok", false},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", "GET", "ok", false},
		{"to eof", "HTTP/1.0 200 OK\r\n\r\nall of it", "GET", "all of it", true},
		{"head", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "HEAD", "", false},
		{"304", "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", "GET", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ReadResponse(bufio.NewReader(strings.NewReader(tc.raw)), tc.method)
			if err != nil {
				t.Fatal(err)
			}
			if string(r.Body) != tc.wantBody || r.ToEOF != tc.toEOF {
				t.Errorf("got body %q toEOF=%v; want %q toEOF=%v", r.Body, r.ToEOF, tc.wantBody, tc.toEOF)
			}
		})
	}
}

// FuzzReadRequest checks that the request parser never panics and that
// what it records as Raw is a prefix of its input.
func FuzzReadRequest(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "requests", "*.txt"))
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("GET / HTTP/1.1\r\nHost: h\r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ReadRequest(bufio.NewReader(strings.NewReader(string(data))))
		if err != nil {
			return
		}
		if !strings.HasPrefix(string(data), string(r.Raw)) {
			t.Fatalf("raw %q is not a prefix of the input %q", r.Raw, data)
		}
	})
}

// TestReadRequestBodySizes: bodies larger than a head may be are read
// whole, chunked or with a length; only the head and each chunk-size line
// are bounded by maxHeadBytes.
func TestReadRequestBodySizes(t *testing.T) {
	body := strings.Repeat("0123456789abcdef", 300<<10/16)
	var chunked strings.Builder
	for rest := body; rest != ""; {
		n := min(len(rest), 32<<10)
		fmt.Fprintf(&chunked, "%x\r\n%s\r\n", n, rest[:n])
		rest = rest[n:]
	}
	chunked.WriteString("0\r\n\r\n")
	for _, tt := range []struct {
		name, msg, body string
		wantErr         bool
	}{
		{"length", fmt.Sprintf("POST / HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s", len(body), body), body, false},
		{"chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked.String(), body, false},
		{"head too large", "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", maxHeadBytes) + "\r\n\r\n", "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ReadRequest(bufio.NewReader(strings.NewReader(tt.msg)))
			if tt.wantErr {
				if err == nil {
					t.Fatal("read; want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(r.Body) != tt.body || string(r.Raw) != tt.msg {
				t.Fatalf("body of %d bytes, raw of %d; want %d and %d", len(r.Body), len(r.Raw), len(tt.body), len(tt.msg))
			}
		})
	}
}

func TestPaced(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		desc     string
		arrivals []time.Duration
		window   time.Duration
		wantErr  bool
	}{
		{desc: "paced", arrivals: []time.Duration{0, 250 * ms, 500 * ms, 750 * ms}, window: time.Second},
		{desc: "paced, late", arrivals: []time.Duration{3 * time.Second, 900 * ms, 2 * time.Second, 5 * time.Second}, window: time.Second},
		{desc: "unsorted", arrivals: []time.Duration{750 * ms, 0, 500 * ms, 250 * ms}, window: time.Second},
		{desc: "at once", arrivals: []time.Duration{ms, ms, 2 * ms, 2 * ms}, window: time.Second, wantErr: true},
		{desc: "one early", arrivals: []time.Duration{0, 250 * ms, 499 * ms, 750 * ms}, window: time.Second, wantErr: true},
		{desc: "none", window: time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			err := Paced(tt.arrivals, tt.window)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Paced(%v, %v) = %v; want error %v", tt.arrivals, tt.window, err, tt.wantErr)
			}
		})
	}
}
