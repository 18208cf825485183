package demo

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Hello is the first message the WebSocket backend sends on every
// connection: what reached it, which is what the proxy forwarded.
type Hello struct {
	Type    string            `json:"type"` // "hello"
	Path    string            `json:"path"`
	Proto   string            `json:"proto"` // the request's HTTP version
	Remote  string            `json:"remote"`
	Headers map[string]string `json:"headers"`           // handshake headers, values joined with ", "
	Clients int               `json:"clients,omitempty"` // chat: people connected, this one included
}

// ChatMessage is what /ws/chat relays to everyone.
type ChatMessage struct {
	Type    string `json:"type"` // "chat"
	Text    string `json:"text"`
	Clients int    `json:"clients"`
}

// wsBackend is the WebSocket server the tutorial runs on :8080:
//   - /ws/echo sends Hello, then echoes every message with its type;
//   - /ws/chat sends Hello, then relays every text message to every
//     connected client as a ChatMessage;
//   - /ws/observe streams what wsgate reported (Observed), the recent
//     ones first.
type wsBackend struct {
	obs *observer

	mu   sync.Mutex
	chat map[*websocket.Conn]struct{}
	// conns is every open connection, closed with 1001 by shutdown.
	conns map[*websocket.Conn]struct{}
}

func newWSBackend(obs *observer) *wsBackend {
	return &wsBackend{obs: obs, chat: map[*websocket.Conn]struct{}{}, conns: map[*websocket.Conn]struct{}{}}
}

// maxMessage bounds one message in bytes.
const maxMessage = 1 << 20

func (b *wsBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	route := strings.TrimSuffix(r.URL.Path, "/")
	switch route {
	case "/ws/echo", "/ws/chat", "/ws/observe":
	default:
		http.Error(w, "this demo backend serves /ws/echo, /ws/chat and /ws/observe\n", http.StatusNotFound)
		return
	}
	hello := Hello{Type: "hello", Path: r.URL.RequestURI(), Proto: r.Proto, Remote: r.RemoteAddr, Headers: map[string]string{}}
	for name, vals := range r.Header {
		hello.Headers[name] = strings.Join(vals, ", ")
	}
	if r.Host != "" {
		hello.Headers["Host"] = r.Host
	}
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		// The tutorial forwards "Host: $host", without the port the browser
		// used, so an Origin check against Host would refuse every browser.
		// A real application should check Origin against its own list.
		InsecureSkipVerify: true,
	})
	if err != nil {
		return // Accept has answered (426 without Upgrade, 400 ...)
	}
	defer c.CloseNow()
	c.SetReadLimit(maxMessage)
	b.track(c, true)
	defer b.track(c, false)
	ctx := r.Context()
	switch route {
	case "/ws/echo":
		b.echo(ctx, c, hello)
	case "/ws/chat":
		b.relay(ctx, c, hello)
	case "/ws/observe":
		b.observe(ctx, c)
	}
}

func (b *wsBackend) track(c *websocket.Conn, open bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if open {
		b.conns[c] = struct{}{}
	} else {
		delete(b.conns, c)
		delete(b.chat, c)
	}
}

func writeJSON(ctx context.Context, c *websocket.Conn, v any) error {
	p, err := json.Marshal(v)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return c.Write(wctx, websocket.MessageText, p)
}

func (b *wsBackend) echo(ctx context.Context, c *websocket.Conn, hello Hello) {
	if writeJSON(ctx, c, hello) != nil {
		return
	}
	for {
		typ, p, err := c.Read(ctx)
		if err != nil {
			return
		}
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = c.Write(wctx, typ, p)
		cancel()
		if err != nil {
			return
		}
	}
}

func (b *wsBackend) relay(ctx context.Context, c *websocket.Conn, hello Hello) {
	b.mu.Lock()
	b.chat[c] = struct{}{}
	hello.Clients = len(b.chat)
	b.mu.Unlock()
	if writeJSON(ctx, c, hello) != nil {
		return
	}
	for {
		typ, p, err := c.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			continue
		}
		b.mu.Lock()
		msg := ChatMessage{Type: "chat", Text: string(p), Clients: len(b.chat)}
		peers := make([]*websocket.Conn, 0, len(b.chat))
		for p := range b.chat {
			peers = append(peers, p)
		}
		b.mu.Unlock()
		for _, peer := range peers {
			writeJSON(ctx, peer, msg) // a slow or gone peer only loses this message
		}
	}
}

func (b *wsBackend) observe(ctx context.Context, c *websocket.Conn) {
	ch, recent, cancel := b.obs.subscribe()
	defer cancel()
	for _, o := range recent {
		if writeJSON(ctx, c, o) != nil {
			return
		}
	}
	// Reads only to notice the client's Close.
	ctx = c.CloseRead(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case o := <-ch:
			if writeJSON(ctx, c, o) != nil {
				return
			}
		}
	}
}

// shutdown sends Close 1001 to every open connection, in parallel,
// bounded by ctx.
func (b *wsBackend) shutdown(ctx context.Context) {
	b.mu.Lock()
	conns := make([]*websocket.Conn, 0, len(b.conns))
	for c := range b.conns {
		conns = append(conns, c)
	}
	b.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			done := make(chan struct{})
			go func() { c.Close(websocket.StatusGoingAway, "demo stopping"); close(done) }()
			select {
			case <-done:
			case <-ctx.Done():
				c.CloseNow()
			}
		}()
	}
	wg.Wait()
}
