package proxy_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"wsgate/internal/proxy"
	"wsgate/internal/proxytest"
	"wsgate/internal/server"
	"wsgate/internal/tunnel"
)

// recorder is a proxy.Observer that writes each event as a line, with
// upstream addresses replaced by their names, and asks for every
// tunnel's frames.
type recorder struct {
	names map[string]string // address → name in the lines
	mu    sync.Mutex
	lines []string
	bad   []string // events whose fields break the Observer's contract
}

var _ proxy.Observer = (*recorder)(nil)

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, fmt.Sprintf(format, args...))
}

func (r *recorder) fault(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bad = append(r.bad, fmt.Sprintf(format, args...))
}

func (r *recorder) name(addr string) string {
	if n, ok := r.names[addr]; ok {
		return n
	}
	return addr
}

func (r *recorder) Try(t proxy.Try) {
	r.add("try %d %s %s %d", t.N, r.name(t.Upstream), t.Outcome, t.Status)
	if t.HeaderTime < 0 || (t.Outcome == proxy.TryConnected && !t.Reused && t.ConnectTime < 0) || t.ConnectTime > t.HeaderTime {
		r.fault("try %+v: times out of order", t)
	}
}

func (r *recorder) TunnelStart(t proxy.Tunnel) tunnel.FrameObserver {
	r.add("tunnel start %s %s %s aware=%v", t.Location, r.name(t.Upstream), t.URI, t.FrameAware)
	if t.Start.IsZero() || !strings.HasPrefix(t.Client, "127.0.0.1:") {
		r.fault("tunnel start %+v: no start time or client", t)
	}
	return r
}

func (r *recorder) Frame(f tunnel.Frame) {
	dir := "down"
	if f.FromClient {
		dir = "up"
	}
	length := fmt.Sprint(f.Length)
	if f.Opcode.IsControl() {
		length = "-" // the Close frames' reasons are the peers' choice
	}
	r.add("frame %s %s fin=%v %s", dir, f.Opcode, f.Fin, length)
}

func (r *recorder) TunnelEnd(t proxy.Tunnel, res tunnel.Result) {
	r.add("tunnel end %s messages %d/%d closed by %s %d", t.Location,
		res.MessagesFromClient, res.MessagesFromUpstream, res.ClosedBy, res.CloseCode)
	if res.FromClient == 0 || res.FromUpstream == 0 || res.Duration <= 0 {
		r.fault("tunnel end %+v: no bytes or no duration", res)
	}
}

func (r *recorder) Request(q proxy.Request) {
	r.add("request %s %s %d tunnel=%v upstream=%s %d tries=%d", q.Server, q.Location, q.Status, q.Tunnel,
		r.name(q.Upstream), q.UpstreamStatus, q.Tries)
	if q.Start.IsZero() || q.Duration < 0 || q.BytesSent <= 0 || q.RequestLength <= 0 {
		r.fault("request %+v: no start, duration or bytes", q)
	}
}

// waitFor returns the lines once the last one starts with prefix, or
// fails after a bound.
func (r *recorder) waitFor(t *testing.T, prefix string) []string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		r.mu.Lock()
		lines := slices.Clone(r.lines)
		bad := slices.Clone(r.bad)
		r.mu.Unlock()
		if len(bad) > 0 {
			t.Fatalf("events breaking the contract: %q", bad)
		}
		if n := len(lines); n > 0 && strings.HasPrefix(lines[n-1], prefix) {
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("events: got\n%s\nwant them to end with %q", strings.Join(lines, "\n"), prefix)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// reset forgets the lines recorded so far.
func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = nil
}

// observedGate is a wsgate serving conf (the http{} block's body, with
// {{listen}} and {{NAME}} of backends replaced) with obs as its Observer.
type observedGate struct {
	addr, path string
	srv        *server.Server
	backends   map[string]string
}

func startObservedGate(t testing.TB, conf string, backends map[string]string, obs proxy.Observer) *observedGate {
	t.Helper()
	dir := t.TempDir()
	g := &observedGate{addr: proxytest.FreeAddr(t), path: filepath.Join(dir, "nginx.conf"), backends: backends}
	g.write(t, conf)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.Start(server.Options{ConfPath: g.path, Prefix: dir + "/", Log: log, Observer: obs})
	if err != nil {
		t.Fatalf("starting wsgate: %v", err)
	}
	g.srv = srv
	t.Cleanup(srv.Stop)
	return g
}

// write writes conf as the gate's configuration file.
func (g *observedGate) write(t testing.TB, conf string) {
	t.Helper()
	pairs := []string{"{{listen}}", g.addr}
	for name, addr := range g.backends {
		pairs = append(pairs, "{{"+name+"}}", addr)
	}
	full := "events {}\nhttp {\naccess_log off;\n" + strings.NewReplacer(pairs...).Replace(conf) + "\n}\n"
	if err := os.WriteFile(g.path, []byte(full), 0o644); err != nil {
		t.Fatal(err)
	}
}

const observedConf = `
upstream retried {
    server {{refused}};
    server {{app}};
}
server {
    listen {{listen}};
    server_name gate;
    location / { proxy_pass http://{{app}}; }
    location /retried/ { proxy_pass http://retried; }
    location /ws/ {
        proxy_pass http://{{ws}};
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection "upgrade";
        proxy_read_timeout READ;
    }
}`

