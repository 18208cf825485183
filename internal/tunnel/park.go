package tunnel

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// DefaultParkAfter is how long both directions of a tunnel must have been
// idle before their goroutines are parked (Options.ParkAfter).
const DefaultParkAfter = time.Second

// errNotParkable is returned by Parker.park for a source without a file
// descriptor (TLS, pipes): such a copier keeps its goroutine.
var errNotParkable = errors.New("source has no socket to park")

// Parker holds the read sides of idle tunnels in one epoll set, so that an
// idle direction keeps neither a goroutine nor a buffer: a copier whose
// tunnel has been idle for Options.ParkAfter registers its source socket
// and lets its goroutine end; when the socket becomes readable (data, FIN,
// error) or the tunnel needs the copier (a close request, Run closing the
// sockets), a fresh goroutine resumes it where it stopped. One goroutine,
// started at the first park, serves every tunnel of the Parker; it lives as
// long as the process. The zero value is not usable; use NewParker. Safe
// for concurrent use.
type Parker struct {
	once    sync.Once
	initErr error
	epfd    int
	epRC    syscall.RawConn // epfd in Go's poller: wait blocks no thread
	epFile  *os.File        // owns epfd; kept so that it is never finalized
	mu      sync.Mutex
	// slots holds the registered copiers; an epoll event's data is the
	// slot's index (low 32 bits) and its generation (high 32 bits), so a
	// stale event of an earlier registration of the slot is told apart.
	// A slot stays taken while its copier is registered, also while the
	// event loop serves it (c nil then). A registration left to close(2)
	// (see del) has given its slot back: its events carry a generation
	// the slot no longer has.
	slots  []parkSlot
	free   []uint32 // indexes of slots not taken
	parked int      // slots with a copier
	closed bool     // Close was called: nothing parks any more

	// The event loop's state for the copier it serves (Options.Loop),
	// owned by the Parker's goroutine; the functions are made once so
	// that serving an event allocates nothing.
	lc      *copier
	lbuf    []byte
	lhup    bool
	lsfd    int
	lstay   bool
	lpassed bool
	lnow    time.Time
	srcFn   func(fd uintptr)
	dstFn   func(fd uintptr)
	// park's registration, under mu: the copier, the callback (made once)
	// and its result.
	addC   *copier
	addFn  func(fd uintptr)
	addErr error
	events []unix.EpollEvent
}

// parkSlot is one registration of a Parker.
type parkSlot struct {
	c     *copier
	gen   uint32
	taken bool
}

// errParkerClosed is returned by Parker.park after Close.
var errParkerClosed = errors.New("parker closed")

// Close resumes every parked copier in a goroutine of its own, ends the
// Parker's goroutine and closes its epoll set; later parks fail, and the
// copiers keep their goroutines. It is idempotent.
func (p *Parker) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	cs := make([]*copier, 0, p.parked)
	for i := range p.slots {
		s := &p.slots[i]
		if s.c != nil {
			s.c.parkTok = 0
			cs = append(cs, s.c)
		}
		*s = parkSlot{gen: s.gen}
	}
	p.free, p.parked = nil, 0
	f := p.epFile
	p.mu.Unlock()
	for _, c := range cs {
		go c.resume()
	}
	if f != nil {
		f.Close() // the registrations go with the set
	}
}

// NewParker returns a Parker; its epoll set is made at the first park.
func NewParker() *Parker {
	return &Parker{}
}

func (p *Parker) init() error {
	p.once.Do(func() {
		p.mu.Lock()
		closed := p.closed
		p.mu.Unlock()
		if closed {
			p.initErr = errParkerClosed
			return
		}
		fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			p.initErr = fmt.Errorf("creating epoll set: %w", err)
			return
		}
		// An epoll fd is readable while it has events: Go's poller waits
		// for it, so the Parker's goroutine parks like any other instead
		// of holding a thread in epoll_wait.
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(fd)
			p.initErr = fmt.Errorf("setting epoll set non-blocking: %w", err)
			return
		}
		p.epFile = os.NewFile(uintptr(fd), "epoll")
		rc, err := p.epFile.SyscallConn()
		if err != nil {
			p.epFile.Close()
			p.initErr = fmt.Errorf("polling epoll set: %w", err)
			return
		}
		p.epfd, p.epRC = fd, rc
		p.srcFn, p.dstFn, p.addFn = p.onSrc, p.onDst, p.add
		p.events = make([]unix.EpollEvent, 128)
		go p.wait()
	})
	return p.initErr
}

