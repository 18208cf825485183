package proxytest

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
)

// BroadcastPath is the path on which a WebSocket echo backend relays each
// message to every client connected on that path instead of echoing it.
const BroadcastPath = "/broadcast"

// WSOptions configures NewWSEcho. The zero value accepts any origin,
// negotiates no subprotocol and no compression.
type WSOptions struct {
	// Subprotocols the backend will pick from, in its order of preference
	// (RFC 6455 §4.2.2: Sec-WebSocket-Protocol).
	Subprotocols []string
	// Compression enables permessage-deflate (RFC 7692) when not
	// websocket.CompressionDisabled.
	Compression websocket.CompressionMode
	// ReadLimit bounds one message in bytes; 0 means 16 MiB.
	ReadLimit int64
}

// NewWSEcho starts a WebSocket backend (github.com/coder/websocket). It
// records every handshake request as received (head only: Raw, Line and
// Headers in order with their original case; Seq counts requests on the
// connection) and every message payload it receives (Messages). On
// BroadcastPath each message goes to every client connected there; on any
// other path it is echoed to its sender with the same type. A request that
// is not a WebSocket handshake gets coder/websocket's error response (426
// Upgrade Required for a missing Upgrade).
func NewWSEcho(t testing.TB, opts WSOptions) *Backend {
	t.Helper()
	limit := opts.ReadLimit
	if limit == 0 {
		limit = 16 << 20
	}
	hub := &broadcastHub{conns: map[*websocket.Conn]struct{}{}}
	conns := make(chan net.Conn)
	ln := &chanListener{conns: conns, done: make(chan struct{})}
	var b *Backend
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc, _ := r.Context().Value(connKey{}).(*headConn)
		if rc != nil {
			rc.recordHead(b)
		}
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
			Subprotocols:       opts.Subprotocols,
			CompressionMode:    opts.Compression,
			InsecureSkipVerify: true, // proxies pass arbitrary Origin values
		})
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(limit)
		ctx := r.Context()
		broadcast := r.URL.Path == BroadcastPath
		if broadcast {
			hub.add(c)
			defer hub.remove(c)
		}
		for {
			typ, p, err := c.Read(ctx)
			if err != nil {
				return
			}
			b.recordMessage(p)
			if broadcast {
				hub.send(ctx, typ, p)
				continue
			}
			if err := c.Write(ctx, typ, p); err != nil {
				return
			}
		}
	})
	srv := &http.Server{
		Handler: handler,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, c)
		},
	}
	go srv.Serve(ln)
	b = start(t, func(b *Backend, c net.Conn, id int) {
		hc := &headConn{Conn: c, id: id, closed: make(chan struct{})}
		select {
		case conns <- hc:
		case <-b.done:
			return
		}
		select {
		case <-hc.closed:
		case <-b.done:
		}
	})
	b.hub = hub
	t.Cleanup(func() {
		close(ln.done)
		srv.Close()
	})
	return b
}

type connKey struct{}

// headConn captures the bytes of each request head read through it, so
// the handshake can be recorded exactly as it arrived rather than as
// net/http canonicalised it.
type headConn struct {
	net.Conn
	id     int
	closed chan struct{}
	once   sync.Once

	mu   sync.Mutex
	buf  bytes.Buffer // bytes read and not yet claimed by a recorded head
	seq  int
	full bool // buf hit its bound; stop capturing
}

func (c *headConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	if !c.full {
		c.buf.Write(p[:n])
		if c.buf.Len() > maxHeadBytes {
			c.full = true
		}
	}
	c.mu.Unlock()
	return n, err
}

func (c *headConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// recordHead parses the oldest captured head and records it on b.
func (c *headConn) recordHead(b *Backend) {
	c.mu.Lock()
	defer c.mu.Unlock()
	data := c.buf.Bytes()
	end := bytes.Index(data, []byte("\r\n\r\n"))
	if end < 0 {
		return
	}
	head := append([]byte(nil), data[:end+4]...)
	c.buf.Next(end + 4)
	t := &teeReader{br: bufio.NewReader(bytes.NewReader(head))}
	r, err := t.requestHead()
	if err != nil {
		return
	}
	c.seq++
	r.Conn, r.Seq = c.id, c.seq
	b.record(r)
}

// chanListener hands net/http the connections a Backend accepted.
type chanListener struct {
	conns chan net.Conn
	done  chan struct{}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error { return nil }

func (l *chanListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

type broadcastHub struct {
	mu    sync.Mutex
	conns map[*websocket.Conn]struct{}
}

func (h *broadcastHub) add(c *websocket.Conn) {
	h.mu.Lock()
	h.conns[c] = struct{}{}
	h.mu.Unlock()
}

func (h *broadcastHub) remove(c *websocket.Conn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
}

func (h *broadcastHub) size() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

func (h *broadcastHub) send(ctx context.Context, typ websocket.MessageType, p []byte) {
	h.mu.Lock()
	targets := make([]*websocket.Conn, 0, len(h.conns))
	for c := range h.conns {
		targets = append(targets, c)
	}
	h.mu.Unlock()
	for _, c := range targets {
		c.Write(ctx, typ, p)
	}
}

// IsUpgrade reports whether r asks for a WebSocket upgrade (RFC 6455
// §4.2.1: an Upgrade header naming websocket).
func IsUpgrade(r *Request) bool {
	v, _ := r.Get("Upgrade")
	return strings.EqualFold(strings.TrimSpace(v), "websocket")
}
