package tunnel

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

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
	next    uint64             // last token handed out
	parked  map[uint64]*copier // by token, the epoll event's data
	closed  bool               // Close was called: nothing parks any more
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
	cs := make([]*copier, 0, len(p.parked))
	for tok, c := range p.parked {
		delete(p.parked, tok)
		c.parkTok = 0
		cs = append(cs, c)
	}
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
	return &Parker{parked: make(map[uint64]*copier)}
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
		go p.wait()
	})
	return p.initErr
}

// Parked returns the number of copiers parked now.
func (p *Parker) Parked() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.parked)
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
	var addErr error
	// Control holds the fd open while it is registered.
	err := rc.Control(func(fd uintptr) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.closed {
			addErr = errParkerClosed
			return
		}
		p.next++
		tok := p.next
		// A loop copier stays registered while the event loop serves it
		// (edge-triggered: every arrival is an event); others are taken
		// out at their one event.
		mode := uint32(unix.EPOLLONESHOT)
		if c.t.loop {
			mode = unix.EPOLLET
		}
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | mode,
			Fd: int32(uint32(tok)), Pad: int32(uint32(tok >> 32))}
		if addErr = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, int(fd), &ev); addErr == nil {
			c.parkTok = tok
			p.parked[tok] = c
		}
	})
	if err != nil {
		return err
	}
	return addErr
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
	if tok == 0 || p.parked[tok] != c {
		return false
	}
	delete(p.parked, tok)
	c.parkTok = 0
	p.del(c)
	return true
}

// del takes c's socket out of the epoll set. p.mu is held: after Close
// the set's fd number may belong to another file.
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

// claim takes a loop copier (Options.Loop) whose event fired out of the
// map for the event loop; its socket stays in the epoll set. It reports
// whether c was still parked under tok.
func (p *Parker) claim(c *copier, tok uint64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c.parkTok != tok || p.parked[tok] != c {
		return false
	}
	delete(p.parked, tok)
	c.parkTok = 0
	return true
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
	c.parkTok = tok
	p.parked[tok] = c
	p.mu.Unlock()
	if c.req.Load() != 0 || c.t.forced.Load() {
		p.unpark(c)
	}
}

// handoff gives a claimed loop copier a goroutine of its own; its socket
// leaves the epoll set.
func (p *Parker) handoff(c *copier) {
	p.mu.Lock()
	p.del(c)
	p.mu.Unlock()
	go c.resume()
}

// wait resumes the copiers whose sockets became ready.
func (p *Parker) wait() {
	events := make([]unix.EpollEvent, 128)
	var buf []byte // the event loop's read buffer (Options.Loop)
	var n int
	var werr error
	ready := func(fd uintptr) bool {
		n, werr = unix.EpollWait(int(fd), events, 0)
		return n > 0 || (werr != nil && werr != unix.EINTR)
	}
	for {
		if err := p.epRC.Read(ready); err != nil || werr != nil {
			// EpollWait fails only on a bad epoll fd or buffer, which cannot
			// happen here; end rather than spin.
			return
		}
		for i := range n {
			tok := uint64(uint32(events[i].Fd)) | uint64(uint32(events[i].Pad))<<32
			p.mu.Lock()
			c := p.parked[tok]
			p.mu.Unlock()
			if c == nil {
				continue
			}
			if !c.t.loop {
				if p.take(c) {
					go c.resume()
				}
				continue
			}
			if !p.claim(c, tok) {
				continue
			}
			if buf == nil {
				buf = make([]byte, loopBufferSize)
			}
			hup := events[i].Events&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0
			if c.loopStep(buf, hup) {
				p.rearm(c, tok)
			} else {
				p.handoff(c)
			}
		}
	}
}