// Parked returns the number of copiers parked now.
func (p *Parker) Parked() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.parked
}

// token returns the epoll data of slot i.
func (p *Parker) token(i uint32) uint64 { return uint64(i) | uint64(p.slots[i].gen)<<32 }

// slot returns the slot of tok if tok is its current registration. p.mu
// is held.
func (p *Parker) slot(tok uint64) *parkSlot {
	i := uint32(tok)
	if int(i) >= len(p.slots) {
		return nil
	}
	s := &p.slots[i]
	if !s.taken || s.gen != uint32(tok>>32) {
		return nil
	}
	return s
}

// newSlot takes a free slot for c, with a new generation. p.mu is held.
func (p *Parker) newSlot(c *copier) uint32 {
	var i uint32
	if n := len(p.free); n > 0 {
		i = p.free[n-1]
		p.free = p.free[:n-1]
	} else {
		i = uint32(len(p.slots))
		p.slots = append(p.slots, parkSlot{})
	}
	s := &p.slots[i]
	s.gen++
	if s.gen == 0 {
		s.gen = 1 // a token is never 0
	}
	s.c, s.taken = c, true
	p.parked++
	return i
}

// freeSlot gives slot i back. p.mu is held.
func (p *Parker) freeSlot(i uint32) {
	s := &p.slots[i]
	if s.c != nil {
		p.parked--
	}
	s.c, s.taken = nil, false
	p.free = append(p.free, i)
}

// park registers c's source for one readiness event. When it returns nil,
// c's goroutine must end at once: the next readiness or a call to unpark
// starts c.resume in a new goroutine.
func (p *Parker) park(c *copier) error {
	if err := p.init(); err != nil {
		return err
	}
	rc := c.srcRC
	if rc == nil {
		return errNotParkable
	}
	// Control holds the fd open while it is registered; p.mu is held
	// across it so that the callback, made once, finds c in p.addC.
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errParkerClosed
	}
	p.addC, p.addErr = c, nil
	err := rc.Control(p.addFn)
	p.addC = nil
	if err != nil {
		return err
	}
	return p.addErr
}

// add is park's Control callback: it registers p.addC's source, fd, under
// a new slot. p.mu is held.
func (p *Parker) add(fd uintptr) {
	c := p.addC
	i := p.newSlot(c)
	tok := p.token(i)
	// A loop copier stays registered while the event loop serves it
	// (edge-triggered: every arrival is an event); others are taken out
	// at their one event.
	mode := uint32(unix.EPOLLONESHOT)
	if c.t.loop {
		mode = unix.EPOLLET
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | mode,
		Fd: int32(uint32(tok)), Pad: int32(uint32(tok >> 32))}
	err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, int(fd), &ev)
	if err == unix.EEXIST {
		// A registration left in place (see del) while the socket stays
		// open: it takes the new token.
		err = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_MOD, int(fd), &ev)
	}
	if err == nil {
		c.parkTok = tok
	} else {
		p.freeSlot(i)
	}
	p.addErr = err
}

// unpark takes c out of the epoll set and resumes it in a new goroutine.
// It reports whether c was parked; only one caller wins for each park. The
// source socket must still be open.
func (p *Parker) unpark(c *copier) bool {
	if !p.take(c) {
		return false
	}
	go c.resume()
	return true
}

// take removes c's registration; it reports whether c was parked.
func (p *Parker) take(c *copier) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	tok := c.parkTok
	if tok == 0 {
		return false
	}
	s := p.slot(tok)
	if s == nil || s.c != c {
		return false
	}
	p.freeSlot(uint32(tok))
	c.parkTok = 0
	if !c.t.forced.Load() {
		p.del(c)
	}
	return true
}

// del takes c's socket out of the epoll set. p.mu is held: after Close
// the set's fd number may belong to another file.
//
// Where the socket is about to be closed or will not be read through the
// Parker again, its registration is left in place instead (one system
// call less per direction): close(2) of the last descriptor of a socket
// takes it out of every epoll set, and no other descriptor refers to a
// tunnel's sockets (Go's poller has its own set and leaves it at Close).
// Events of a registration left in place carry the token of a freed slot
// and are ignored (slot); should the direction park again while its
// socket is open, park finds the registration there and modifies it.
// take leaves it once the tunnel's sockets are being closed (forced);
// handoff leaves it when the event ended the source (EOF, error, hang-up),
// which its goroutine then reads to the end without parking.
func (p *Parker) del(c *copier) {
	if p.closed {
		return
	}
	// Through Control: a socket closed meanwhile has left the epoll set
	// with its last close, and its fd number may belong to another socket.
	c.srcRC.Control(func(fd uintptr) {
		unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, int(fd), nil)
	})
}

