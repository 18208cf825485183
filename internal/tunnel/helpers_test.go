package tunnel

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/coder/websocket"

	"wsgate/internal/ws"
)

// listen returns a loopback listener closed at the end of the test.
func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// proxy accepts clients on a loopback listener, connects each to backend and
// runs a tunnel between them. With handshake set it first copies the
// client's request head to the backend and the backend's response head back
// (byte for byte), handing whatever was read past either head to Run as the
// buffered bytes, like the proxy handler does after a 101.
type proxy struct {
	addr    string
	results chan Result
}

type proxyConfig struct {
	backend   string
	handshake bool
	opts      Options
	reg       *Registry
	route     string
	drain     time.Duration // the tunnels' Info.DrainWindow
	clientBuf []byte        // extra bytes given to Run as already read from the client
}

func startProxy(t testing.TB, cfg proxyConfig) *proxy {
	t.Helper()
	ln := listen(t)
	p := &proxy{addr: ln.Addr().String(), results: make(chan Result, 1024)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c, cfg)
		}
	}()
	return p
}

func (p *proxy) serve(c net.Conn, cfg proxyConfig) {
	u, err := net.Dial("tcp", cfg.backend)
	if err != nil {
		c.Close()
		return
	}
	clientBuf := append([]byte(nil), cfg.clientBuf...)
	var upstreamBuf []byte
	if cfg.handshake {
		cr := bufio.NewReader(c)
		head, err := readHead(cr)
		if err != nil {
			c.Close()
			u.Close()
			return
		}
		u.Write(head)
		clientBuf = append(clientBuf, buffered(cr)...)
		ur := bufio.NewReader(u)
		resp, err := readHead(ur)
		if err != nil {
			c.Close()
			u.Close()
			return
		}
		c.Write(resp)
		upstreamBuf = buffered(ur)
	}
	opts := cfg.opts
	if cfg.reg != nil {
		opts.Handle = cfg.reg.Add(Info{Route: cfg.route, Upstream: cfg.backend, Client: c.RemoteAddr().String(), DrainWindow: cfg.drain})
	}
	p.results <- Run(context.Background(), c, u, clientBuf, upstreamBuf, opts)
}

// readHead reads through the blank line ending an HTTP head.
func readHead(r *bufio.Reader) ([]byte, error) {
	var head []byte
	for {
		line, err := r.ReadSlice('\n')
		head = append(head, line...)
		if err != nil {
			return nil, err
		}
		if len(line) <= 2 {
			return head, nil
		}
	}
}

func buffered(r *bufio.Reader) []byte {
	b, _ := r.Peek(r.Buffered())
	return append([]byte(nil), b...)
}

func (p *proxy) result(t testing.TB) Result {
	t.Helper()
	select {
	case r := <-p.results:
		return r
	case <-time.After(10 * time.Second):
		t.Fatalf("tunnel did not end within 10s")
		return Result{}
	}
}

// echoBackend is a coder/websocket server echoing every message; the close
// status it saw (or -1) is sent on closes.
func echoBackend(t testing.TB) (addr string, closes chan websocket.StatusCode) {
	t.Helper()
	closes = make(chan websocket.StatusCode, 1024)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		c.SetReadLimit(32 << 20)
		ctx := context.Background()
		for {
			typ, msg, err := c.Read(ctx)
			if err != nil {
				closes <- websocket.CloseStatus(err)
				return
			}
			if err := c.Write(ctx, typ, msg); err != nil {
				closes <- websocket.CloseStatus(err)
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), closes
}

// rawClient speaks WebSocket by hand over TCP.
type rawClient struct {
	conn net.Conn
	r    *bufio.Reader
}

const testKey = "dGhlIHNhbXBsZSBub25jZQ=="

// dialRaw connects to addr and, when handshake is set, performs the opening
// handshake and checks the answer.
func dialRaw(t testing.TB, addr string, handshake bool) *rawClient {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dialing %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	rc := &rawClient{conn: conn, r: bufio.NewReaderSize(conn, 64<<10)}
	if !handshake {
		return rc
	}
	fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", testKey)
	resp, err := http.ReadResponse(rc.r, nil)
	if err != nil {
		t.Fatalf("reading handshake answer: %v", err)
	}
	if err := ws.CheckServerResponse(resp.StatusCode, resp.Header, testKey); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	return rc
}

// frame encodes one frame, masked with a fixed key when masked is set.
func frame(op ws.Opcode, fin, masked bool, payload []byte) []byte {
	h := ws.Header{Fin: fin, Opcode: op, Masked: masked, MaskKey: [4]byte{0xA1, 0xB2, 0xC3, 0xD4}, Length: uint64(len(payload))}
	b := ws.AppendHeader(make([]byte, 0, len(payload)+ws.MaxHeaderLen), h)
	start := len(b)
	b = append(b, payload...)
	if masked {
		ws.Mask(b[start:], h.MaskKey, 0)
	}
	return b
}

// readFrame reads one whole frame, unmasking it.
func readFrame(r io.Reader) (ws.Header, []byte, error) {
	var hb [ws.MaxHeaderLen]byte
	n := 0
	for {
		h, hn, err := ws.ParseHeader(hb[:n])
		if err == nil {
			if hn != n {
				return h, nil, errors.New("header overrun")
			}
			p := make([]byte, h.Length)
			if _, err := io.ReadFull(r, p); err != nil {
				return h, nil, err
			}
			if h.Masked {
				ws.Mask(p, h.MaskKey, 0)
			}
			return h, p, nil
		}
		if err != ws.ErrShortHeader {
			return h, nil, err
		}
		if _, err := io.ReadFull(r, hb[n:n+1]); err != nil {
			return h, nil, err
		}
		n++
	}
}

// readClose reads frames until a Close and returns its code.
func readClose(r io.Reader) (code uint16, h ws.Header, err error) {
	for {
		h, p, err := readFrame(r)
		if err != nil {
			return 0, h, err
		}
		if h.Opcode == ws.OpClose {
			c, _, err := ws.ParseClosePayload(p)
			return c, h, err
		}
	}
}

func closeBody(code uint16) []byte { return binary.BigEndian.AppendUint16(nil, code) }

func patterned(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

// equalMsg compares without printing megabytes.
func equalMsg(t testing.TB, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("got %d bytes differing from byte %d; want %d bytes", len(got), i, len(want))
	}
}

func bufioReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }
