package tunnel

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"wsgate/internal/ws"
)

// frameLog is a FrameObserver that writes each frame as a line per
// direction.
type frameLog struct {
	mu       sync.Mutex
	up, down []string
}

func (l *frameLog) Frame(f Frame) {
	l.mu.Lock()
	defer l.mu.Unlock()
	line := fmt.Sprintf("%s fin=%v %d", f.Opcode, f.Fin, f.Length)
	if f.FromClient {
		l.up = append(l.up, line)
	} else {
		l.down = append(l.down, line)
	}
}

func (l *frameLog) lines() (up, down []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.up), slices.Clone(l.down)
}

// TestFrameObserver checks that each relayed frame is reported once, in
// its direction's order, whether frames share a chunk or one's header is
// split across two, and that the Close frames passing through are.
func TestFrameObserver(t *testing.T) {
	for _, tc := range []struct {
		name string
		loop bool
	}{{"goroutines", false}, {"event loop", true}} {
		t.Run(tc.name, func(t *testing.T) {
			backend, _ := echoBackend(t)
			log := &frameLog{}
			opts := Options{FrameAware: true, Frames: log}
			var reg *Registry
			if tc.loop {
				reg = NewRegistry()
				opts.Loop = true
			}
			p := startProxy(t, proxyConfig{backend: backend, handshake: true, opts: opts, reg: reg})
			c := dialRaw(t, p.addr, true)

			// One write: a message in two fragments, a ping, a binary
			// message; then a text message whose header comes in two writes.
			var burst []byte
			burst = append(burst, frame(ws.OpText, false, true, []byte("ab"))...)
			burst = append(burst, frame(ws.OpContinuation, true, true, []byte("cd"))...)
			burst = append(burst, frame(ws.OpPing, true, true, nil)...)
			burst = append(burst, frame(ws.OpBinary, true, true, []byte("xyz"))...)
			if _, err := c.conn.Write(burst); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"abcd", "", "xyz"} {
				if _, p, err := readFrame(c.r); err != nil || string(p) != want {
					t.Fatalf("reading the answer %q: got %q, %v", want, p, err)
				}
			}
			split := frame(ws.OpText, true, true, []byte("hello"))
			c.conn.Write(split[:1]) // usually read alone: the header is split
			c.conn.Write(split[1:])
			if _, p, err := readFrame(c.r); err != nil || string(p) != "hello" {
				t.Fatalf("reading the echo of hello: got %q, %v", p, err)
			}
			c.conn.Write(frame(ws.OpClose, true, true, closeBody(1000)))
			if code, _, err := readClose(c.r); err != nil || code != 1000 {
				t.Fatalf("reading the Close: got %d, %v", code, err)
			}
			c.conn.Close()
			res := p.result(t)

			up, down := log.lines()
			wantUp := []string{"text fin=false 2", "continuation fin=true 2", "ping fin=true 0", "binary fin=true 3", "text fin=true 5", "close fin=true 2"}
			wantDown := []string{"text fin=true 4", "pong fin=true 0", "binary fin=true 3", "text fin=true 5", "close fin=true 2"}
			if !slices.Equal(up, wantUp) {
				t.Errorf("client → upstream frames: got %q; want %q", up, wantUp)
			}
			if !slices.Equal(down, wantDown) {
				t.Errorf("upstream → client frames: got %q; want %q", down, wantDown)
			}
			if res.MessagesFromClient != 3 || res.MessagesFromUpstream != 3 {
				t.Errorf("messages: got %d/%d; want 3/3", res.MessagesFromClient, res.MessagesFromUpstream)
			}
		})
	}
}

// frameCount is a FrameObserver that counts frames.
type frameCount struct{ n atomic.Int64 }

func (c *frameCount) Frame(Frame) { c.n.Add(1) }

// BenchmarkRelayFrames is BenchmarkRelay's frame-aware modes with a
// FrameObserver: what being told of each frame costs (compare with
// BenchmarkRelay, which has none).
func BenchmarkRelayFrames(b *testing.B) {
	for _, size := range []int{128, 16 << 10} {
		for _, m := range modes {
			if !m.opts.FrameAware {
				continue
			}
			b.Run(m.name+"/"+sizeName(size), func(b *testing.B) {
				opts := m.opts
				opts.Frames = new(frameCount)
				benchRelay(b, size, opts)
			})
		}
	}
}
