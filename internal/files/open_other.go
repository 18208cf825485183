//go:build !linux

package files

import (
	"io"
	"os"
)

// handle is an open file and what Stat said of it (the portable form of
// open_linux.go's).
type handle struct {
	f     *os.File
	fi    os.FileInfo
	size  int64
	mtime int64
	id    fileID // never filled: no Cache here
}

// openPath opens p, a path followed by a NUL byte, and stats it.
func openPath(p []byte, pathOnly bool) (handle, error) {
	f, err := os.Open(string(p[:len(p)-1]))
	if err != nil {
		return handle{}, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return handle{}, err
	}
	return handle{f: f, fi: fi, size: fi.Size(), mtime: fi.ModTime().Unix()}, nil
}

func (h *handle) isDir() bool     { return h.fi.IsDir() }
func (h *handle) isRegular() bool { return h.fi.Mode().IsRegular() }

func (h *handle) readAt(buf []byte, off int64) error {
	_, err := h.f.ReadAt(buf, off)
	if err == io.EOF {
		err = errShrunk
	}
	return err
}

func (h *handle) file(name string) *os.File {
	f := h.f
	h.f = nil
	return f
}

func (h *handle) close() {
	if h.f != nil {
		h.f.Close()
		h.f = nil
	}
}

// statPath is false: the Cache is used on Linux only.
func statPath(p []byte) (fileID, bool, error) { return fileID{}, false, nil }

func cachedHandle(id fileID) handle { panic("files: no cache on this platform") }
