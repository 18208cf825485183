package h2

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"wsgate/internal/exchange"
)

// testHandler answers "/" with "ok", "/big" with big, and holds "/hold"
// until release is closed.
type testHandler struct {
	entered atomic.Int32
	release chan struct{}
	big     []byte
}

func (h *testHandler) ServeStream(w exchange.ResponseWriter, req *exchange.Request) func() {
	h.serve(w, req)
	return nil
}

func (h *testHandler) serve(w exchange.ResponseWriter, req *exchange.Request) {
	h.entered.Add(1)
	switch string(req.Path) {
	case "/hold":
		<-h.release
		w.WriteHeader(204, "", -1)
	case "/big":
		w.WriteHeader(200, "", int64(len(h.big)))
		w.Write(h.big)
	default:
		w.AddHeader("X-Host", string(req.Host))
		w.WriteHeader(200, "", 2)
		w.Write([]byte("ok"))
	}
}

func (h *testHandler) ServeHeadError(w exchange.ResponseWriter, req *exchange.Request, status int) func() {
	w.WriteError(status)
	return nil
}

// serve starts Serve for every connection to a loopback listener.
func serve(t *testing.T, cfg Config, h Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); Serve(c, nil, &cfg, h, nil) }()
		}
	}()
	return ln.Addr().String()
}

// client is a raw HTTP/2 client on x/net's Framer, for what a
// well-behaved client library never sends.
type client struct {
	t    *testing.T
	c    net.Conn
	fr   *http2.Framer
	enc  *hpack.Encoder
	hbuf bytes.Buffer
}

// dial connects, sends the preface and settings, and reads the server's
// SETTINGS.
func dial(t *testing.T, addr string, settings ...http2.Setting) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	cl := &client{t: t, c: c, fr: http2.NewFramer(c, c)}
	cl.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	cl.enc = hpack.NewEncoder(&cl.hbuf)
	io.WriteString(c, Preface)
	cl.fr.WriteSettings(settings...)
	f, err := cl.fr.ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.(*http2.SettingsFrame); !ok {
		t.Fatalf("first frame %T; want SETTINGS", f)
	}
	return cl
}

// block encodes a request's fields.
func (cl *client) block(path string, extra ...string) []byte {
	cl.hbuf.Reset()
	for _, f := range [][2]string{{":method", "GET"}, {":scheme", "http"}, {":authority", "a.test"}, {":path", path}} {
		cl.enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	for i := 0; i+1 < len(extra); i += 2 {
		cl.enc.WriteField(hpack.HeaderField{Name: extra[i], Value: extra[i+1]})
	}
	return bytes.Clone(cl.hbuf.Bytes())
}

func (cl *client) get(id uint32, path string, extra ...string) error {
	return cl.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: cl.block(path, extra...), EndStream: true, EndHeaders: true})
}

// response reads frames until stream id ends, answering nothing; it
// returns the status and the body.
func (cl *client) response(id uint32) (string, []byte, error) {
	var status string
	var body []byte
	for {
		f, err := cl.fr.ReadFrame()
		if err != nil {
			return status, body, err
		}
		switch f := f.(type) {
		case *http2.MetaHeadersFrame:
			if f.StreamID == id {
				if s := f.PseudoValue("status"); s != "" {
					status = s
				}
				if f.StreamEnded() {
					return status, body, nil
				}
			}
		case *http2.DataFrame:
			if f.StreamID == id {
				body = append(body, f.Data()...)
				if f.StreamEnded() {
					return status, body, nil
				}
			}
		case *http2.RSTStreamFrame:
			if f.StreamID == id {
				return status, body, errors.New("reset: " + f.ErrCode.String())
			}
		case *http2.GoAwayFrame:
			return status, body, errors.New("goaway: " + f.ErrCode.String())
		}
	}
}

// untilGoAway reads until GOAWAY or the connection's end and returns the
// GOAWAY's code, or "" when none came.
func (cl *client) untilGoAway() string {
	for {
		f, err := cl.fr.ReadFrame()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return "timeout"
			}
			return ""
		}
		if g, ok := f.(*http2.GoAwayFrame); ok {
			return g.ErrCode.String()
		}
	}
}

func TestServeRequest(t *testing.T) {
	addr := serve(t, DefaultConfig(), &testHandler{})
	cl := dial(t, addr)
	if err := cl.get(1, "/"); err != nil {
		t.Fatal(err)
	}
	status, body, err := cl.response(1)
	if err != nil || status != "200" || string(body) != "ok" {
		t.Fatalf("got %q %q %v; want 200 \"ok\"", status, body, err)
	}
}

