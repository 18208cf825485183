package tunnel

import (
	"errors"
	"sync"
	"syscall"
	"time"

	"wsgate/internal/netpoll"
)

// DefaultParkAfter is how long both directions of a tunnel must have been
// idle before their goroutines are parked (Options.ParkAfter).
const DefaultParkAfter = time.Second

// errNotParkable is returned by Parker.park for a source without a file
// descriptor (TLS, pipes): such a copier keeps its goroutine.
var errNotParkable = errors.New("source has no socket to park")

// Parker holds the read sides of idle tunnels in event loops
// (netpoll.Poller, one loop per GOMAXPROCS shard), so that an idle
// direction keeps neither a goroutine nor a buffer: a copier whose tunnel
// has been idle for Options.ParkAfter registers its source socket and
// lets its goroutine end; when the socket becomes readable (data, FIN,
// error) or the tunnel needs the copier (a close request, Run closing the
// sockets), a fresh goroutine resumes it where it stopped. A loop tunnel
// (Options.Loop) is relayed by its shard's loop itself while reads and
// writes do not block. Each tunnel is given one shard at Start, round
// robin, and both its directions stay on it. The loops are started at
// the first tunnel and live until Close. This file is the policy: when to
// park, serve in the loop or hand off to a goroutine; netpoll owns the
// epoll sets, the slot tables and the raw I/O. The zero value is not
// usable; use NewParker. Safe for concurrent use.
type Parker struct {
	once    sync.Once
	initErr error
	mu      sync.Mutex
	closed  bool // Close was called: nothing parks any more
	poll    *netpoll.Poller
	shards  int // loops to start; 0: GOMAXPROCS
}

// shard is one loop's state for the copier it serves, owned by the loop's
// goroutine (netpoll.Loop.Ctx); the callbacks are made once so that
// serving an event allocates nothing. The read buffer (loopBufferSize) is
// made at the first loop event of the shard.
type shard struct {
	buf    []byte
	c      *copier
	hup    bool
	sfd    int
	stay   bool
	passed bool
	now    time.Time
	srcFn  func(fd uintptr)
	dstFn  func(fd uintptr)
	// dl schedules the idle timers of the shard's tunnels; unlike the
	// rest, it is used from any goroutine (its own lock).
	dl deadlines
}

// errParkerClosed is returned by Parker.park after Close.
var errParkerClosed = errors.New("parker closed")

// NewParker returns a Parker; its loops are started at the first tunnel.
func NewParker() *Parker {
	return &Parker{}
}

func (p *Parker) init() error {
	p.once.Do(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.closed {
			p.initErr = errParkerClosed
			return
		}
		p.poll, p.initErr = netpoll.NewPoller(p.shards, newShard)
	})
	return p.initErr
}

func newShard(*netpoll.Loop) any {
	s := &shard{}
	s.srcFn, s.dstFn = s.onSrc, s.onDst
	return s
}

// pick returns the loop of a new tunnel, nil when the Parker cannot park
// (closed, or no event loop on this system).
func (p *Parker) pick() *netpoll.Loop {
	if p.init() != nil {
		return nil
	}
	return p.poll.Pick()
}

// Close resumes every parked copier in a goroutine of its own and ends
// the loops; later parks fail, and the copiers keep their goroutines. It
// is idempotent.
func (p *Parker) Close() {
	p.mu.Lock()
	p.closed = true
	poll := p.poll
	p.mu.Unlock()
	if poll != nil {
		poll.Close(func(h netpoll.Handler) { go h.(*copier).resume() })
	}
}

// Parked returns the number of copiers parked now.
func (p *Parker) Parked() int {
	p.mu.Lock()
	poll := p.poll
	p.mu.Unlock()
	if poll == nil {
		return 0
	}
	return poll.Registered()
}

