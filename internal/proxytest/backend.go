// Package proxytest provides what wsgate's tests share. It is imported by
// the tests of the packages it serves (proxy, tunnel, upstream, config…),
// so it imports none of them.
//
// Real loopback peers: backends that record exactly what reached them
// (request line, header lines in order with their original case, body
// bytes, and which connection each request came on), backends that
// misbehave on purpose (slow, abrupt, non-upgrading, unsolicited 101,
// garbage), one that answers fixed bytes without recording (NewFixed, for
// benchmarks) and one whose connections a test serves itself (NewFunc).
// Every backend listens on 127.0.0.1 on a port the kernel picks, is closed
// by t.Cleanup (Close may also be called earlier, more than once), and
// never blocks a test beyond that: Close drops every open connection.
//
// Real nginx, the reference of differential tests: StartNginx runs it on
// a configuration, NginxTest runs "nginx -t"; both from a private prefix,
// without root. Programs a test starts (nginx, the wsgate binary) run
// under Process.
//
// Waits: Poll and Eventually wait for a condition with a bound instead of
// sleeping a fixed time; Consistently checks that something does not
// happen for a while. An in-process wsgate is in the subpackage gatetest,
// which imports the serving tree.
package proxytest

import (
	"bufio"
	"errors"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// FreeAddr returns "127.0.0.1:PORT" for a port that was free when asked,
// for a program the test starts (nginx, wsgate) to bind later. The port
// comes from below the kernel's ephemeral range (32768-60999 on Linux), so
// that listeners on port 0 and outgoing connections, which take ephemeral
// ports, cannot grab it before the program binds it; a process never hands
// out the same port twice, and each process starts at its own offset.
func FreeAddr(t testing.TB) string {
	t.Helper()
	for i := 0; i < freeSpan; i++ {
		port := freeBase + int(freeNext.Add(1)%freeSpan)
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		addr := ln.Addr().String()
		ln.Close()
		return addr
	}
	t.Fatalf("finding a free port: none free in %d-%d", freeBase, freeBase+freeSpan-1)
	return ""
}

// The range FreeAddr takes ports from, and where this process is in it.
const (
	freeBase = 20000
	freeSpan = 12000
)

var freeNext = func() *atomic.Int64 {
	var n atomic.Int64
	n.Store(int64(os.Getpid()*397) % freeSpan)
	return &n
}()

// FreePort is FreeAddr's port number.
func FreePort(t testing.TB) int {
	t.Helper()
	return PortOf(FreeAddr(t))
}

// PortOf returns the port number of a "host:port" address, 0 when it has
// none.
func PortOf(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return n
}

// Backend is a running loopback backend.
type Backend struct {
	// Addr is "127.0.0.1:PORT", ready to accept when the constructor returns.
	Addr string

	ln      net.Listener
	extra   []net.Listener                       // ListenUnix's; guarded by mu
	serve   func(b *Backend, c net.Conn, id int) // owns c until it returns
	done    chan struct{}
	wg      sync.WaitGroup
	closing sync.Once

	mu       sync.Mutex
	cond     *sync.Cond
	accepted int
	conns    map[net.Conn]struct{}
	reqs     []Request
	messages [][]byte

	hub *broadcastHub // NewWSEcho's clients on BroadcastPath; nil for others
}

func start(t testing.TB, serve func(b *Backend, c net.Conn, id int)) *Backend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening for a backend: %v", err)
	}
	b := &Backend{
		Addr:  ln.Addr().String(),
		ln:    ln,
		serve: serve,
		done:  make(chan struct{}),
		conns: map[net.Conn]struct{}{},
	}
	b.cond = sync.NewCond(&b.mu)
	b.wg.Add(1)
	go b.acceptLoop()
	t.Cleanup(b.Close)
	return b
}

// ListenUnix makes b accept on a UNIX-domain socket at path as well (a
// path in the test's temporary directory), serving those connections as
// it serves its TCP ones; it returns "unix:" and the path, as an upstream
// server line names it. Close closes it too.
func (b *Backend) ListenUnix(t testing.TB, path string) string {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatalf("listening for a backend on %s: %v", path, err)
	}
	b.mu.Lock()
	select {
	case <-b.done:
		b.mu.Unlock()
		ln.Close()
		t.Fatalf("listening for a backend on %s: backend closed", path)
	default:
	}
	b.extra = append(b.extra, ln)
	b.wg.Add(1)
	b.mu.Unlock()
	go b.acceptOn(ln)
	return "unix:" + path
}

