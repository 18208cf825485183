package proxy_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"wsgate/internal/proxytest"
)

// bigBackend is a loopback backend for bodies too large to record: POST
// bodies are counted and discarded (the answer's body is the count), and
// a GET is answered with size zero bytes.
func bigBackend(t *testing.T, size int64) string {
	return proxytest.NewFunc(t, func(c net.Conn, br *bufio.Reader) {
		var method string
		var cl int64
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if method == "" {
				method, _, _ = strings.Cut(line, " ")
			}
			if v, ok := strings.CutPrefix(strings.ToLower(line), "content-length: "); ok {
				cl, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			}
			if line == "\r\n" {
				break
			}
		}
		if method == "POST" {
			n, _ := io.CopyN(io.Discard, br, cl)
			body := strconv.FormatInt(n, 10)
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
			return
		}
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", size)
		io.CopyN(c, zeros{}, size)
	}).Addr
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestGateBigBodies streams 1 GiB each way through the proxy and checks
// that the heap stays bounded (bodies are streamed, never held whole).
// It runs with WSGATE_BIG=1 (about 10-20 s).
func TestGateBigBodies(t *testing.T) {
	if os.Getenv("WSGATE_BIG") == "" {
		t.Skip("set WSGATE_BIG=1 to stream 1 GiB each way")
	}
	const size = 1 << 30
	be := bigBackend(t, size)
	g := startGate(t, `
server { listen {{listen}}; client_max_body_size 0;
  location / { proxy_pass http://{{b}}; } }`, map[string]string{"b": be})

	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	t.Run("upload", func(t *testing.T) {
		c := g.dial()
		c.c.SetDeadline(time.Now().Add(120 * time.Second))
		start := time.Now()
		c.sendRaw(fmt.Sprintf("POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n", size))
		buf := make([]byte, 256<<10)
		for left := int64(size); left > 0; {
			n := min(left, int64(len(buf)))
			if _, err := c.c.Write(buf[:n]); err != nil {
				t.Fatalf("writing body: %v", err)
			}
			left -= n
		}
		r := c.read("POST")
		if r.Status != 200 || string(r.Body) != strconv.Itoa(size) {
			t.Fatalf("got %d %q; want 200 %d", r.Status, r.Body, size)
		}
		t.Logf("upload 1 GiB in %v, peak heap in use %d KiB (before %d KiB)", time.Since(start).Round(time.Millisecond), peak.Load()>>10, before.HeapInuse>>10)
	})
	t.Run("download", func(t *testing.T) {
		c := g.dial()
		c.c.SetDeadline(time.Now().Add(120 * time.Second))
		start := time.Now()
		c.send("GET /down HTTP/1.1\nHost: h\n\n")
		// Read the head by hand: proxytest.ReadResponse would hold the body.
		var cl int64 = -1
		for {
			line, err := c.br.ReadString('\n')
			if err != nil {
				t.Fatalf("reading head: %v", err)
			}
			if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
				cl, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			}
			if line == "\r\n" {
				break
			}
		}
		n, err := io.Copy(io.Discard, io.LimitReader(c.br, cl))
		if cl != size || n != size || err != nil {
			t.Fatalf("got Content-Length %d and %d bytes (%v); want %d", cl, n, err, size)
		}
		t.Logf("download 1 GiB in %v, peak heap in use %d KiB", time.Since(start).Round(time.Millisecond), peak.Load()>>10)
	})
	close(stop)
	<-sampled
	if p := peak.Load(); p > before.HeapInuse+64<<20 {
		t.Errorf("got peak heap in use %d MiB; want under %d MiB (bodies must stream)", p>>20, (before.HeapInuse+64<<20)>>20)
	}
}