// park registers c's source for one readiness event (a loop copier: for
// every arrival, served in the loop). When it returns nil, c's goroutine
// must end at once: the next readiness or a call to unpark starts
// c.resume in a new goroutine.
func (p *Parker) park(c *copier) error {
	if c.srcRC() == nil {
		return errNotParkable
	}
	l := c.t.shard
	if l == nil {
		return errParkerClosed
	}
	mode := netpoll.OneShot
	if c.t.loop {
		mode = netpoll.Claim
	}
	return l.Add(c.srcRC(), c, mode, &c.parkTok)
}

// unpark takes c out of its loop and resumes it in a new goroutine. It
// reports whether c was parked; only one caller wins for each park. The
// source socket must still be open.
func (p *Parker) unpark(c *copier) bool {
	if !p.take(c) {
		return false
	}
	go c.resume()
	return true
}

// take removes c's registration; it reports whether c was parked. Once
// the tunnel's sockets are being closed (forced), the registration is
// left to close(2) (netpoll.Loop.Take), one system call less per
// direction.
func (p *Parker) take(c *copier) bool {
	l := c.t.shard
	return l != nil && l.Take(&c.parkTok, c, c.leaving(true))
}

// leaving returns the socket to take out of the loop's set when c's
// registration ends: src's, when del and the sockets are not being closed
// (forced), nil when the registration is left to close(2).
func (c *copier) leaving(del bool) syscall.RawConn {
	if !del || c.t.forced.Load() {
		return nil
	}
	return c.srcRC()
}

// Ready is c's readiness event, in its loop's goroutine: a parked copier
// resumes in a goroutine; a loop copier is served in the loop, then
// re-armed or handed to a goroutine of its own.
func (c *copier) Ready(l *netpoll.Loop, ev netpoll.Event) {
	if !c.t.loop {
		go c.resume()
		return
	}
	s := l.Ctx.(*shard)
	if s.serve(c, ev.Hup, l.Now()) {
		c.t.parker.rearm(l, c, ev.Tok)
	} else {
		c.t.parker.handoff(l, c, ev.Tok, ev.Hup || c.stash != nil)
	}
}

// rearm parks a claimed loop copier again under tok. A request or close
// that came while the loop served it found it unparked: it is then taken
// back and resumed in a goroutine.
func (p *Parker) rearm(l *netpoll.Loop, c *copier, tok netpoll.Token) {
	if !l.Rearm(tok, c) {
		go c.resume() // the Parker was closed meanwhile
		return
	}
	if c.req.Load() != 0 || c.t.forced.Load() {
		p.unpark(c)
	}
}

// handoff gives a claimed loop copier a goroutine of its own; its socket
// leaves the loop's set, unless the event ended the source (EOF, error,
// hang-up), which its goroutine then reads to the end without parking,
// or the sockets are being closed: close(2) takes it out then.
func (p *Parker) handoff(l *netpoll.Loop, c *copier, tok netpoll.Token, ended bool) {
	l.Release(tok, c.leaving(!ended))
	go c.resume()
}

// serve runs c.loopStep on one readiness event with both sockets held open
// (Control): the loop reads and writes their fds directly. It reports
// whether c stays in the loop.
func (s *shard) serve(c *copier, hup bool, now time.Time) bool {
	if s.buf == nil {
		s.buf = make([]byte, loopBufferSize)
	}
	s.c, s.hup, s.now, s.stay, s.passed = c, hup, now, false, false
	err := c.srcRC().Control(s.srcFn)
	s.c = nil
	if err != nil {
		// src is closed: its goroutine sees the same.
		c.stash = err
		return false
	}
	if s.passed {
		// Outside Control: the end of the closing handshake may close
		// the sockets, which waits for every Control on them to return.
		c.notePassed()
	}
	return s.stay
}

func (s *shard) onSrc(fd uintptr) {
	s.sfd = int(fd)
	// dst closed: nothing was read; the goroutine finds out itself.
	s.c.dstRC().Control(s.dstFn)
}

func (s *shard) onDst(fd uintptr) {
	s.stay, s.passed = s.c.loopStep(s.sfd, int(fd), s.buf, s.hup, s.now)
}
