package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// MaxConfigSize bounds the bytes one configuration reads: the main file
// and every file it includes, together. nginx has no bound; without one,
// a file that never ends (a device, a growing file) would be read until
// memory runs out, which at a reload takes the serving process down.
const MaxConfigSize = 64 << 20

// NotRegularError is a file named by the configuration that is not a
// regular file: a directory, a named pipe (whose open would wait for a
// writer), a device (/dev/zero never ends; nginx reads any device as
// empty) or a socket. wsgate reads only regular files, which a reload can
// read again and which end.
type NotRegularError struct {
	Path string
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%q is %s, not a regular file", e.Path, fileKind(e.Mode))
}

// fileKind names the type in mode with its article.
func fileKind(mode fs.FileMode) string {
	switch {
	case mode.IsDir():
		return "a directory"
	case mode&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case mode&fs.ModeCharDevice != 0:
		return "a character device"
	case mode&fs.ModeDevice != 0:
		return "a block device"
	case mode&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a plain file (" + mode.Type().String() + ")"
}

// TooLargeError is a file that would take what is read past a bound.
type TooLargeError struct {
	Path  string
	Limit int64 // bytes
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%q takes what is read past %s", e.Path, sizeText(e.Limit))
}

// sizeText is n bytes in the largest binary unit that divides it.
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// ReadFile reads the regular file at path, following symbolic links, and
// at most limit bytes of it: a longer file is a *TooLargeError, anything
// but a regular file a *NotRegularError, found before it is opened and
// again on what was opened (the name may have changed in between). The
// open neither waits (O_NONBLOCK: a named pipe without a writer) nor
// takes a terminal as the controlling one (O_NOCTTY). It is for every
// file a configuration names and wsgate reads: includes, certificates
// and keys, the pid file.
func ReadFile(path string, limit int64) ([]byte, error) {
	if st, err := os.Stat(path); err != nil {
		// As open(2) would have failed: no such file, no permission.
		if pe, ok := err.(*fs.PathError); ok {
			pe.Op = "open"
		}
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, &NotRegularError{Path: path, Mode: st.Mode()}
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &NotRegularError{Path: path, Mode: st.Mode()}
	}
	if st.Size() > limit {
		return nil, &TooLargeError{Path: path, Limit: limit}
	}
	// The file may grow while it is read: read one byte past the
	// limit to tell.
	b := make([]byte, 0, st.Size()+1)
	for {
		n, err := f.Read(b[len(b):min(cap(b), int(limit)+1)])
		b = b[:len(b)+n]
		if int64(len(b)) > limit {
			return nil, &TooLargeError{Path: path, Limit: limit}
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// readFile reads a file of the configuration through the options' reader,
// within what is left of MaxConfigSize.
func (p *parser) readFile(path string) ([]byte, error) {
	left := MaxConfigSize - p.size
	var data []byte
	var err error
	if p.opts.ReadFile != nil {
		data, err = p.opts.ReadFile(path)
	} else {
		data, err = ReadFile(path, max(left, 0))
	}
	if err == nil && int64(len(data)) > left {
		err = &TooLargeError{Path: path, Limit: left}
	}
	if err != nil {
		return nil, err
	}
	p.size += int64(len(data))
	return data, nil
}

// readErrMsg words a failure to read the configuration file at path (an
// included one when include is set): what the file is and what to do
// instead, or the system error as nginx words it.
func readErrMsg(path string, err error, include bool) string {
	var nr *NotRegularError
	var tl *TooLargeError
	switch {
	case errors.As(err, &nr) && nr.Mode.IsDir() && include:
		return fmt.Sprintf("%v: to include the files in it, write \"include %s;\"", nr, filepath.Join(path, "*"))
	case errors.As(err, &nr) && nr.Mode.IsDir():
		return fmt.Sprintf("%v: name a configuration file, not its directory", nr)
	case errors.As(err, &nr) && include:
		return fmt.Sprintf("%v: wsgate reads configuration only from regular files, which end and which a reload reads again (nginx reads a device as empty); include a regular file, or remove the include", nr)
	case errors.As(err, &nr):
		return fmt.Sprintf("%v: wsgate reads configuration only from regular files, which end and which a reload reads again; write the configuration to a file and name that", nr)
	case errors.As(err, &tl):
		return fmt.Sprintf("reading %q would take the configuration past %s, the most wsgate reads for one configuration with all its includes; include fewer or smaller files", path, sizeText(MaxConfigSize))
	}
	return sysErrMsg("open", path, err)
}