// event returns the copier of an event's tok for the event loop. A loop
// copier (Options.Loop) is claimed: it leaves the parked ones, its slot
// and its registration stay. Any other is taken out of the set (loop
// false). nil: the registration is gone (taken meanwhile).
func (p *Parker) event(tok uint64) (c *copier, loop bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.slot(tok)
	if s == nil || s.c == nil {
		return nil, false
	}
	c = s.c
	c.parkTok = 0
	if !c.t.loop {
		p.freeSlot(uint32(tok))
		p.del(c)
		return c, false
	}
	s.c = nil
	p.parked--
	return c, true
}

// rearm parks a claimed loop copier again under tok; its registration is
// edge-triggered, so bytes that came after its last read are an event
// still to come. A request or close that came while the loop served it
// found it unparked: it is then taken back and resumed in a goroutine.
func (p *Parker) rearm(c *copier, tok uint64) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		go c.resume()
		return
	}
	p.slots[uint32(tok)].c = c
	p.parked++
	c.parkTok = tok
	p.mu.Unlock()
	if c.req.Load() != 0 || c.t.forced.Load() {
		p.unpark(c)
	}
}

// handoff gives a claimed loop copier a goroutine of its own; its socket
// leaves the epoll set.
func (p *Parker) handoff(c *copier, tok uint64, ended bool) {
	p.mu.Lock()
	if !p.closed {
		if !ended && !c.t.forced.Load() {
			p.del(c)
		}
		p.freeSlot(uint32(tok))
	}
	p.mu.Unlock()
	go c.resume()
}

// epollWait is epoll_wait(2) with a zero timeout, which never blocks: a
// raw system call, so the runtime does not treat it as one that may (no
// hand-off of the P, nothing for sysmon to retake).
func epollWait(epfd int, events []unix.EpollEvent) (int, error) {
	n, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd),
		uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// wait resumes the copiers whose sockets became ready.
func (p *Parker) wait() {
	events := p.events
	var n int
	var werr error
	ready := func(fd uintptr) bool {
		n, werr = epollWait(int(fd), events)
		return n > 0 || (werr != nil && werr != unix.EINTR)
	}
	for {
		if err := p.epRC.Read(ready); err != nil || werr != nil {
			// epoll_wait fails only on a bad epoll fd or buffer, which
			// cannot happen here; end rather than spin.
			return
		}
		// One clock reading per batch stands for the time of its reads,
		// as nginx's cached time does.
		p.lnow = time.Now()
		for i := range n {
			tok := uint64(uint32(events[i].Fd)) | uint64(uint32(events[i].Pad))<<32
			c, loop := p.event(tok)
			if c == nil {
				continue
			}
			if !loop {
				go c.resume()
				continue
			}
			hup := events[i].Events&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0
			if p.serve(c, hup) {
				p.rearm(c, tok)
			} else {
				p.handoff(c, tok, hup || c.stash != nil)
			}
		}
		p.lc = nil
	}
}

// serve runs c.loopStep on one readiness event with both sockets held open
// (Control): the loop reads and writes their fds directly. It reports
// whether c stays in the loop.
func (p *Parker) serve(c *copier, hup bool) bool {
	if p.lbuf == nil {
		p.lbuf = make([]byte, loopBufferSize)
	}
	p.lc, p.lhup, p.lstay, p.lpassed = c, hup, false, false
	if err := c.srcRC.Control(p.srcFn); err != nil {
		// src is closed: its goroutine sees the same.
		c.stash = err
		return false
	}
	if p.lpassed {
		// Outside Control: the end of the closing handshake may close
		// the sockets, which waits for every Control on them to return.
		c.notePassed()
	}
	return p.lstay
}

func (p *Parker) onSrc(fd uintptr) {
	p.lsfd = int(fd)
	// dst closed: nothing was read; the goroutine finds out itself.
	p.lc.dstRC.Control(p.dstFn)
}

func (p *Parker) onDst(fd uintptr) {
	p.lstay, p.lpassed = p.lc.loopStep(p.lsfd, int(fd), p.lbuf, p.lhup, p.lnow)
}