// TestFlowControl: a response never takes more than the client's
// windows (RFC 9113 6.9): with a 1000-byte stream window the server
// sends 1000 bytes and waits; each WINDOW_UPDATE lets as much through.
func TestFlowControl(t *testing.T) {
	h := &testHandler{big: bytes.Repeat([]byte("x"), 5000)}
	addr := serve(t, DefaultConfig(), h)
	cl := dial(t, addr, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1000})
	if err := cl.get(1, "/big"); err != nil {
		t.Fatal(err)
	}
	got, granted := 0, 1000
	for got < len(h.big) {
		f, err := cl.fr.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		d, ok := f.(*http2.DataFrame)
		if !ok {
			continue
		}
		got += len(d.Data())
		if got > granted {
			t.Fatalf("received %d bytes with a window of %d", got, granted)
		}
		if got == granted {
			granted += 1000
			cl.fr.WriteWindowUpdate(1, 1000)
		}
	}
}

// TestFloods: frames that carry no request (SETTINGS, PING, PRIORITY,
// empty CONTINUATION) end the connection once they pass eight times the
// payload plus 1 MiB, as nginx's flood check does.
func TestFloods(t *testing.T) {
	addr := serve(t, DefaultConfig(), &testHandler{})
	tests := []struct {
		name  string
		flood func(cl *client) error
	}{
		{"settings", func(cl *client) error { return cl.fr.WriteSettings() }},
		{"ping", func(cl *client) error { return cl.fr.WritePing(false, [8]byte{1}) }},
		{"priority", func(cl *client) error {
			return cl.fr.WritePriority(3, http2.PriorityParam{StreamDep: 1, Weight: 1})
		}},
	}
	// flood sends frames until the connection ends or 16 MiB went (nginx's
	// bound is 8 MiB of frames without payload), and reports whether the
	// server ended it: GOAWAY, or a reset that beat the GOAWAY, before the
	// client's deadline.
	flood := func(t *testing.T, cl *client, frame func() error) {
		t.Helper()
		code := make(chan string, 1)
		done := make(chan struct{})
		go func() { code <- cl.untilGoAway(); close(done) }()
		sent := 0
	loop:
		for sent < 16<<20 {
			select {
			case <-done:
				break loop
			default:
			}
			if frame() != nil {
				break
			}
			sent += 9
		}
		if c := <-code; c == "timeout" {
			t.Errorf("after %d bytes of frames: the connection still open", sent)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl := dial(t, addr)
			flood(t, cl, func() error { return tt.flood(cl) })
		})
	}
	t.Run("continuation", func(t *testing.T) {
		cl := dial(t, addr)
		if err := cl.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: cl.block("/"), EndStream: true}); err != nil {
			t.Fatal(err)
		}
		flood(t, cl, func() error { return cl.fr.WriteContinuation(1, false, nil) })
	})
	t.Run("continuation fields", func(t *testing.T) {
		// A header list that never ends grows past the limit at once.
		cl := dial(t, addr)
		code := make(chan string, 1)
		go func() { code <- cl.untilGoAway() }()
		err := cl.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: cl.block("/"), EndStream: true})
		n := 0
		for ; n < 1000 && err == nil; n++ {
			cl.hbuf.Reset()
			cl.enc.WriteField(hpack.HeaderField{Name: "x-pad", Value: strings.Repeat("a", 4000)})
			err = cl.fr.WriteContinuation(1, false, cl.hbuf.Bytes())
		}
		if c := <-code; c == "timeout" {
			t.Errorf("after %d CONTINUATION frames of fields: the connection still open (write error %v)", n, err)
		}
	})
}

// TestRapidReset (CVE-2023-44487): streams the client resets at once
// still count against http2_max_concurrent_streams while their handlers
// run, so the handlers started stay bounded, and a client that keeps
// opening streams is sent GOAWAY ENHANCE_YOUR_CALM.
func TestRapidReset(t *testing.T) {
	h := &testHandler{release: make(chan struct{})}
	defer close(h.release)
	cfg := DefaultConfig()
	cfg.MaxConcurrentStreams = 8
	addr := serve(t, cfg, h)
	cl := dial(t, addr)
	code := make(chan string, 1)
	go func() { code <- cl.untilGoAway() }()
	var err error
	for id := uint32(1); id < 20000 && err == nil; id += 2 {
		if err = cl.get(id, "/hold"); err == nil {
			err = cl.fr.WriteRSTStream(id, http2.ErrCodeCancel)
		}
	}
	if c := <-code; c != "ENHANCE_YOUR_CALM" {
		t.Errorf("after rapid resets: GOAWAY %q (write error %v); want ENHANCE_YOUR_CALM", c, err)
	}
	if n := h.entered.Load(); n > int32(cfg.MaxConcurrentStreams) {
		t.Errorf("%d handlers started; want at most %d", n, cfg.MaxConcurrentStreams)
	}
}

