package tunnel

import (
	"errors"
	"os"
	"sync"
	"time"

	"wsgate/internal/netpoll"
)

// smallPool holds the smallBufferSize read buffers of running copiers.
var smallPool = sync.Pool{New: func() any {
	b := make([]byte, smallBufferSize)
	return &b
}}

// copyClientToUpstream and copyUpstreamToClient run the userspace relay;
// the names make goroutine dumps say which way a tunnel is stuck.
func (c *copier) copyClientToUpstream() { c.run() }
func (c *copier) copyUpstreamToClient() { c.run() }

// resume continues a parked copier in a new goroutine.
func (c *copier) resume() {
	c.t.armPark()
	c.run()
}

func (c *copier) run() {
	e, parked := c.copy()
	if parked {
		return // the copier may already run in another goroutine
	}
	c.releaseBuffers()
	c.t.onEnd(e)
}

// nowPool holds the netpoll.Now of running copiers: a parked copier
// keeps none.
var nowPool = sync.Pool{New: func() any { return new(netpoll.Now) }}

// releaseBuffers gives the read buffers and the Now back to their pools.
func (c *copier) releaseBuffers() {
	if c.small != nil {
		smallPool.Put(c.small)
		c.small = nil
	}
	c.dropBig()
	if c.now != nil {
		nowPool.Put(c.now)
		c.now = nil
	}
}

// dropBig gives the large buffer back (to Options.Pool when it came from
// there).
func (c *copier) dropBig() {
	if c.big != nil {
		if pool := c.t.opts.Pool; pool != nil {
			pool.Put(c.big)
		}
		c.big = nil
	}
}

// readBuffer returns the buffer for the next read: a large one while reads
// fill more than the small one, the small one otherwise.
func (c *copier) readBuffer() []byte {
	if c.big != nil {
		return *c.big
	}
	if c.small == nil {
		c.small = smallPool.Get().(*[]byte)
	}
	return *c.small
}

// sized adapts the read buffer to a read of n bytes into buf: a read that
// fills the small buffer switches to a large one, which is kept while
// reads bring more than the small one holds (a stream) and given back at
// the first read that does not.
func (c *copier) sized(n int, buf []byte) {
	switch {
	case c.big == nil && n == len(buf):
		if pool := c.t.opts.Pool; pool != nil {
			c.big = pool.Get()
		} else {
			b := make([]byte, DefaultBufferSize)
			c.big = &b
		}
	case c.big != nil && n <= smallBufferSize:
		c.dropBig()
	}
}

// nowFor returns the copier's Now, taken from nowPool at the first need.
func (c *copier) nowFor() *netpoll.Now {
	if c.now == nil {
		c.now = nowPool.Get().(*netpoll.Now)
	}
	return c.now
}

// copy relays with userspace buffers (see readBuffer and sized), until the
// copier ends or parks (parked true: the copier's goroutine must end).
// It starts over after a park: a request that woke the copier is handled
// first.
func (c *copier) copy() (e copierEnd, parked bool) {
	if c.out != nil && !c.outRaw {
		p := c.out
		c.out = nil
		if err := c.write(p); err != nil {
			return c.end(endWriteError, err), false
		}
		if c.t.opts.FrameAware {
			c.notePassed()
		}
	}
	if g := c.g; g != nil && g.reject != 0 {
		// The event loop found src over a limit (loopStep).
		rest := g.held
		g.held = nil
		if e, done := c.rejected(rest); done {
			return e, false
		}
	}
	if err := c.stash; err != nil {
		c.stash = nil
		return c.sourceEnded(err), false
	}
	if c.outRaw {
		p := c.out
		c.out, c.outRaw = nil, false
		c.t.touch()
		if e, done := c.process(p); done {
			return e, false
		}
	}
	if c.req.Load()&^reqPark != 0 || c.parkedOnce {
		// Resumed: clear the park interrupt and act on requests so far.
		if e, done := c.onRequest(); done {
			return e, false
		}
	}
	for {
		buf := c.readBuffer()
		var n int
		var err error
		if c.t.loop && c.state == stateRelay && c.req.Load() == 0 {
			// Never block: a read that would wait parks the direction
			// in the event loop. A closing direction stays here.
			n, err = c.rawRead(buf)
			if err == netpoll.ErrAgain {
				if c.park() {
					return copierEnd{}, true
				}
				if c.req.Load() != 0 || c.t.forced.Load() {
					if e, done := c.onRequest(); done {
						return e, false
					}
					continue
				}
				// The Parker is closed: wait here, with a buffer taken
				// again (park gave the last one back).
				buf = c.readBuffer()
				n, err = c.src().Read(buf)
			}
		} else {
			n, err = c.src().Read(buf)
		}
		if n > 0 {
			c.t.touch()
			if e, done := c.process(buf[:n]); done {
				return e, false
			}
			c.sized(n, buf)
		}
		if err == nil {
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) && c.req.Load() == 0 && !c.t.forced.Load() {
			// A stale interrupt: request set its bit, an earlier
			// onRequest cleared the bit and the deadline, then request
			// set the deadline. Read deadlines here only interrupt, so
			// clear it and read on, unless a request came meanwhile:
			// request sets its bit before the deadline, so one whose
			// deadline this clears is seen by the check after it.
			if h := c.t.opts.staleHook; h != nil {
				h()
			}
			c.src().SetReadDeadline(time.Time{})
			if c.req.Load() == 0 && !c.t.forced.Load() {
				continue
			}
		}
		if errors.Is(err, os.ErrDeadlineExceeded) && c.req.Load() != 0 && !c.t.forced.Load() {
			if c.req.Load() == reqPark {
				if c.park() {
					return copierEnd{}, true
				}
			}
			if e, done := c.onRequest(); done {
				return e, false
			}
			continue
		}
		return c.sourceEnded(err), false
	}
}

// onRequest handles a request after an interrupted Read: it clears the
// interrupt, then acts on every request bit set so far. A park request
// left is dropped: the copier is busy again.
func (c *copier) onRequest() (copierEnd, bool) {
	c.src().SetReadDeadline(time.Time{})
	for {
		old := c.req.Load()
		if old&reqPark == 0 || c.req.CompareAndSwap(old, old&^reqPark) {
			break
		}
	}
	return c.process(nil)
}

// write relays p to dst and counts it.
func (c *copier) write(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	n, err := c.writeN(p)
	c.counter().Add(int64(n))
	return err
}

func (c *copier) writeRaw(p []byte) error {
	_, err := c.writeN(p)
	return err
}

// writeN writes p with the SendTimeout deadline: proxy_send_timeout runs
// only while a write is blocked, as nginx arms it only when a send could
// not complete (ngx_http_upstream_process_upgraded). A TCP destination is
// first written without waiting; only what the socket did not take is
// written with the deadline armed, so that the usual write, which the
// socket takes whole, costs no timer.
func (c *copier) writeN(p []byte) (int, error) {
	c.t.writing.Add(1)
	defer c.t.writing.Add(-1)
	done := 0
	if c.dstRC() != nil {
		var err error
		done, err = c.nowFor().Write(c.dstRC(), p)
		if err != nil {
			return done, err
		}
		if done == len(p) {
			return done, nil
		}
	}
	if st := c.t.opts.SendTimeout; st > 0 {
		c.dst().SetWriteDeadline(time.Now().Add(st))
	}
	n, err := c.dst().Write(p[done:])
	return done + n, err
}

// rawRead reads src once without waiting: netpoll.ErrAgain when nothing
// is there, io.EOF at its end.
func (c *copier) rawRead(buf []byte) (int, error) {
	return c.nowFor().Read(c.srcRC(), buf)
}
