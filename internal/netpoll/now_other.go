//go:build !unix

package netpoll

import (
	"net"
	"syscall"
)

// Now cannot reach a socket here: a read reports ErrUnsupported and a
// write moves nothing, so that callers take their ordinary path.
type Now struct{}

func (x *Now) Read(syscall.RawConn, []byte) (int, error)  { return 0, ErrUnsupported }
func (x *Now) Write(syscall.RawConn, []byte) (int, error) { return 0, nil }

// PeekState is what Peek found on a socket.
type PeekState uint8

const (
	PeekEmpty PeekState = iota // nothing to read yet
	PeekData                   // bytes are waiting
	PeekEnd                    // end of input or an error
)

// Peek finds nothing here.
func Peek(uintptr) PeekState { return PeekEmpty }

// Readable reports false here.
func Readable(syscall.RawConn) bool { return false }

// Read and Write have no raw socket here.
func Read(int, []byte) (int, error)  { return 0, ErrUnsupported }
func Write(int, []byte) (int, error) { return 0, ErrUnsupported }

// PeekConn cannot look at a socket here: callers read instead.
func PeekConn(net.Conn, []byte) (int, error) { return 0, ErrUnsupported }
