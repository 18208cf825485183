package metrics

import (
	"context"
	"io"
	"net"
	"strconv"
	"testing"

	"wsgate/internal/proxy"
	"wsgate/internal/tunnel"
	"wsgate/internal/ws"
)

// BenchmarkFrame is what counting one frame costs: one 128-byte text
// message in one frame.
func BenchmarkFrame(b *testing.B) {
	m := New(Options{})
	m.SetEnabled(true)
	o := m.TunnelStart(proxy.Tunnel{Server: "s", Location: "location /ws/", Pool: "u", Upstream: "p", Client: "c:1", FrameAware: true})
	f := tunnel.Frame{FromClient: true, Opcode: ws.OpText, Fin: true, Length: 128}
	b.ReportAllocs()
	for b.Loop() {
		o.Frame(f)
	}
}

// BenchmarkRelayMetrics relays masked messages one way through a
// frame-aware tunnel over loopback, per message: without metrics (off: no
// FrameObserver, as a configuration without ws_metrics), with an observer
// that does nothing (noop: what the tunnel's frame-by-frame reporting
// costs), and with the metrics (on).
func BenchmarkRelayMetrics(b *testing.B) {
	for _, size := range []int{128, 16 << 10} {
		for _, mode := range []string{"off", "noop", "on"} {
			b.Run(strconv.Itoa(size)+"B/"+mode, func(b *testing.B) {
				opts := tunnel.Options{FrameAware: true, Pool: tunnel.NewBufferPool(0)}
				switch mode {
				case "noop":
					opts.Frames = noop{}
				case "on":
					m := New(Options{})
					m.SetEnabled(true)
					opts.Frames = m.TunnelStart(proxy.Tunnel{Server: "s", Location: "location /ws/", Pool: "u", Upstream: "p", Client: "c:1", FrameAware: true})
				}
				benchRelay(b, size, opts)
			})
		}
	}
}

type noop struct{}

func (noop) Frame(tunnel.Frame) {}

// maskedFrame is a client's frame: FIN, opcode op, masked payload p.
func maskedFrame(op ws.Opcode, p []byte) []byte {
	h := ws.Header{Fin: true, Opcode: op, Masked: true, MaskKey: [4]byte{1, 2, 3, 4}, Length: uint64(len(p))}
	out := ws.AppendHeader(nil, h)
	start := len(out)
	out = append(out, p...)
	ws.Mask(out[start:], h.MaskKey, 0)
	return out
}

func benchRelay(b *testing.B, size int, opts tunnel.Options) {
	msg := maskedFrame(ws.OpBinary, make([]byte, size))
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { ln.Close() })
		return ln
	}
	upLn, frontLn := listen(), listen()
	received := make(chan int64, 1)
	go func() {
		u, err := upLn.Accept()
		if err != nil {
			return
		}
		defer u.Close()
		n, _ := io.Copy(io.Discard, u)
		received <- n
	}()
	results := make(chan tunnel.Result, 1)
	go func() {
		c, err := frontLn.Accept()
		if err != nil {
			return
		}
		u, err := net.Dial("tcp", upLn.Addr().String())
		if err != nil {
			c.Close()
			return
		}
		results <- tunnel.Run(context.Background(), c, u, nil, nil, opts)
	}()
	c, err := net.Dial("tcp", frontLn.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	// Small messages go in 4 KiB writes, as a busy client's socket has them.
	per := max(1, 4096/len(msg))
	batch := make([]byte, 0, per*len(msg))
	for range per {
		batch = append(batch, msg...)
	}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	sent := 0
	for sent < b.N {
		k := min(per, b.N-sent)
		if _, err := c.Write(batch[:k*len(msg)]); err != nil {
			b.Fatal(err)
		}
		sent += k
	}
	closeFrame := maskedFrame(ws.OpClose, []byte{0x03, 0xe8})
	c.Write(closeFrame)
	want := int64(b.N*len(msg) + len(closeFrame))
	c.(*net.TCPConn).CloseWrite()
	got := <-received
	b.StopTimer()
	c.Close()
	if res := <-results; got != want || res.FromClient != got {
		b.Fatalf("upstream got %d bytes, tunnel counted %d; want %d", got, res.FromClient, want)
	}
}
