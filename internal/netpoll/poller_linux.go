//go:build linux

package netpoll

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Supported says whether this system has event loops (NewPoller works).
const Supported = true

// Poller is a set of event loops, one per shard. Its owner spreads its
// registrations over them with Pick; a registration stays on the Loop it
// was made on. Safe for concurrent use.
type Poller struct {
	loops []*Loop
	next  atomic.Uint32
}

// NewPoller starts n event loops (n <= 0: one per GOMAXPROCS at the
// call). ctx, when not nil, makes each Loop's Ctx.
func NewPoller(n int, ctx func(*Loop) any) (*Poller, error) {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	p := &Poller{loops: make([]*Loop, 0, n)}
	for range n {
		l, err := newLoop(ctx)
		if err != nil {
			p.Close(nil)
			return nil, err
		}
		p.loops = append(p.loops, l)
	}
	return p, nil
}

// Shards returns the number of loops.
func (p *Poller) Shards() int { return len(p.loops) }

// Shard returns the i-th loop, 0 <= i < Shards().
func (p *Poller) Shard(i int) *Loop { return p.loops[i] }

// Pick returns the loop for a new owner of registrations, round robin.
func (p *Poller) Pick() *Loop {
	if len(p.loops) == 1 {
		return p.loops[0]
	}
	return p.loops[p.next.Add(1)%uint32(len(p.loops))]
}

// Registered returns the number of registrations with their Handler in
// place, over all loops.
func (p *Poller) Registered() int {
	n := 0
	for _, l := range p.loops {
		n += l.Registered()
	}
	return n
}

// Close ends every loop; each (if not nil) gets the Handler of every
// registration that was in place, in the caller's goroutine, whose token
// is then 0. Later Adds fail with ErrClosed. Idempotent.
func (p *Poller) Close(each func(Handler)) {
	for _, l := range p.loops {
		l.close(each)
	}
}

var (
	defaultOnce sync.Once
	defaultP    *Poller
	defaultErr  error
)

// Default returns the process's Poller for Conn, made at the first call
// with one loop per GOMAXPROCS and never closed, as Go's own poller: a
// fixed number of epoll sets for the process, none per connection or per
// goroutine.
func Default() (*Poller, error) {
	defaultOnce.Do(func() { defaultP, defaultErr = NewPoller(0, nil) })
	return defaultP, defaultErr
}
