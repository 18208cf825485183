package netpoll

import (
	"errors"
	"syscall"
)

// Token identifies one registration in a Loop: the slot's index in the low
// 32 bits, its generation in the high 32. 0 is no registration.
type Token uint64

// Event is one readiness of a registration, as its Handler sees it.
type Event struct {
	Tok Token
	// Hup: the socket reported its peer's end of output, a hang-up or an
	// error (EPOLLRDHUP, EPOLLHUP, EPOLLERR), which only a read until EOF
	// or EAGAIN finds out about.
	Hup bool
}

// Handler is what a registration calls when its socket is ready. Ready
// runs in the Loop's goroutine, without the Loop's lock: it must not
// block. For a Claim registration it owns the registration until it calls
// Rearm or Release.
type Handler interface {
	Ready(l *Loop, ev Event)
}

// Mode says what a registration's event does to it.
type Mode uint8

const (
	// OneShot: reported once (EPOLLONESHOT, readability); at its event
	// the registration ends, and the socket stays in the set, disabled,
	// until it is closed or added again (which takes the disabled
	// registration over).
	OneShot Mode = iota
	// Claim: edge-triggered readability; an event claims the
	// registration for its Handler (Take fails) until Rearm puts it back
	// or Release ends it. Every arrival after the last read is an event.
	Claim
	// Watch: edge-triggered; every event is reported, the registration
	// stays until Forget. Used by Conn.
	Watch
)

// ErrClosed is returned by Add after the Loop's Poller was closed.
var ErrClosed = errors.New("netpoll: poller closed")

// ErrUnsupported is returned by NewPoller where there is no event loop
// (not Linux): the caller relays with goroutines.
var ErrUnsupported = errors.New("netpoll: no event loop on this system")

// ErrAgain is the error of Read and Now.Read when the socket has nothing
// yet (EAGAIN).
var ErrAgain error = syscall.EAGAIN