// TestHPACKBomb: a small header block that names one large dynamic table
// entry thousands of times is answered 400 "Request Header Or Cookie Too
// Large" without being decoded whole, and the connection serves on.
func TestHPACKBomb(t *testing.T) {
	addr := serve(t, DefaultConfig(), &testHandler{})
	cl := dial(t, addr)
	cl.hbuf.Reset()
	for _, f := range [][2]string{{":method", "GET"}, {":scheme", "http"}, {":authority", "a.test"}, {":path", "/"}} {
		cl.enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	cl.enc.WriteField(hpack.HeaderField{Name: "x-bomb", Value: strings.Repeat("b", 3000)})
	block := bytes.Clone(cl.hbuf.Bytes())
	// The entry just added is dynamic index 1: 62 (0xbe, an indexed
	// field), 10,000 times is 30 MB decoded from 13 kB in one frame. (A
	// block that goes on in CONTINUATION frames past the limit ends the
	// connection: TestFloods.)
	block = append(block, bytes.Repeat([]byte{0xbe}, 10000)...)
	if err := cl.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block, EndStream: true, EndHeaders: true}); err != nil {
		t.Fatal(err)
	}
	status, body, err := cl.response(1)
	if err != nil || status != "400" || !bytes.Contains(body, []byte("Request Header Or Cookie Too Large")) {
		t.Fatalf("HPACK bomb: got %q %q %v; want 400 Request Header Or Cookie Too Large", status, body, err)
	}
	if err := cl.get(3, "/"); err != nil {
		t.Fatal(err)
	}
	if status, _, err := cl.response(3); status != "200" {
		t.Fatalf("after the bomb: got %q %v; want 200", status, err)
	}
}

// TestKeepalive: keepalive_timeout closes a connection without streams
// with GOAWAY NO_ERROR, and keepalive_requests makes a stream the
// connection's last (GOAWAY naming it), as nginx 1.19.7+ applies both to
// HTTP/2.
func TestKeepalive(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.Limits.KeepaliveTimeout = 50 * time.Millisecond
		cl := dial(t, serve(t, cfg, &testHandler{}))
		if err := cl.get(1, "/"); err != nil {
			t.Fatal(err)
		}
		if status, _, err := cl.response(1); status != "200" {
			t.Fatalf("got %q %v; want 200", status, err)
		}
		if c := cl.untilGoAway(); c != "NO_ERROR" {
			t.Errorf("idle connection: GOAWAY %q; want NO_ERROR", c)
		}
	})
	t.Run("time", func(t *testing.T) {
		// A connection older than keepalive_time takes its stream,
		// sends GOAWAY naming it, and answers it.
		cfg := DefaultConfig()
		cfg.Limits.KeepaliveTime = time.Nanosecond
		cl := dial(t, serve(t, cfg, &testHandler{}))
		if err := cl.get(1, "/"); err != nil {
			t.Fatal(err)
		}
		status, goaway := "", false
		for status == "" || !goaway {
			f, err := cl.fr.ReadFrame()
			if err != nil {
				t.Fatalf("status %q, GOAWAY %v: %v", status, goaway, err)
			}
			switch f := f.(type) {
			case *http2.MetaHeadersFrame:
				status = f.PseudoValue("status")
			case *http2.GoAwayFrame:
				goaway = f.LastStreamID == 1 && f.ErrCode == http2.ErrCodeNo
			}
		}
		if status != "200" {
			t.Errorf("after keepalive_time: status %q; want 200 with GOAWAY NO_ERROR naming stream 1", status)
		}
	})
	t.Run("requests", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.Limits.KeepaliveRequests = 2
		cl := dial(t, serve(t, cfg, &testHandler{}))
		for _, id := range []uint32{1, 3} {
			if err := cl.get(id, "/"); err != nil {
				t.Fatal(err)
			}
		}
		var last uint32
		got := map[uint32]string{}
		for len(got) < 2 || last == 0 {
			f, err := cl.fr.ReadFrame()
			if err != nil {
				t.Fatalf("got %v, GOAWAY last %d: %v", got, last, err)
			}
			switch f := f.(type) {
			case *http2.MetaHeadersFrame:
				got[f.StreamID] = f.PseudoValue("status")
			case *http2.GoAwayFrame:
				last = f.LastStreamID
			}
		}
		if last != 3 || got[1] != "200" || got[3] != "200" {
			t.Errorf("got statuses %v and GOAWAY last stream %d; want both 200 and 3", got, last)
		}
	})
}

