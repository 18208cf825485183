package dns

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// DefaultResend is how long a query waits for an answer before it is sent
// to the next server (nginx's resend_timeout, 5 s, not configurable there).
const DefaultResend = 5 * time.Second

// outcome is what the queries for one name found: an entry to cache and
// hand out, or a failure that is not cached.
type outcome struct {
	e    *entry
	code Code // non-zero: the name failed with this code, not cached
}

// family is the state of the query for one address type.
type family struct {
	qtype   dnsmessage.Type
	ex      exchange // the query; tcp is set once an answer came truncated
	done    bool
	reply   reply
	enabled bool
}

// query asks the servers for the A and AAAA records of name, as
// ngx_resolve_name_locked and ngx_resolver_process_a do: both queries go to
// one server, the next one in turn for every new name; a query without a
// usable answer after the resend interval goes again, with the same ID, to
// the next server, and an answer to an earlier send still counts. A
// truncated UDP answer sends that query over TCP to the same server, and
// its later resends use TCP too. It returns when both answers are in or
// ctx ends. With srv, the one query is for the SRV records of name
// (ngx_resolve_srv_locked), sent and resent the same way.
func (r *Resolver) query(ctx context.Context, name string, srv bool) (outcome, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fams := [2]family{
		{qtype: dnsmessage.TypeA, enabled: r.cfg.IPv4},
		{qtype: dnsmessage.TypeAAAA, enabled: r.cfg.IPv6},
	}
	if srv {
		fams = [2]family{{qtype: dnsmessage.TypeSRV, enabled: true}, {}}
	}
	for i := range fams {
		f := &fams[i]
		if !f.enabled {
			f.done = true
			continue
		}
		q, err := buildQuery(uint16(rand.Uint32()), name, f.qtype)
		if err != nil {
			// A name that cannot be asked (a label longer than 63
			// octets, a name longer than 255): nginx's NGX_DECLINED.
			return outcome{code: NXDomain}, nil
		}
		f.ex = exchange{qtype: f.qtype, id: uint16(q[2])<<8 | uint16(q[3]), name: name, query: q}
	}
	n := len(r.cfg.Servers)
	cur := int(r.next.Add(1)-1) % n
	asked := 1 // servers asked in this lookup, for the fast move-on
	results := make(chan result)
	send := func() {
		for i := range fams {
			f := &fams[i]
			if f.done {
				continue
			}
			ex := f.ex
			ex.srv, ex.server = cur, r.cfg.Servers[cur]
			ex.start(ctx, r.ignored, results)
		}
	}
	send()
	timer := time.NewTimer(r.resend)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return outcome{}, ctx.Err()
		case <-timer.C:
			cur = (cur + 1) % n
			asked++
			send()
			timer.Reset(r.resend)
		case res := <-results:
			f := &fams[0]
			if res.ex.qtype == dnsmessage.TypeAAAA {
				f = &fams[1]
			}
			if f.done {
				continue
			}
			switch {
			case res.failed != nil:
				r.log.Error(res.failed.Error()+" while resolving", "resolver", res.ex.server.String())
				// The current server cannot answer: go on to one not
				// yet asked now rather than after the resend interval.
				if res.ex.srv == cur && asked < n {
					cur = (cur + 1) % n
					asked++
					send()
					timer.Reset(r.resend)
				}
			case res.reply.truncated:
				if !res.ex.tcp {
					f.ex.tcp = true
					ex := *res.ex
					ex.tcp = true
					ex.start(ctx, r.ignored, results)
				}
			default:
				f.done, f.reply = true, res.reply
				if fams[0].done && fams[1].done {
					return r.combine(&fams), nil
				}
			}
		}
	}
}

// ignored logs an answer that was dropped.
func (r *Resolver) ignored(ex *exchange, err error) {
	r.log.Error(err.Error(), "resolver", ex.server.String())
}

// combine turns the answers into an outcome as ngx_resolver_process_a
// does when the A answer comes first: an error RCODE in either answer
// fails the name (the AAAA one's when both have one); otherwise the A
// addresses, then the AAAA ones; without addresses, the CNAME of the last
// answer (AAAA's, or A's when AAAA is not asked); otherwise NXDOMAIN.
// The answer to an SRV query is read the same way, its SRV records in
// place of addresses (ngx_resolver_process_srv).
func (r *Resolver) combine(fams *[2]family) outcome {
	var code Code
	var last *reply
	ttl, negTTL := int64(-1), int64(-1)
	var addrs []netip.Addr
	var srvs []SRVRecord
	n4 := 0
	for i := range fams {
		f := &fams[i]
		if !f.enabled {
			continue
		}
		rp := &f.reply
		last = rp
		if rp.rcode != 0 {
			code = rp.rcode
		}
		if rp.ttl >= 0 && (ttl < 0 || rp.ttl < ttl) {
			ttl = rp.ttl
		}
		if rp.negTTL >= 0 && (negTTL < 0 || rp.negTTL < negTTL) {
			negTTL = rp.negTTL
		}
		addrs = append(addrs, rp.addrs...)
		srvs = append(srvs, rp.srvs...)
		if i == 0 {
			n4 = len(rp.addrs)
		}
	}
	switch {
	case code == NXDomain:
		return outcome{e: r.negative(NXDomain, negTTL)}
	case code != 0:
		return outcome{code: code}
	case len(addrs) > 0:
		return outcome{e: r.positive(&entry{addrs: addrs, n4: n4}, ttl)}
	case len(srvs) > 0:
		return outcome{e: r.positive(&entry{srvs: srvs}, ttl)}
	case last.cname != "":
		return outcome{e: r.positive(&entry{cname: last.cname}, ttl)}
	}
	return outcome{e: r.negative(NXDomain, negTTL)}
}
