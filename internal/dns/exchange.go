package dns

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/netip"

	"golang.org/x/net/dns/dnsmessage"
)

// exchange is one query sent to one server: over UDP first, over TCP once
// a UDP answer came truncated.
type exchange struct {
	server netip.AddrPort
	srv    int // the server's index in Config.Servers
	qtype  dnsmessage.Type
	id     uint16
	name   string
	query  []byte // with the TCP length prefix; see buildQuery
	tcp    bool
}

// result is the outcome of one exchange: a reply that passed parseReply,
// or failed when the socket failed (nothing more will come from it).
type result struct {
	ex     *exchange
	reply  reply
	failed error
}

// start sends the query and delivers the first usable answer (or the
// socket's failure) to out from a goroutine of its own, which ends when
// ctx ends, after delivering, or when out cannot take the result because
// ctx ended. A UDP query is written before start returns, so that queries
// leave in the order they are started (A, then AAAA, as nginx sends them).
// Answers that are not usable are logged by ignore and do not end the
// exchange: a UDP socket keeps reading, as ngx_resolver_udp_read does, so
// that a stray or forged datagram cannot end the query.
func (ex *exchange) start(ctx context.Context, ignore func(*exchange, error), out chan<- result) {
	deliver := func(res result) {
		if ctx.Err() != nil {
			return
		}
		res.ex = ex
		select {
		case out <- res:
		case <-ctx.Done():
		}
	}
	if ex.tcp {
		go func() { deliver(ex.overTCP(ctx, ignore)) }()
		return
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", ex.server.String())
	if err == nil {
		if _, err = conn.Write(ex.query[2:]); err != nil {
			conn.Close()
		}
	}
	if err != nil {
		go deliver(result{failed: err})
		return
	}
	go func() { deliver(ex.readUDP(ctx, conn, ignore)) }()
}

// readUDP reads answers on conn until one is usable or the socket fails.
func (ex *exchange) readUDP(ctx context.Context, conn net.Conn, ignore func(*exchange, error)) result {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	buf := make([]byte, maxUDPSize)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return result{failed: err}
		}
		r, err := parseReply(buf[:n], ex.id, ex.name, ex.qtype, false)
		if err != nil {
			ignore(ex, err)
			continue
		}
		return result{reply: r}
	}
}

// overTCP sends the query on a connection of its own (RFC 7766 §6.2.1
// allows one query per connection) and reads one answer. An unusable answer
// ends the exchange like a failed socket, but is not a failure of the
// server: the query waits for the resend, as nginx does.
func (ex *exchange) overTCP(ctx context.Context, ignore func(*exchange, error)) result {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", ex.server.String())
	if err != nil {
		return result{failed: err}
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if _, err := conn.Write(ex.query); err != nil {
		return result{failed: err}
	}
	var lb [2]byte
	if _, err := io.ReadFull(conn, lb[:]); err != nil {
		return result{failed: err}
	}
	buf := make([]byte, binary.BigEndian.Uint16(lb[:]))
	if _, err := io.ReadFull(conn, buf); err != nil {
		return result{failed: err}
	}
	r, err := parseReply(buf, ex.id, ex.name, ex.qtype, true)
	if err != nil {
		ignore(ex, err)
		<-ctx.Done()
		return result{}
	}
	return result{reply: r}
}
