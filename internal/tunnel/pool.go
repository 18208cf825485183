package tunnel

import "sync"

// DefaultBufferSize is the size of pooled relay buffers (16 KiB).
const DefaultBufferSize = 16 << 10

// smallBufferSize is the size of the read buffer a running userspace
// copier takes from a shared pool. It takes the read that waits for a quiet
// peer; only a read that fills it (more is likely queued) takes a pooled
// DefaultBufferSize buffer, kept while reads bring more than
// smallBufferSize bytes and given back at the first that does not. A parked
// copier holds neither.
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

// loopBufferSize is the read buffer of each of a Parker's event loops
// (one per shard), not one per tunnel, so it can hold a whole large
// message: a 16 KiB WebSocket message with its frame header is then one
// read and one write instead of two of each.
const loopBufferSize = 256 << 10