func (b *Backend) acceptLoop() { b.acceptOn(b.ln) }

func (b *Backend) acceptOn(ln net.Listener) {
	defer b.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(5 * time.Millisecond) // EMFILE and the like: back off
			continue
		}
		b.mu.Lock()
		select {
		case <-b.done:
			b.mu.Unlock()
			c.Close()
			return
		default:
		}
		b.accepted++
		id := b.accepted
		b.conns[c] = struct{}{}
		b.cond.Broadcast()
		b.mu.Unlock()
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			defer b.drop(c)
			b.serve(b, c, id)
		}()
	}
}

func (b *Backend) drop(c net.Conn) {
	c.Close()
	b.mu.Lock()
	delete(b.conns, c)
	b.mu.Unlock()
}

// Close stops accepting, closes every open connection and waits for the
// backend's goroutines to end.
func (b *Backend) Close() {
	b.closing.Do(func() {
		b.mu.Lock()
		close(b.done)
		b.ln.Close()
		for _, ln := range b.extra {
			ln.Close()
		}
		for c := range b.conns {
			c.Close()
		}
		b.cond.Broadcast()
		b.mu.Unlock()
		b.wg.Wait()
	})
}

// Accepted returns how many connections the backend has accepted.
func (b *Backend) Accepted() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.accepted
}

// Open returns how many accepted connections are still open.
func (b *Backend) Open() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.conns)
}

// Requests returns a copy of the requests recorded so far, in the order
// they were read completely.
func (b *Backend) Requests() []Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Request(nil), b.reqs...)
}

// Messages returns a copy of the WebSocket messages (payloads) the backend
// received so far, for backends that speak WebSocket.
func (b *Backend) Messages() [][]byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([][]byte(nil), b.messages...)
}

// Reset forgets the recorded requests and messages; connection counts stay.
func (b *Backend) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reqs, b.messages = nil, nil
}

// WaitRequests waits up to timeout for at least n recorded requests and
// returns them; on timeout it returns what there is.
func (b *Backend) WaitRequests(n int, timeout time.Duration) []Request {
	timer := time.AfterFunc(timeout, func() {
		b.mu.Lock()
		b.cond.Broadcast()
		b.mu.Unlock()
	})
	defer timer.Stop()
	deadline := time.Now().Add(timeout)
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.reqs) < n && time.Now().Before(deadline) {
		select {
		case <-b.done:
			return append([]Request(nil), b.reqs...)
		default:
		}
		b.cond.Wait()
	}
	return append([]Request(nil), b.reqs...)
}

// WaitAccepted waits up to timeout until at least n connections were
// accepted and reports whether that happened.
func (b *Backend) WaitAccepted(n int, timeout time.Duration) bool {
	timer := time.AfterFunc(timeout, func() {
		b.mu.Lock()
		b.cond.Broadcast()
		b.mu.Unlock()
	})
	defer timer.Stop()
	deadline := time.Now().Add(timeout)
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.accepted < n && time.Now().Before(deadline) {
		b.cond.Wait()
	}
	return b.accepted >= n
}

func (b *Backend) record(r *Request) {
	b.mu.Lock()
	b.reqs = append(b.reqs, *r)
	b.cond.Broadcast()
	b.mu.Unlock()
}

func (b *Backend) recordMessage(p []byte) {
	b.mu.Lock()
	b.messages = append(b.messages, append([]byte(nil), p...))
	b.mu.Unlock()
}

// closed reports whether Close has begun.
func (b *Backend) closed() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

// readNext reads the next request on c and records it with its connection
// and sequence numbers. It returns nil at end of input or on error.
func (b *Backend) readNext(br *bufio.Reader, id int, seq *int) *Request {
	r, err := ReadRequest(br)
	if err != nil {
		return nil
	}
	*seq++
	r.Conn, r.Seq = id, *seq
	b.record(r)
	return r
}

// reset closes c with SO_LINGER 0, so the peer sees a TCP RST instead of
// a FIN.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}
