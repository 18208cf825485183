package tunnel

import (
	"errors"
	"net"
	"os"
	"time"
)

// spliceClientToUpstream and spliceUpstreamToClient run the kernel splice
// relay.
func (c *copier) spliceClientToUpstream() { c.t.onEnd(c.splice()) }
func (c *copier) spliceUpstreamToClient() { c.t.onEnd(c.splice()) }

// splice relays through the kernel: (*net.TCPConn).ReadFrom of a
// *net.TCPConn uses splice(2). With ReadTimeout set, src gets a read deadline
// every ReadTimeout/4 so that the copier can report activity to the idle
// timer; the idle time is thus known to a quarter of ReadTimeout, and a
// write blocked longer than ReadTimeout counts as idle. SendTimeout is
// armed per interval on dst.
func (c *copier) splice() copierEnd {
	if c.outRaw {
		p := c.out
		c.out, c.outRaw = nil, false
		c.t.touch()
		if err := c.write(p); err != nil {
			return c.end(endWriteError, err)
		}
	}
	dst := c.dst().(*net.TCPConn)
	iv := c.t.opts.ReadTimeout / 4
	if iv <= 0 {
		iv = c.t.opts.SendTimeout / 4
	}
	var writeDeadline time.Time
	for {
		if iv > 0 {
			now := time.Now()
			c.src().SetReadDeadline(now.Add(iv))
			if st := c.t.opts.SendTimeout; st > 0 {
				writeDeadline = now.Add(iv + st)
				dst.SetWriteDeadline(writeDeadline)
			}
		}
		n, err := dst.ReadFrom(c.src())
		if n > 0 {
			c.t.touch()
			c.counter().Add(n)
		}
		switch {
		case err == nil: // EOF
			return copierEnd{dir: c.dir, kind: endEOF, halfClosed: closeWrite(c.dst())}
		case iv > 0 && errors.Is(err, os.ErrDeadlineExceeded) && !c.t.forced.Load():
			if !writeDeadline.IsZero() && !time.Now().Before(writeDeadline) {
				return c.end(endWriteError, err)
			}
		default:
			return c.end(endReadError, err)
		}
	}
}
