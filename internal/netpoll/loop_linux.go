//go:build linux

package netpoll

import (
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Loop is one event loop of a Poller: an epoll set in Go's poller, the
// goroutine that waits for it and calls the Handlers of ready
// registrations, and the slot table of those registrations. Safe for
// concurrent use; Handlers run in the Loop's goroutine, one at a time.
type Loop struct {
	// Ctx is the Poller owner's state for this loop (NewPoller's ctx),
	// read by Handlers in the Loop's goroutine; set once at creation.
	Ctx any

	mu sync.Mutex
	// slots holds the registrations; a slot stays taken while its
	// registration lives, also while a Claim registration is claimed (h
	// nil then). A registration left to close(2) (Take or Release
	// without del) has given its slot back: its events carry a generation
	// the slot no longer has.
	slots  []slot
	free   []uint32 // indexes of slots not taken
	count  int      // slots with a Handler
	closed bool

	epfd   int
	epRC   syscall.RawConn // epfd in Go's poller: the wait blocks no thread
	epFile *os.File        // owns epfd; kept so that it is never finalized

	// add's registration, under mu: its arguments and result, and the
	// Control callbacks, made once so that registering allocates nothing.
	addH   Handler
	addRC  syscall.RawConn
	addM   Mode
	addOut bool
	addTok *Token
	addErr error
	addFn  func(fd uintptr)
	delFn  func(fd uintptr)

	// The loop goroutine's own.
	events  []unix.EpollEvent
	readyFn func(fd uintptr) bool
	now     time.Time
}

// slot is one registration of a Loop: 32 bytes, two per parked tunnel.
// It keeps no socket: the owner hands it to Take and Release when the
// socket is to leave the set.
type slot struct {
	h     Handler
	tok   *Token // the owner's copy of the token
	gen   uint32
	mode  Mode
	taken bool
}

// eventBatch is how many events one wait takes.
const eventBatch = 128

// quietBatch is the largest batch after which the loop waits in Go's
// poller without asking epoll again (see wait).
const quietBatch = 2

func newLoop(ctx func(*Loop) any) (*Loop, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("creating epoll set: %w", os.NewSyscallError("epoll_create1", err))
	}
	// An epoll fd is readable while it has events: Go's poller waits for
	// it, so the loop's goroutine parks like any other instead of holding
	// a thread in epoll_wait.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("setting epoll set non-blocking: %w", err)
	}
	l := &Loop{epfd: fd, epFile: os.NewFile(uintptr(fd), "epoll")}
	l.epRC, err = l.epFile.SyscallConn()
	if err != nil {
		l.epFile.Close()
		return nil, fmt.Errorf("polling epoll set: %w", err)
	}
	l.addFn, l.delFn, l.readyFn = l.add, l.del, l.wait
	l.events = make([]unix.EpollEvent, eventBatch)
	if ctx != nil {
		l.Ctx = ctx(l)
	}
	go l.run()
	return l, nil
}

// token returns the token of slot i.
func (l *Loop) token(i uint32) Token { return Token(i) | Token(l.slots[i].gen)<<32 }

// slot returns the slot of tok if tok is its current registration. l.mu
// is held.
func (l *Loop) slot(tok Token) *slot {
	i := uint32(tok)
	if tok == 0 || int(i) >= len(l.slots) {
		return nil
	}
	s := &l.slots[i]
	if !s.taken || s.gen != uint32(tok>>32) {
		return nil
	}
	return s
}

// newSlot takes a free slot, with a new generation. l.mu is held.
func (l *Loop) newSlot(h Handler, m Mode, tok *Token) uint32 {
	var i uint32
	if n := len(l.free); n > 0 {
		i = l.free[n-1]
		l.free = l.free[:n-1]
	} else {
		i = uint32(len(l.slots))
		l.slots = append(l.slots, slot{})
	}
	s := &l.slots[i]
	s.gen++
	if s.gen == 0 {
		s.gen = 1 // a token is never 0
	}
	s.h, s.tok, s.mode, s.taken = h, tok, m, true
	l.count++
	return i
}

// freeSlot gives slot i back. l.mu is held.
func (l *Loop) freeSlot(i uint32) {
	s := &l.slots[i]
	if s.h != nil {
		l.count--
	}
	*s = slot{gen: s.gen}
	l.free = append(l.free, i)
}

// Registered returns the number of registrations with their Handler in
// place (Claim registrations being served are not counted).
func (l *Loop) Registered() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count
}

