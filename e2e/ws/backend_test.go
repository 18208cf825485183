package wse2e

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// closeSeen is how a connection to the control backend ended.
type closeSeen struct {
	Code   int // websocket.StatusCode, -1 for an end without a Close frame
	Reason string
	Err    error
}

// ctlBackend is a WebSocket backend the tests steer through messages: it
// echoes every message as one frame (same type, any size), answers the text
// "close:CODE:REASON" with a Close frame carrying them, and reports how
// each connection ended. It offers the subprotocols "chat" and "superchat"
// and permessage-deflate when the path has "?deflate".
type ctlBackend struct {
	Addr   string
	ends   chan closeSeen
	mu     sync.Mutex
	protos []string
	exts   []string
	open   int
}

func newCtlBackend(t testing.TB) *ctlBackend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &ctlBackend{Addr: ln.Addr().String(), ends: make(chan closeSeen, 20000)}
	srv := &http.Server{Handler: http.HandlerFunc(b.serve)}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		srv.Close()
	})
	return b
}

func (b *ctlBackend) serve(w http.ResponseWriter, r *http.Request) {
	mode := websocket.CompressionDisabled
	if r.URL.Query().Has("deflate") {
		mode = websocket.CompressionContextTakeover
	}
	b.mu.Lock()
	b.exts = append(b.exts, r.Header.Get("Sec-WebSocket-Extensions"))
	b.mu.Unlock()
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols:       []string{"chat", "superchat"},
		CompressionMode:    mode,
		InsecureSkipVerify: true,
	})
	if err != nil {
		return
	}
	b.mu.Lock()
	b.protos = append(b.protos, c.Subprotocol())
	b.open++
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.open--
		b.mu.Unlock()
	}()
	c.SetReadLimit(64 << 20)
	ctx := context.Background()
	for {
		typ, rd, err := c.Reader(ctx)
		if err != nil {
			b.ends <- closeSeen{Code: int(websocket.CloseStatus(err)), Reason: closeReason(err), Err: err}
			c.CloseNow()
			return
		}
		msg, err := io.ReadAll(rd)
		if err != nil {
			b.ends <- closeSeen{Code: int(websocket.CloseStatus(err)), Reason: closeReason(err), Err: err}
			c.CloseNow()
			return
		}
		if s := string(msg); typ == websocket.MessageText && strings.HasPrefix(s, "close:") {
			parts := strings.SplitN(s, ":", 3)
			code, _ := strconv.Atoi(parts[1])
			c.Close(websocket.StatusCode(code), parts[2])
			b.ends <- closeSeen{Code: code, Reason: "sent by backend"}
			return
		}
		// One frame per message, so that tests can count bytes.
		if err := c.Write(ctx, typ, msg); err != nil {
			return
		}
	}
}

func closeReason(err error) string {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Reason
	}
	return ""
}

// openConns is how many WebSocket connections the backend holds.
func (b *ctlBackend) openConns() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.open
}

// nextEnd waits for the next connection end.
func (b *ctlBackend) nextEnd(t testing.TB, timeout time.Duration) closeSeen {
	t.Helper()
	select {
	case e := <-b.ends:
		return e
	case <-time.After(timeout):
		t.Fatalf("backend saw no connection end within %v", timeout)
	}
	return closeSeen{}
}
