// Package netpoll is wsgate's event-loop room: the only package that makes
// raw socket system calls (epoll, non-blocking read and write, MSG_PEEK,
// socket and connect).
//
// On Linux a Poller is a set of event loops, one per shard (GOMAXPROCS by
// default), so that relaying spreads over the cores as nginx's workers and
// HAProxy's threads do. Each Loop is an epoll set registered in Go's own
// poller (its goroutine parks like any other and holds no thread while
// nothing is ready), a goroutine that waits for it, and a slot table of
// registrations. A registration is known to the kernel by a Token, the
// slot's index and its generation, so an event of an earlier registration
// of a reused slot is told apart and dropped. The owner of a registration
// keeps its Token in a variable of its own, which the loop reads and
// writes only under its lock: whoever takes a registration (Take) and the
// loop's event (which claims it) cannot both win.
//
// Conn is a net.Conn over a raw TCP socket that never enters Go's poller
// (made by DialTCP, Dial): reads and writes are direct system calls, and
// only one that finds the socket not ready waits, through a Waiter woken
// by one of the Default poller's loops. It is full duplex, and gives its
// descriptor to event loops through SyscallConn without duplicating it.
//
// Read, Write, Now and Peek are the raw I/O helpers shared by the tunnel
// relay, the HTTP/1 server's first write and the upstream keepalive probe.
//
// Elsewhere than Linux, NewPoller returns ErrUnsupported and DialTCP
// leaves the dial to net's dialer: callers fall back to a goroutine per
// direction, which passes the same tests with more memory per idle tunnel.
// The helpers of Now and Peek work on every Unix.
package netpoll
