//go:build linux

package netpoll

import (
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// has reports whether fd is in l's set.
func (l *Loop) has(fd int) bool {
	ev := unix.EpollEvent{Events: unix.EPOLLIN}
	err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev)
	if err == nil {
		unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, fd, nil)
	}
	return err == unix.EEXIST
}

// load reads a token as its owner does, under l's lock.
func (l *Loop) load(tok *Token) Token {
	l.mu.Lock()
	defer l.mu.Unlock()
	return *tok
}

// recorder records the events of a registration.
type recorder struct {
	ch chan Event
	on chan *Loop
}

func newEvents() *recorder { return &recorder{ch: make(chan Event, 16), on: make(chan *Loop, 16)} }

func (e *recorder) Ready(l *Loop, ev Event) {
	e.ch <- ev
	e.on <- l
}

func (e *recorder) next(t *testing.T) (Event, *Loop) {
	t.Helper()
	select {
	case ev := <-e.ch:
		return ev, <-e.on
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return Event{}, nil
}

func newTestPoller(t *testing.T, n int) *Poller {
	t.Helper()
	p, err := NewPoller(n, func(l *Loop) any { return l })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(nil) })
	return p
}

// TestTakeLeavesRegistration: a registration taken without del stays in
// the set for close(2) to remove, and a later Add of the still open socket
// takes it over; taken with del, the socket leaves the set.
func TestTakeLeavesRegistration(t *testing.T) {
	c, _ := pair(t)
	rc := rawConn(t, c)
	l := newTestPoller(t, 1).Pick()
	fd := 0
	rc.Control(func(f uintptr) { fd = int(f) })
	h := newEvents()
	var tok Token
	for i, del := range []bool{false, true} {
		if err := l.Add(rc, h, OneShot, &tok); err != nil {
			t.Fatalf("add %d: %v", i, err)
		}
		if n := l.Registered(); n != 1 || l.load(&tok) == 0 {
			t.Fatalf("add %d: %d registered, token %x; want 1 and a token", i, n, tok)
		}
		var leave syscall.RawConn
		if del {
			leave = rc
		}
		if !l.Take(&tok, h, leave) {
			t.Fatalf("take %d: not registered", i)
		}
		if tok != 0 || l.Registered() != 0 {
			t.Fatalf("take %d: token %x, %d registered; want none", i, tok, l.Registered())
		}
		if got := l.has(fd); got == del {
			t.Fatalf("take %d (del %v): socket in the set %v; want %v", i, del, got, !del)
		}
	}
}

// TestClaimGenerations: an event claims a Claim registration (Take fails
// until Rearm), a token of an earlier registration of the same slot takes
// nothing, and Release ends a claimed registration.
func TestClaimGenerations(t *testing.T) {
	c, peer := pair(t)
	rc := rawConn(t, c)
	l := newTestPoller(t, 1).Pick()
	h := newEvents()
	var tok Token
	if err := l.Add(rc, h, Claim, &tok); err != nil {
		t.Fatal(err)
	}
	first := l.load(&tok)
	peer.Write([]byte("x"))
	ev, on := h.next(t)
	if ev.Tok != first || on != l {
		t.Fatalf("got event %x on %p; want %x on %p", ev.Tok, on, first, l)
	}
	if l.load(&tok) != 0 {
		t.Errorf("claimed: token %x; want 0", tok)
	}
	held := first
	if l.Take(&held, h, rc) {
		t.Fatal("took a claimed registration")
	}
	if !l.Rearm(ev.Tok, h) || l.load(&tok) != first {
		t.Fatalf("rearm: token %x; want %x", tok, first)
	}
	if !l.Take(&tok, h, rc) {
		t.Fatal("take after rearm failed")
	}
	// The slot is reused with a new generation: the old token is stale.
	// (The x is read first, so that the add reports nothing while the
	// test reads the token.)
	if _, err := c.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	if err := l.Add(rc, h, Claim, &tok); err != nil {
		t.Fatal(err)
	}
	second := l.load(&tok)
	if uint32(second) != uint32(first) || second == first {
		t.Fatalf("re-add: token %x; want slot %d with a new generation", tok, uint32(first))
	}
	stale := first
	if l.Take(&stale, h, rc) {
		t.Fatal("a stale token took the new registration")
	}
	peer.Write([]byte("y"))
	ev, _ = h.next(t)
	if ev.Tok != second {
		t.Fatalf("got event %x; want %x", ev.Tok, second)
	}
	l.Release(ev.Tok, rc)
	if n := l.Registered(); n != 0 {
		t.Errorf("after release: %d registered; want 0", n)
	}
}