// TestObserverEvents checks the events an Observer hears, and their
// order, for a request, a retried request, a WebSocket session closed by
// its client and one closed by a reload.
func TestObserverEvents(t *testing.T) {
	app := proxytest.NewRecording(t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	ws := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	refused := proxytest.FreeAddr(t)
	backends := map[string]string{"app": app.Addr, "ws": ws.Addr, "refused": refused}
	rec := &recorder{names: map[string]string{app.Addr: "app", ws.Addr: "ws", refused: "refused"}}
	conf := strings.Replace(observedConf, "READ", "60s", 1)
	g := startObservedGate(t, conf, backends, rec)

	// wsSession opens a WebSocket to path, exchanges msgs and returns
	// the open connection.
	wsSession := func(t *testing.T, path string, msgs ...string) *websocket.Conn {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, "ws://"+g.addr+path, nil)
		if err != nil {
			t.Fatalf("dialing %s: %v", path, err)
		}
		t.Cleanup(func() { c.CloseNow() })
		for _, m := range msgs {
			if err := c.Write(ctx, websocket.MessageText, []byte(m)); err != nil {
				t.Fatal(err)
			}
			if _, p, err := c.Read(ctx); err != nil || string(p) != m {
				t.Fatalf("echo of %q: got %q, %v", m, p, err)
			}
		}
		return c
	}

	tests := []struct {
		name string
		run  func(t *testing.T)
		want []string
	}{{
		name: "GET",
		run: func(t *testing.T) {
			if r := (&gate{t: t, addr: g.addr}).get("/a"); r.Status != 200 {
				t.Fatalf("status: got %d; want 200", r.Status)
			}
		},
		want: []string{
			"try 1 app connected 200",
			"request gate location / 200 tunnel=false upstream=app 200 tries=1",
		},
	}, {
		name: "GET retried after a refused upstream",
		run: func(t *testing.T) {
			if r := (&gate{t: t, addr: g.addr}).get("/retried/a"); r.Status != 200 {
				t.Fatalf("status: got %d; want 200", r.Status)
			}
		},
		want: []string{
			"try 1 refused refused 0",
			"try 2 app connected 200",
			"request gate location /retried/ 200 tunnel=false upstream=app 200 tries=2",
		},
	}, {
		name: "WebSocket closed by its client",
		run: func(t *testing.T) {
			c := wsSession(t, "/ws/chat?x=1", "hello", "again")
			if err := c.Close(websocket.StatusNormalClosure, "bye"); err != nil {
				t.Fatalf("closing: %v", err)
			}
		},
		want: []string{
			"try 1 ws connected 101",
			"tunnel start location /ws/ ws /ws/chat?x=1 aware=true",
			"frame up text fin=true 5",
			"frame down text fin=true 5",
			"frame up text fin=true 5",
			"frame down text fin=true 5",
			"frame up close fin=true -",
			"frame down close fin=true -",
			"tunnel end location /ws/ messages 2/2 closed by client 1000",
			"request gate location /ws/ 101 tunnel=true upstream=ws 101 tries=1",
		},
	}, {
		name: "WebSocket closed by a reload",
		run: func(t *testing.T) {
			c := wsSession(t, "/ws/r", "hi")
			// A changed proxy_read_timeout changes the route: its
			// tunnels are closed with ws_reload_close_code (1012).
			g.write(t, strings.Replace(observedConf, "READ", "61s", 1))
			if err := g.srv.Reload(); err != nil {
				t.Fatalf("reload: %v", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, _, err := c.Read(ctx)
			if code := websocket.CloseStatus(err); code != websocket.StatusServiceRestart {
				t.Fatalf("client read after reload: got %v; want Close 1012", err)
			}
		},
		want: []string{
			"try 1 ws connected 101",
			"tunnel start location /ws/ ws /ws/r aware=true",
			"frame up text fin=true 2",
			"frame down text fin=true 2",
			"tunnel end location /ws/ messages 1/1 closed by reload 1012",
			"request gate location /ws/ 101 tunnel=true upstream=ws 101 tries=1",
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec.reset()
			tc.run(t)
			got := rec.waitFor(t, "request ")
			if !slices.Equal(got, tc.want) {
				t.Errorf("events: got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// nopObserver is an Observer that keeps nothing and asks for no frames.
type nopObserver struct{}

func (nopObserver) Try(proxy.Try)                                 {}
func (nopObserver) TunnelStart(proxy.Tunnel) tunnel.FrameObserver { return nil }
func (nopObserver) TunnelEnd(proxy.Tunnel, tunnel.Result)         {}
func (nopObserver) Request(proxy.Request)                         {}

// BenchmarkGateGETObserved is BenchmarkGateGET's pooled case with an
// Observer that does nothing: what observing costs a request (compare
// with BenchmarkGateGET/pooled, which has none).
func BenchmarkGateGETObserved(b *testing.B) {
	const resp = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n"
	be := proxytest.NewFixed(b, resp).Addr
	g := startObservedGate(b, `
upstream pool { server {{b}}; keepalive 8; }
server { listen {{listen}}; keepalive_requests 100000000;
    location / { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://pool; } }`,
		map[string]string{"b": be}, nopObserver{})
	benchGets(b, g.addr, "/", 6)
}