// Add registers rc's socket for mode m (OneShot or Claim) with h. The
// token goes to *tok, which the loop then owns under its lock: Take,
// Rearm and the registration's end write it. Control holds the socket
// open while it is registered. A socket still in the set from a
// registration left to close(2) takes the new token.
func (l *Loop) Add(rc syscall.RawConn, h Handler, m Mode, tok *Token) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	l.addH, l.addRC, l.addM, l.addOut, l.addTok, l.addErr = h, rc, m, false, tok, nil
	err := rc.Control(l.addFn)
	l.addH, l.addRC, l.addTok = nil, nil, nil
	if err != nil {
		return err
	}
	return l.addErr
}

// WatchFD registers fd, a socket the caller owns and keeps open, for
// Watch with h: readability, and writability too when out is set. The
// first call adds it under a new token in *tok; a later one (same tok)
// changes what it waits for. Forget ends the registration; closing fd
// takes it out of the set.
func (l *Loop) WatchFD(fd int, h Handler, out bool, tok *Token) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	if s := l.slot(*tok); s != nil {
		ev := unix.EpollEvent{Events: events(Watch, out), Fd: int32(uint32(*tok)), Pad: int32(uint32(*tok >> 32))}
		return os.NewSyscallError("epoll_ctl", unix.EpollCtl(l.epfd, unix.EPOLL_CTL_MOD, fd, &ev))
	}
	l.addH, l.addRC, l.addM, l.addOut, l.addTok, l.addErr = h, nil, Watch, out, tok, nil
	l.add(uintptr(fd))
	l.addH, l.addTok = nil, nil
	return l.addErr
}

// events returns the epoll events of a registration.
func events(m Mode, out bool) uint32 {
	ev := uint32(unix.EPOLLIN | unix.EPOLLRDHUP)
	switch m {
	case OneShot:
		ev |= unix.EPOLLONESHOT
	default:
		ev |= unix.EPOLLET
	}
	if out {
		ev |= unix.EPOLLOUT
	}
	return ev
}

// add is the registration of Add and WatchFD. l.mu is held.
func (l *Loop) add(fd uintptr) {
	i := l.newSlot(l.addH, l.addM, l.addTok)
	tok := l.token(i)
	ev := unix.EpollEvent{Events: events(l.addM, l.addOut), Fd: int32(uint32(tok)), Pad: int32(uint32(tok >> 32))}
	err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, int(fd), &ev)
	if err == unix.EEXIST {
		// A registration left in place (Take, Release) while the socket
		// stays open: it takes the new token.
		err = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_MOD, int(fd), &ev)
	}
	if err != nil {
		l.freeSlot(i)
		l.addErr = os.NewSyscallError("epoll_ctl", err)
		return
	}
	*l.addTok = tok
}

// Take ends the registration in *tok if it is h's and not claimed, and
// reports whether it was; only one caller wins for each registration,
// against each other and against the registration's event. *tok becomes
// 0. With del, the registration's socket (still open), the socket leaves
// the set; with nil, the registration is left to close(2): the caller is
// about to close the socket (close(2) of a socket's last descriptor takes
// it out of every epoll set), and its events are dropped meanwhile.
func (l *Loop) Take(tok *Token, h Handler, del syscall.RawConn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.slot(*tok)
	if s == nil || s.h != h {
		return false
	}
	l.freeSlot(uint32(*tok))
	*tok = 0
	if del != nil {
		l.delRC(del)
	}
	return true
}

// Rearm gives a claimed registration back to h under tok, in *tok; with
// Claim's edge-triggered registration, bytes that came after the last
// read are an event still to come. It reports false when the Poller was
// closed meanwhile: h then owns nothing and must resume by other means.
func (l *Loop) Rearm(tok Token, h Handler) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	s := &l.slots[uint32(tok)]
	s.h = h
	l.count++
	*s.tok = tok
	return true
}

// Release ends a claimed registration; with del, its socket, the socket
// leaves the set (see Take).
func (l *Loop) Release(tok Token, del syscall.RawConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	if del != nil {
		l.delRC(del)
	}
	l.freeSlot(uint32(tok))
}

// Forget ends the Watch registration in *tok, which becomes 0; the caller
// closes the socket, which takes it out of the set.
func (l *Loop) Forget(tok *Token) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.slot(*tok); s != nil {
		l.freeSlot(uint32(*tok))
	}
	*tok = 0
}

