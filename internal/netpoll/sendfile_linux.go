//go:build linux

package netpoll

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// ReadFrom sends a file to c with sendfile(2) when r is an *os.File or an
// *io.LimitedReader of one, as (*net.TCPConn).ReadFrom does: no userspace
// copy, waiting under the write deadline while the socket takes no more.
// The file's offset moves past what was sent, and a LimitedReader's N
// goes down by as much. Any other reader is copied through a buffer.
func (c *Conn) ReadFrom(r io.Reader) (int64, error) {
	src, remain := r, int64(1<<62)
	lr, _ := r.(*io.LimitedReader)
	if lr != nil {
		src, remain = lr.R, lr.N
		if remain <= 0 {
			return 0, nil
		}
	}
	f, ok := src.(*os.File)
	if !ok {
		return io.Copy(writerOnly{c}, r)
	}
	frc, err := f.SyscallConn()
	if err != nil {
		return io.Copy(writerOnly{c}, r)
	}
	var sent int64
	var serr, werr error // sendfile's error; the wait's
	ferr := frc.Control(func(infd uintptr) {
		werr = c.rawWait(opWrite, "sendfile", func(outfd uintptr) bool {
			for remain > 0 {
				n, err := unix.Sendfile(int(outfd), int(infd), nil, int(min(remain, 1<<30)))
				if n > 0 {
					sent += int64(n)
					remain -= int64(n)
				}
				switch {
				case err == unix.EINTR:
					continue
				case err == unix.EAGAIN:
					return false
				case err != nil:
					serr = os.NewSyscallError("sendfile", err)
					return true
				case n == 0:
					return true // the file's end
				}
			}
			return true
		})
	})
	if lr != nil {
		lr.N = remain
	}
	switch {
	case ferr != nil:
		return sent, ferr
	case werr != nil:
		return sent, werr
	case serr != nil:
		return sent, c.pathError("write", serr.(*os.SyscallError).Err)
	}
	return sent, nil
}

// writerOnly hides a Conn's ReadFrom from io.Copy.
type writerOnly struct{ io.Writer }
