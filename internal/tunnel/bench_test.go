package tunnel

import (
	"context"
	"io"
	"net"
	"testing"
	"time"
)

// BenchmarkRelay measures one-way relay of pre-framed masked messages from a
// client through a tunnel to a reading upstream, per message.
func BenchmarkRelay(b *testing.B) {
	for _, size := range []int{128, 16 << 10} {
		for _, m := range modes {
			b.Run(m.name+"/"+sizeName(size), func(b *testing.B) {
				benchRelay(b, size, m.opts)
			})
		}
	}
}

// BenchmarkRelayGated is BenchmarkRelay's 128-byte frame-aware loop case
// with the frame gate on (Pings to both sides, every limit set above the
// load): the cost of Pings and limits per message over the plain relay.
func BenchmarkRelayGated(b *testing.B) {
	for _, m := range []int{2, 6} {
		opts := modes[m].opts
		b.Run(modes[m].name+"/plain", func(b *testing.B) { benchRelay(b, 128, opts) })
		opts.Ping = PingOptions{Interval: time.Second, Client: true, Upstream: true}
		lim := Limits{MaxFrame: 1 << 20, MaxMessage: 1 << 20, Rate: 1e9, Burst: 1 << 20}
		opts.ClientLimits, opts.UpstreamLimits = lim, lim
		b.Run(modes[m].name+"/gated", func(b *testing.B) { benchRelay(b, 128, opts) })
	}
}

func sizeName(n int) string {
	if n >= 1<<10 {
		return itoa(n>>10) + "KiB"
	}
	return itoa(n) + "B"
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func benchRelay(b *testing.B, size int, opts Options) {
	msg := frame(2, true, true, patterned(size))
	upLn := listen(b)
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
	frontLn := listen(b)
	results := make(chan Result, 1)
	opts.Pool = NewBufferPool(0)
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
		results <- Run(context.Background(), c, u, nil, nil, opts)
	}()
	c, err := net.Dial("tcp", frontLn.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	// Batch small messages into larger writes, as a busy client's socket does.
	per := 1
	if len(msg) < 4096 {
		per = 4096 / len(msg)
	}
	batch := make([]byte, 0, per*len(msg))
	for i := 0; i < per; i++ {
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
	want := int64(b.N * len(msg))
	if opts.FrameAware { // end cleanly: a Close, then FIN
		closeFrame := frame(8, true, true, closeBody(1000))
		c.Write(closeFrame)
		want += int64(len(closeFrame))
	}
	c.(*net.TCPConn).CloseWrite()
	got := <-received
	b.StopTimer()
	c.Close()
	res := <-results
	if got != want || res.FromClient != got {
		b.Fatalf("upstream got %d bytes, tunnel counted %d; want %d", got, res.FromClient, want)
	}
}
