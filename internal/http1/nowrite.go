package http1

import "syscall"

// NowWriter writes to a socket without waiting: as much as the socket
// takes at once. A write that completes this way needs no write deadline,
// which is what send_timeout and proxy_send_timeout bound: the wait for a
// socket that takes no more (nginx arms them only when a write would
// block). The zero value is ready to use; keep one per connection, as each
// Write reuses its callback instead of allocating one.
type NowWriter struct {
	p  []byte
	n  int
	fn func(fd uintptr) bool
}

// Write writes as much of p to rc as the socket takes at once and returns
// how much that was. A full socket, an error or an expired write deadline
// just ends it early: the caller writes the rest the ordinary way, under a
// deadline, and meets the error there.
func (w *NowWriter) Write(rc syscall.RawConn, p []byte) int {
	if w.fn == nil {
		w.fn = w.write
	}
	w.p, w.n = p, 0
	rc.Write(w.fn)
	n := w.n
	w.p = nil
	return n
}

func (w *NowWriter) write(fd uintptr) bool {
	for w.n < len(w.p) {
		n, err := syscall.Write(int(fd), w.p[w.n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			break
		}
		w.n += n
	}
	// Never wait for the socket: the caller does that under its deadline.
	return true
}
