package http1

import (
	"io"
	"os"
	"sync"
	"time"
)

// fileChunk bounds one sendfile step under a fresh send_timeout deadline:
// nginx's send_timeout runs between two successive writes, so a slow
// client that keeps taking bytes is not cut off; 256 KiB at the slowest
// rate send_timeout 60s tolerates is about 4 KiB/s.
const fileChunk = 256 << 10

// copyBufs lends the userspace copy buffer used when the connection
// cannot take a file from the kernel (TLS).
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// WriteFile writes n bytes of f, starting at offset off, as body bytes.
// A part that fits in the connection's write buffer is read into it (one
// write for head and body: small static files cost one read and one
// write); a larger part goes out after a flush through io.Copy to the
// socket, which for a plain TCP connection is the kernel's sendfile(2)
// with no userspace copy, so memory stays constant whatever the file's
// size. f's offset is moved. It returns the bytes written.
func (w *ResponseWriter) WriteFile(f *os.File, off, n int64) (int64, error) {
	if !w.wroteHeader {
		if err := w.WriteHeader(200, "", -1); err != nil {
			return 0, err
		}
	}
	if w.noBody || n <= 0 {
		return 0, nil
	}
	if w.clen >= 0 && w.written+n > w.clen {
		w.closeAfter, w.keepalive = true, false
		return 0, ErrContentLength
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	bw := w.c.bw
	if w.chunked || w.stage != nil {
		// Chunked framing needs its chunk lines, and a body filter the
		// bytes (a file whose length a body filter made unknown).
		return w.copyFile(f, n)
	}
	if int64(bw.Available()) >= n {
		// Read straight into the write buffer's free space.
		buf := bw.AvailableBuffer()[:n]
		m, err := io.ReadFull(f, buf)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		k, err := w.Write(buf[:m])
		return int64(k), err
	}
	if err := bw.Flush(); err != nil {
		w.broken = true
		return 0, err
	}
	conn := w.c.conn
	perWrite := w.c.cw.perWrite
	var total int64
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	lr := &io.LimitedReader{R: f}
	for total < n {
		step := min(n-total, fileChunk)
		pace := &w.c.cw.pace
		if pace.rate > 0 {
			var err error
			if step, err = pace.allow(step); err != nil {
				w.broken = true
				return total, err
			}
		}
		if perWrite > 0 {
			if err := conn.SetWriteDeadline(time.Now().Add(perWrite)); err != nil {
				w.broken = true
				return total, err
			}
		}
		lr.N = step
		// io.CopyBuffer hands a *net.TCPConn the *io.LimitedReader of an
		// *os.File, which it sends with sendfile(2); the buffer serves
		// only connections that cannot (TLS).
		m, err := io.CopyBuffer(conn, lr, *bp)
		if pace.rate > 0 {
			pace.wrote(m)
		}
		total += m
		w.written += m
		if err == nil && m < step {
			err = io.ErrUnexpectedEOF // the file shrank under us
		}
		if err != nil {
			w.broken = true
			return total, err
		}
	}
	if perWrite > 0 {
		conn.SetWriteDeadline(time.Time{})
	}
	return total, nil
}

// BodyBuffer returns n bytes of the write buffer's free space for the
// caller to fill with body bytes and then pass to Write (which then copies
// nothing), or nil when the body cannot take them that way: no header
// written yet, a response without a body (HEAD, 304), chunked framing, or
// not n bytes free. It lets a small file go from pread(2) straight into
// the buffer that also holds the head.
func (w *ResponseWriter) BodyBuffer(n int) []byte {
	if !w.wroteHeader || w.noBody || w.chunked || w.stage != nil || n <= 0 {
		return nil
	}
	if w.clen >= 0 && w.written+int64(n) > w.clen {
		return nil
	}
	bw := w.c.bw
	if bw.Available() < n {
		return nil
	}
	// The body is then written from bw's own memory: not sendWhole's.
	w.headHeld = false
	return bw.AvailableBuffer()[:n]
}

// copyFile copies n bytes of f through the write buffer.
func (w *ResponseWriter) copyFile(f *os.File, n int64) (int64, error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	var total int64
	for total < n {
		k := min(int64(len(buf)), n-total)
		m, err := io.ReadFull(f, buf[:k])
		if m > 0 {
			if _, werr := w.Write(buf[:m]); werr != nil {
				return total, werr
			}
			total += int64(m)
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return total, err
		}
	}
	return total, nil
}