// TestChunkSize: http2_chunk_size bounds each DATA frame of a response,
// and the last one ends the stream (no empty frame after it).
func TestChunkSize(t *testing.T) {
	h := &testHandler{big: bytes.Repeat([]byte("y"), 1000)}
	cfg := DefaultConfig()
	cfg.Limits.H2ChunkSize = 100
	cl := dial(t, serve(t, cfg, h))
	if err := cl.get(1, "/big"); err != nil {
		t.Fatal(err)
	}
	got, frames := 0, 0
	for {
		f, err := cl.fr.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		d, ok := f.(*http2.DataFrame)
		if !ok {
			continue
		}
		frames++
		if len(d.Data()) > 100 {
			t.Fatalf("DATA frame of %d bytes; want at most 100", len(d.Data()))
		}
		got += len(d.Data())
		if d.StreamEnded() {
			break
		}
	}
	if got != len(h.big) || frames != 10 {
		t.Errorf("got %d bytes in %d DATA frames; want %d in 10, END_STREAM on the last", got, frames, len(h.big))
	}
}

// TestPrefaceWithoutSettings: a client may start with any frame after
// the preface, as nginx takes it (nginx-tests' client sends no SETTINGS
// of its own).
func TestPrefaceWithoutSettings(t *testing.T) {
	addr := serve(t, DefaultConfig(), &testHandler{})
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	cl := &client{t: t, c: c, fr: http2.NewFramer(c, c)}
	cl.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	cl.enc = hpack.NewEncoder(&cl.hbuf)
	io.WriteString(c, Preface)
	if err := cl.get(1, "/"); err != nil {
		t.Fatal(err)
	}
	if status, body, err := cl.response(1); status != "200" || string(body) != "ok" {
		t.Fatalf("got %q %q %v; want 200 \"ok\"", status, body, err)
	}
}

// TestMalformed: requests RFC 9113 8.1.1 calls malformed are reset with
// PROTOCOL_ERROR: connection-specific fields (8.2.2), a missing :path,
// and an extended CONNECT where SETTINGS_ENABLE_CONNECT_PROTOCOL was not
// sent (RFC 8441 section 4).
func TestMalformed(t *testing.T) {
	h := &testHandler{}
	addr := serve(t, DefaultConfig(), h)
	cl := dial(t, addr)
	tests := []struct {
		name   string
		fields [][2]string
	}{
		{"connection", [][2]string{{":method", "GET"}, {":scheme", "http"}, {":authority", "a"}, {":path", "/"}, {"connection", "keep-alive"}}},
		{"upgrade", [][2]string{{":method", "GET"}, {":scheme", "http"}, {":authority", "a"}, {":path", "/"}, {"upgrade", "websocket"}}},
		{"transfer-encoding", [][2]string{{":method", "POST"}, {":scheme", "http"}, {":authority", "a"}, {":path", "/"}, {"transfer-encoding", "chunked"}}},
		{"te", [][2]string{{":method", "GET"}, {":scheme", "http"}, {":authority", "a"}, {":path", "/"}, {"te", "gzip"}}},
		{"no path", [][2]string{{":method", "GET"}, {":scheme", "http"}, {":authority", "a"}}},
		{"extended CONNECT not offered", [][2]string{{":method", "CONNECT"}, {":protocol", "websocket"}, {":scheme", "https"}, {":authority", "a"}, {":path", "/ws"}}},
	}
	id := uint32(1)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl.hbuf.Reset()
			for _, f := range tt.fields {
				cl.enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
			}
			if err := cl.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: cl.hbuf.Bytes(), EndStream: true, EndHeaders: true}); err != nil {
				t.Fatal(err)
			}
			_, _, err := cl.response(id)
			if err == nil || err.Error() != "reset: PROTOCOL_ERROR" {
				t.Errorf("got %v; want RST_STREAM PROTOCOL_ERROR", err)
			}
			id += 2
		})
	}
	if n := h.entered.Load(); n != 0 {
		t.Errorf("the handler saw %d malformed requests; want none", n)
	}
}