// TestPollerShards: registrations picked round robin land on different
// loops, whose goroutines report them; Close hands back what is
// registered.
func TestPollerShards(t *testing.T) {
	p := newTestPoller(t, 2)
	if p.Shards() != 2 {
		t.Fatalf("got %d shards; want 2", p.Shards())
	}
	seen := map[*Loop]bool{}
	hs := make([]*recorder, 4)
	toks := make([]Token, 4)
	peers := make([]net.Conn, 0, 4)
	for i := range hs {
		c, peer := pair(t)
		peers = append(peers, peer)
		l := p.Pick()
		seen[l] = true
		hs[i] = newEvents()
		if err := l.Add(rawConn(t, c), hs[i], OneShot, &toks[i]); err != nil {
			t.Fatal(err)
		}
		if l.Ctx != l {
			t.Fatalf("loop Ctx %v; want the loop itself", l.Ctx)
		}
	}
	if len(seen) != 2 {
		t.Fatalf("4 picks used %d loops; want 2", len(seen))
	}
	if n := p.Registered(); n != 4 {
		t.Fatalf("%d registered; want 4", n)
	}
	// One readiness: the registration ends (OneShot) and its loop reports it.
	peers[0].Write([]byte("x"))
	if _, on := hs[0].next(t); !seen[on] {
		t.Fatalf("event from loop %p, not one of the poller's", on)
	}
	if p.loops[0].load(&toks[0]) != 0 || p.loops[1].load(&toks[0]) != 0 {
		t.Errorf("one-shot after its event: token %x; want 0", toks[0])
	}
	var back int
	p.Close(func(Handler) { back++ })
	if back != 3 {
		t.Errorf("Close handed back %d handlers; want 3", back)
	}
	for i := 1; i < 4; i++ {
		if toks[i] != 0 {
			t.Errorf("after Close: token %d is %x; want 0", i, toks[i])
		}
	}
	c, _ := pair(t)
	var tok Token
	if err := p.Pick().Add(rawConn(t, c), newEvents(), OneShot, &tok); err != ErrClosed {
		t.Errorf("add after Close: got %v; want ErrClosed", err)
	}
}

// relayer is a Claim Handler that passes a token between sockets: each
// event reads its byte, re-arms, and writes a byte to the next socket's
// peer, which makes that socket readable while the Loop is still
// handling this event's batch.
type relayer struct {
	c     net.Conn // the registered socket
	next  net.Conn // the peer of the next relayer's socket
	tok   Token
	left  *int // passes still to make, shared; the loop's goroutine only
	done  chan struct{}
	errCh chan error
}

func (r *relayer) Ready(l *Loop, ev Event) {
	var b [1]byte
	if _, err := r.c.Read(b[:]); err != nil {
		r.errCh <- err
		return
	}
	if !l.Rearm(ev.Tok, r) {
		r.errCh <- ErrClosed
		return
	}
	*r.left--
	if *r.left <= 0 {
		if *r.left == 0 {
			close(r.done)
		}
		return
	}
	if _, err := r.next.Write(b[:]); err != nil {
		r.errCh <- err
	}
}

// TestEventDuringBatch: an event that comes while the Loop runs the
// Handlers of a batch is delivered, with one loop goroutine on one P:
// the Loop waits for its set in Go's poller after a small batch without asking
// epoll again, and the readiness of an event that came meanwhile must
// wake it. A lost event stalls the token passing between the sockets.
func TestEventDuringBatch(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const socks, passes = 4, 2000
	l := newTestPoller(t, 1).Pick()
	left := passes
	done := make(chan struct{})
	errCh := make(chan error, socks)
	rs := make([]*relayer, socks)
	peers := make([]net.Conn, socks)
	for i := range rs {
		c, peer := pair(t)
		peers[i] = peer
		rs[i] = &relayer{c: c, left: &left, done: done, errCh: errCh}
	}
	for i, r := range rs {
		r.next = peers[(i+1)%socks]
		if err := l.Add(rawConn(t, r.c), r, Claim, &r.tok); err != nil {
			t.Fatal(err)
		}
	}
	// Two tokens in flight: one is passed while the other's event waits.
	peers[0].Write([]byte("x"))
	peers[socks/2].Write([]byte("y"))
	select {
	case <-done:
	case err := <-errCh:
		t.Fatal(err)
	case <-time.After(30 * time.Second):
		t.Fatal("token passing stalled: an event was lost")
	}
}
