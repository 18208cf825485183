// Package connstats holds the client connection counters that nginx's
// stub_status module shows (ngx_stat_accepted, ngx_stat_handled,
// ngx_stat_requests, ngx_stat_active, ngx_stat_reading, ngx_stat_writing)
// and the variables $connections_* read. One Counters lives as long as the
// server, so the figures are kept across reloads as nginx keeps them in
// shared memory across its workers' generations.
//
// Who counts what, as nginx does:
//   - the server, for each accepted connection: Accepted at accept,
//     Closed when the connection ends before the HTTP/1.x loop has it;
//     the loop then counts Closed just before it closes the socket
//     (ngx_http_close_connection), unless a tunnel took it over;
//   - the HTTP/1.x loop, for each request: Reading from the first byte
//     of its head (ngx_http_alloc_request), Writing once the head is read
//     (ngx_http_process_request), WriteDone when the request is freed, or
//     ReadDone when its head was refused;
//   - the tunnel that takes a connection over after a 101: TunnelDone
//     when it ends, as nginx frees the upgraded request (still "writing"
//     all its life, ngx_http_upstream_upgrade) with its connection.
//
// Every method is a few atomic adds and allocates nothing; a nil
// *Counters counts nothing.
package connstats

import (
	"strconv"
	"sync/atomic"
)

// Counters are the process's connection and request counters.
type Counters struct {
	accepts, handled, requests atomic.Uint64
	active, reading, writing   atomic.Int64
}

// Stats is one reading of Counters.
type Stats struct {
	// Accepts, Handled and Requests count since the start: accepted
	// connections, those handled (all of them: wsgate drops none for
	// lack of worker_connections) and client requests.
	Accepts, Handled, Requests uint64
	// Active counts open client connections, Waiting included; Reading
	// those reading a request head, Writing those with a request past
	// its head (an upgraded connection included), Waiting idle ones
	// (keep-alive, or no request byte yet): Active - Reading - Writing.
	Active, Reading, Writing, Waiting int64
}

// Accepted counts a connection accepted and handled, now active.
func (c *Counters) Accepted() {
	if c == nil {
		return
	}
	c.accepts.Add(1)
	c.handled.Add(1)
	c.active.Add(1)
}

// Closed counts a connection's end.
func (c *Counters) Closed() {
	if c != nil {
		c.active.Add(-1)
	}
}

// Reading counts a new request whose head is being read.
func (c *Counters) Reading() {
	if c == nil {
		return
	}
	c.requests.Add(1)
	c.reading.Add(1)
}

// Writing moves a request whose head has been read to writing.
func (c *Counters) Writing() {
	if c == nil {
		return
	}
	c.reading.Add(-1)
	c.writing.Add(1)
}

// ReadDone ends a request that never got past its head.
func (c *Counters) ReadDone() {
	if c != nil {
		c.reading.Add(-1)
	}
}

// WriteDone ends a request past its head.
func (c *Counters) WriteDone() {
	if c != nil {
		c.writing.Add(-1)
	}
}

// TunnelDone ends a request a tunnel took over with its connection:
// WriteDone and Closed.
func (c *Counters) TunnelDone() {
	if c == nil {
		return
	}
	c.writing.Add(-1)
	c.active.Add(-1)
}

// TunnelStream counts an HTTP/2 stream that a tunnel took over
// (RFC 8441) as a connection of its own, which the tunnel's TunnelDone
// then ends: the HTTP/2 connection under it is counted by Accepted and
// Closed.
func (c *Counters) TunnelStream() {
	if c != nil {
		c.active.Add(1)
	}
}

// Load reads the counters. As in nginx each is read on its own, so
// figures taken while connections come and go need not add up exactly.
func (c *Counters) Load() Stats {
	if c == nil {
		return Stats{}
	}
	s := Stats{
		Accepts: c.accepts.Load(), Handled: c.handled.Load(), Requests: c.requests.Load(),
		Active: c.active.Load(), Reading: c.reading.Load(), Writing: c.writing.Load(),
	}
	s.Waiting = s.Active - s.Reading - s.Writing
	return s
}

// AppendText appends s in stub_status's format
// (ngx_http_stub_status_handler), trailing spaces included:
//
//	Active connections: 2
//	server accepts handled requests
//	 7 7 12
//	Reading: 0 Writing: 1 Waiting: 1
func (s Stats) AppendText(dst []byte) []byte {
	dst = append(dst, "Active connections: "...)
	dst = strconv.AppendInt(dst, s.Active, 10)
	dst = append(dst, " \nserver accepts handled requests\n "...)
	dst = strconv.AppendUint(dst, s.Accepts, 10)
	dst = append(dst, ' ')
	dst = strconv.AppendUint(dst, s.Handled, 10)
	dst = append(dst, ' ')
	dst = strconv.AppendUint(dst, s.Requests, 10)
	dst = append(dst, " \nReading: "...)
	dst = strconv.AppendInt(dst, s.Reading, 10)
	dst = append(dst, " Writing: "...)
	dst = strconv.AppendInt(dst, s.Writing, 10)
	dst = append(dst, " Waiting: "...)
	dst = strconv.AppendInt(dst, s.Waiting, 10)
	return append(dst, " \n"...)
}
