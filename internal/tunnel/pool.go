package tunnel

import "sync"

// DefaultBufferSize is the size of pooled relay buffers (16 KiB).
const DefaultBufferSize = 16 << 10

// smallBufferSize is the per-direction buffer every userspace copier owns.
// It takes the read that waits for an idle peer; only a read that fills it
// (more is likely queued) takes a pooled buffer, which goes back to the pool
// after the first read that does not fill it. An idle tunnel therefore holds
// 2 × smallBufferSize bytes of buffer and no pooled one. Go cannot lend a
// buffer only once a read is ready without the netpoller's raw readiness
// (a later epoll-parking design can drop even these).
const smallBufferSize = 1 << 10

// BufferPool lends relay buffers to tunnels. One pool is shared by all
// tunnels of a process; it is safe for concurrent use.
type BufferPool struct {
	size int
	p    sync.Pool
}

// NewBufferPool returns a pool of size-byte buffers (DefaultBufferSize when
// size <= 0).
func NewBufferPool(size int) *BufferPool {
	if size <= 0 {
		size = DefaultBufferSize
	}
	bp := &BufferPool{size: size}
	bp.p.New = func() any {
		b := make([]byte, size)
		return &b
	}
	return bp
}

// Get returns a buffer of the pool's size.
func (bp *BufferPool) Get() *[]byte { return bp.p.Get().(*[]byte) }

// Put returns b to the pool; b must come from Get and not be used after.
func (bp *BufferPool) Put(b *[]byte) { bp.p.Put(b) }
