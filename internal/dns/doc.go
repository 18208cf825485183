// Package dns is wsgate's own DNS client and resolver, the one the
// "resolver" directive configures (ngx_http_core_module; nginx's
// src/core/ngx_resolver.c). It asks the configured name servers for the A
// and AAAA records of a name over UDP, again over TCP when an answer comes
// truncated (RFC 1035 §4.2.1, RFC 7766), follows CNAME answers, and keeps a
// cache shared by every request that uses the same resolver line.
//
// What it promises, as nginx 1.22 does it:
//
//   - Servers are asked in turn: each new query goes to the next server of
//     the line, and a query that gets no usable answer within the resend
//     interval (5 s) is sent again to the next one. An answer that is not
//     for the query (wrong ID or question, malformed, FORMERR, an unknown
//     RCODE) is ignored and the query keeps waiting. SERVFAIL, NXDOMAIN,
//     NOTIMP and REFUSED are final for that lookup, not asked of another
//     server; of them only NXDOMAIN is ever cached (see below).
//   - A and AAAA (unless ipv4=off or ipv6=off) are asked at once; the
//     addresses are the A records, then the AAAA ones. An error RCODE in
//     either answer fails the name. Without addresses, a CNAME in the last
//     answer is followed with a new query, at most 50 times per lookup.
//   - SRV records (LookupSRV, for "server ... service=") are asked with
//     one query, sent as the address queries are; a CNAME instead of
//     them is followed; then every record's target is looked up as
//     above, all at once. A target that fails is left out; when none
//     has addresses the service fails with the first target's code, or
//     NXDOMAIN when one does not exist (ngx_resolver_report_srv).
//   - Answers are cached for the smallest TTL of their records, or for
//     valid= when it is set; a TTL of 0 is not cached. A lookup served from
//     the cache rotates the addresses so that requests spread over them.
//     Names compare case-insensitively.
//   - Requests that look up a name already being asked wait for that query
//     instead of sending their own; each waits at most its own timeout
//     (resolver_timeout), and the query stops when nobody waits for it.
//   - Failures are *Error values whose text is nginx's: "NAME could not be
//     resolved (3: Host not found)", "(110: Operation timed out)".
//
// Where it differs, on purpose: a name that does not exist (NXDOMAIN, or no
// records of the asked types) is cached for the negative TTL of the SOA
// record the answer carries (RFC 2308 §5), or for valid= when set; nginx
// asks again every time. A server whose socket fails (ICMP port
// unreachable) makes the query move on to the next server at once instead
// of after the resend interval. Names longer than RFC 1035's 255 octets are
// refused (nginx accepts them).
//
// A Registry holds one Resolver per distinct resolver configuration for the
// life of the process, so a reload keeps the caches of the resolver lines
// it keeps. The package opens sockets only through package net and keeps no
// global state.
package dns
