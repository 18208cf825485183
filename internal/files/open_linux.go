//go:build linux

package files

import (
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// handle is an open file: its descriptor and what fstat(2) said of it.
// Opening, fstat, pread and close go straight to the kernel, without an
// *os.File (its allocation, finalizer and poller probe) for what most
// requests need: a small file read into the response buffer.
type handle struct {
	fd    int
	size  int64
	mtime int64 // seconds
	mode  uint32
	id    fileID // for the Cache
}

// openPath opens p, a path followed by a NUL byte, read-only (O_PATH with
// pathOnly: enough for fstat, as try_files and index need) and fstats it.
func openPath(p []byte, pathOnly bool) (handle, error) {
	flags := unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOCTTY
	if pathOnly {
		flags = unix.O_PATH | unix.O_CLOEXEC
	}
	var fd uintptr
	var errno syscall.Errno
	atCWD := unix.AT_FDCWD
	for {
		fd, _, errno = unix.Syscall6(unix.SYS_OPENAT, uintptr(atCWD), uintptr(unsafe.Pointer(&p[0])), uintptr(flags), 0, 0, 0)
		if errno != unix.EINTR {
			break
		}
	}
	if errno != 0 {
		return handle{fd: -1}, errno
	}
	h := handle{fd: int(fd)}
	var st unix.Stat_t
	if err := unix.Fstat(h.fd, &st); err != nil {
		unix.Close(h.fd)
		return handle{fd: -1}, err
	}
	h.size, h.mtime, h.mode = st.Size, int64(st.Mtim.Sec), uint32(st.Mode)
	h.id = fileID{dev: st.Dev, ino: st.Ino, size: st.Size, mtimeNs: st.Mtim.Nano(), ctimeNs: st.Ctim.Nano(), mode: uint32(st.Mode)}
	return h, nil
}

// statPath looks p, a path followed by a NUL byte, up with statx(2), as
// open(2) would (following symbolic links), for the Cache: ok is false
// when it fails or names something other than a regular file. missing is
// the error when the path names nothing (ENOENT, ENOTDIR), which open(2)
// would return too: the caller need not try.
//
// It is a system call through the scheduler (Syscall, not RawSyscall),
// although entering its syscall state wakes the runtime's monitor thread
// when the process had gone idle between requests (about 8 % of the
// proxy's CPU in bench case h): a raw call would hold its P while a
// lookup waits for a disk or a network filesystem, and a garbage
// collection's stop-the-world would then wait for it too, stalling the
// whole process where nginx stalls one worker.
func statPath(p []byte) (id fileID, ok bool, missing error) {
	var stx unix.Statx_t
	atCWD := unix.AT_FDCWD
	for {
		_, _, errno := unix.Syscall6(unix.SYS_STATX, uintptr(atCWD), uintptr(unsafe.Pointer(&p[0])),
			uintptr(unix.AT_STATX_SYNC_AS_STAT), uintptr(unix.STATX_BASIC_STATS), uintptr(unsafe.Pointer(&stx)), 0)
		if errno == unix.EINTR {
			continue
		}
		if errno == unix.ENOENT || errno == unix.ENOTDIR {
			return fileID{}, false, errno
		}
		if errno != 0 || uint32(stx.Mode)&unix.S_IFMT != unix.S_IFREG {
			return fileID{}, false, nil
		}
		break
	}
	return fileID{
		dev:     unix.Mkdev(stx.Dev_major, stx.Dev_minor),
		ino:     stx.Ino,
		size:    int64(stx.Size),
		mtimeNs: stx.Mtime.Sec*1e9 + int64(stx.Mtime.Nsec),
		ctimeNs: stx.Ctime.Sec*1e9 + int64(stx.Ctime.Nsec),
		mode:    uint32(stx.Mode),
	}, true, nil
}

// cachedHandle is the handle of a file served from the Cache: no
// descriptor.
func cachedHandle(id fileID) handle {
	return handle{fd: -1, size: id.size, mtime: id.mtimeSec(), mode: id.mode, id: id}
}

func (h *handle) isDir() bool     { return h.mode&unix.S_IFMT == unix.S_IFDIR }
func (h *handle) isRegular() bool { return h.mode&unix.S_IFMT == unix.S_IFREG }

// readAt fills buf from offset off.
func (h *handle) readAt(buf []byte, off int64) error {
	for len(buf) > 0 {
		n, err := unix.Pread(h.fd, buf, off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return errShrunk
		}
		buf, off = buf[n:], off+int64(n)
	}
	return nil
}

// file hands the descriptor to an *os.File (for sendfile through
// io.Copy); the handle no longer owns it.
func (h *handle) file(name string) *os.File {
	f := os.NewFile(uintptr(h.fd), name)
	h.fd = -1
	return f
}

func (h *handle) close() {
	if h.fd >= 0 {
		unix.Close(h.fd)
		h.fd = -1
	}
}
