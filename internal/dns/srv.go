package dns

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"
)

// This file is the lookup of SRV records (RFC 2782) that "server NAME
// resolve service=..." in an upstream uses, as nginx's ngx_resolve_name
// with a service does: the SRV records of the service's name, then the
// addresses of every record's target.

// SRVRecord is one SRV record of an answer.
type SRVRecord struct {
	// Target is the host that offers the service, lower case and without
	// the trailing dot; "" for the root ("."), which RFC 2782 uses to say
	// that the service is not offered.
	Target   string
	Port     uint16
	Priority uint16
	// Weight is the record's weight, a weight of 0 read as 1 as nginx
	// reads it (ngx_resolver_process_srv).
	Weight uint16
}

// SRVTarget is one SRV record and what its target resolved to.
type SRVTarget struct {
	SRVRecord
	// Addrs are the target's addresses (A, then AAAA); none when Err is
	// set.
	Addrs []netip.Addr
	// Err is why the target's lookup failed: an *Error.
	Err error
}

// SRVAnswer is a lookup of a service.
type SRVAnswer struct {
	// Targets are the SRV records by ascending priority, in the order of
	// the answer within one priority.
	Targets []SRVTarget
	// Expires is the soonest expiry of the SRV answer (its CNAME chain
	// included) and of the targets' answers that gave addresses.
	Expires time.Time
}

// ServiceName is the name whose SRV records "service=SERVICE" of a server
// named host asks for, as nginx builds it: a service without a dot is
// "_SERVICE._tcp.HOST" (RFC 2782's form over TCP), one with a dot is
// "SERVICE.HOST" as written.
func ServiceName(service, host string) string {
	if strings.Contains(service, ".") {
		return service + "." + host
	}
	return "_" + service + "._tcp." + host
}

// LookupSRV returns the SRV records of name with their targets' addresses.
// The SRV answer is cached as an address answer is (its TTL or valid=), a
// CNAME in place of SRV records is followed, and the targets are looked up
// as Lookup does, all at once. A target that fails is reported in its
// SRVTarget; when no target has an address the lookup fails with the
// first target's code, or NXDOMAIN when a target does not exist
// (ngx_resolver_report_srv), and the answer still lists the targets. An
// answer without SRV records is NXDOMAIN. ctx bounds the whole wait, as
// for Lookup.
func (r *Resolver) LookupSRV(ctx context.Context, name string) (SRVAnswer, error) {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	orig := name
	var expires time.Time
	var recs []SRVRecord
	for hops := 0; ; hops++ {
		e, _, err := r.resolve(ctx, name, true)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return SRVAnswer{}, &Error{Name: orig, Code: TimedOut}
			}
			var de *Error
			if errors.As(err, &de) {
				return SRVAnswer{}, &Error{Name: orig, Code: de.Code}
			}
			return SRVAnswer{}, err
		}
		if expires.IsZero() || e.expires.Before(expires) {
			expires = e.expires
		}
		if e.code != 0 {
			return SRVAnswer{}, &Error{Name: orig, Code: e.code}
		}
		if len(e.srvs) > 0 {
			recs = e.srvs
			break
		}
		if hops >= MaxRecursion || e.cname == "" || e.cname == "." {
			return SRVAnswer{}, &Error{Name: orig, Code: NXDomain}
		}
		name = e.cname
	}

	ans := SRVAnswer{Targets: make([]SRVTarget, len(recs))}
	exps := make([]time.Time, len(recs))
	var wg sync.WaitGroup
	for i, rec := range recs {
		ans.Targets[i].SRVRecord = rec
		if rec.Target == "" {
			ans.Targets[i].Err = &Error{Name: ".", Code: NXDomain}
			continue
		}
		wg.Go(func() {
			a, err := r.Lookup(ctx, rec.Target)
			ans.Targets[i].Addrs, ans.Targets[i].Err, exps[i] = a.Addrs, err, a.Expires
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return SRVAnswer{}, err
	}
	var code Code
	n := 0
	for i, t := range ans.Targets {
		n += len(t.Addrs)
		if len(t.Addrs) > 0 && !exps[i].IsZero() && exps[i].Before(expires) {
			expires = exps[i]
		}
		var de *Error
		if errors.As(t.Err, &de) && code != NXDomain && (code == 0 || de.Code == NXDomain) {
			code = de.Code
		}
	}
	slices.SortStableFunc(ans.Targets, func(a, b SRVTarget) int { return int(a.Priority) - int(b.Priority) })
	ans.Expires = expires
	if n == 0 {
		if code == 0 {
			code = NXDomain
		}
		return ans, &Error{Name: orig, Code: code}
	}
	return ans, nil
}