// Unwatch ends the Watch registration in *tok, which becomes 0, and
// takes fd, which the caller keeps open, out of the set.
func (l *Loop) Unwatch(fd int, tok *Token) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.slot(*tok); s != nil {
		l.freeSlot(uint32(*tok))
	}
	*tok = 0
	if !l.closed {
		unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, fd, nil)
	}
}

// delRC takes rc's socket out of the set. l.mu is held: after close the
// set's fd number may belong to another file. Through Control: a socket
// closed meanwhile has left the set with its last close, and its fd
// number may belong to another socket.
func (l *Loop) delRC(rc syscall.RawConn) {
	if l.closed || rc == nil {
		return
	}
	rc.Control(l.delFn)
}

func (l *Loop) del(fd uintptr) {
	unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, int(fd), nil)
}

// close ends the loop: every registration with its Handler in place ends
// (its token becomes 0) and goes to each, the set is closed, which ends
// the goroutine and takes every socket out. Claimed registrations find
// the loop closed at Rearm.
func (l *Loop) close(each func(Handler)) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	hs := make([]Handler, 0, l.count)
	for i := range l.slots {
		s := &l.slots[i]
		if s.h != nil {
			*s.tok = 0
			hs = append(hs, s.h)
		}
		*s = slot{gen: s.gen}
	}
	l.free, l.count = nil, 0
	l.mu.Unlock()
	if each != nil {
		for _, h := range hs {
			each(h)
		}
	}
	l.epFile.Close() // the registrations go with the set
}

// claim returns the Handler of an event's token: a OneShot registration
// ends (its socket stays in the set, disabled by EPOLLONESHOT, until it is
// closed or added again), a Claim registration is claimed, a Watch one
// stays. nil: the registration is gone (taken meanwhile, or one left to
// close(2)).
func (l *Loop) claim(tok Token) Handler {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.slot(tok)
	if s == nil || s.h == nil {
		return nil
	}
	h := s.h
	switch s.mode {
	case OneShot:
		*s.tok = 0
		l.freeSlot(uint32(tok))
	case Claim:
		*s.tok = 0
		s.h = nil
		l.count--
	}
	return h
}

// Now is the time of the batch of events being handled: one clock
// reading per batch stands for the time of its reads, as nginx's cached
// time does. Only for Handlers, in the Loop's goroutine.
func (l *Loop) Now() time.Time { return l.now }

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

// wait is the set's RawConn.Read callback, and the loop itself: it takes
// a batch of events and calls their Handlers, again and again until a
// wait finds nothing or a small batch (quietBatch) was served; then it
// reports false, and the goroutine waits in Go's poller for the set to be
// readable. It reports true only when the loop must end (an epoll_wait
// failure).
//
// After a small batch, the wait that would confirm that nothing came
// meanwhile is skipped: an event that comes after a wait was taken makes
// the set readable to Go's poller, and that readiness stands until the
// goroutine waits (RawConn.Read clears it only once, before its first
// call of wait), so nothing is lost and a quiet loop (most wake-ups
// bring one or two events) makes one epoll_wait per wake-up, as an nginx
// worker does, instead of two. After a larger batch more events have
// likely come while it was served, and a second wait takes them at once
// rather than through a round trip in Go's scheduler.
func (l *Loop) wait(fd uintptr) bool {
	for {
		n, err := epollWait(int(fd), l.events)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			// epoll_wait fails only on a bad epoll fd or buffer, which
			// cannot happen here; end rather than spin.
			return true
		}
		if n == 0 {
			return false
		}
		l.dispatch(n)
		if n <= quietBatch {
			return false
		}
	}
}

// dispatch calls the Handlers of the first n events taken.
func (l *Loop) dispatch(n int) {
	l.now = time.Now()
	for i := range n {
		ev := &l.events[i]
		tok := Token(uint32(ev.Fd)) | Token(uint32(ev.Pad))<<32
		h := l.claim(tok)
		if h == nil {
			continue
		}
		hup := ev.Events&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0
		h.Ready(l, Event{Tok: tok, Hup: hup})
	}
}

// run calls the Handlers of the registrations whose sockets became ready
// (wait), until the set is closed. Handlers run inside the set's
// RawConn.Read, which holds its descriptor: a Handler must not close the
// Loop (close waits for the Read to return).
func (l *Loop) run() {
	l.epRC.Read(l.readyFn)
}
