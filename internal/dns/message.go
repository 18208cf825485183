package dns

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

// maxUDPSize is the largest UDP answer read (nginx's NGX_RESOLVER_UDP_SIZE).
// Queries carry no EDNS0 record, so a server keeps its answers to 512
// octets and sets TC for longer ones (RFC 1035 §4.2.1).
const maxUDPSize = 4096

// reply is what one answer to one query says, once it passed the checks
// of parseReply.
type reply struct {
	rcode     Code // 0 for NOERROR
	truncated bool
	// addrs are the A (or AAAA) records of the answer section, whatever
	// their owner: nginx takes every address record of an answer to its
	// query, the CNAME chain leading to them included.
	addrs []netip.Addr
	// srvs are the SRV records of the answer section (an SRV query only).
	srvs []SRVRecord
	// cname is the target of the answer's last CNAME record ("" when none):
	// nginx follows it when no answer has addresses.
	cname string
	// records counts the answer section's records.
	records int
	// ttl is the smallest TTL of the answer section's records, in seconds
	// (a TTL with its top bit set counts as 0, RFC 2181 §8); -1 when the
	// section is empty.
	ttl int64
	// negTTL is the negative caching TTL of an SOA record in the authority
	// section (RFC 2308 §5: the smaller of its TTL and its MINIMUM); -1
	// when there is none.
	negTTL int64
}

// buildQuery returns a standard query with recursion desired for name
// (lower case, no trailing dot) and type t.
func buildQuery(id uint16, name string, t dnsmessage.Type) ([]byte, error) {
	n, err := dnsmessage.NewName(name + ".")
	if err != nil {
		return nil, err
	}
	b := dnsmessage.NewBuilder(make([]byte, 2, 64), dnsmessage.Header{ID: id, RecursionDesired: true})
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(dnsmessage.Question{Name: n, Type: t, Class: dnsmessage.ClassINET}); err != nil {
		return nil, err
	}
	msg, err := b.Finish()
	if err != nil {
		return nil, err
	}
	// The two leading octets are room for the TCP length prefix
	// (RFC 1035 §4.2.2); UDP sends msg[2:].
	msg[0], msg[1] = byte((len(msg)-2)>>8), byte(len(msg)-2)
	return msg, nil
}

// errIgnored marks an answer that is not usable as the answer to the query:
// the query keeps waiting for another one (ngx_resolver_process_response
// logs such answers and drops them).
var errIgnored = errors.New("ignored")

// parseReply checks that msg answers the query id for name and type t and
// reads it. An error means the answer is to be ignored; its text says why,
// in nginx's words where nginx has some.
func parseReply(msg []byte, id uint16, name string, t dnsmessage.Type, tcp bool) (reply, error) {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil {
		return reply{}, fmt.Errorf("short DNS response")
	}
	// A response to a standard query (ngx_resolver_process_response's
	// 0xf870 mask: QR set, OPCODE 0); a truncated answer over TCP is
	// invalid.
	if !h.Response || h.OpCode != 0 || (h.Truncated && tcp) {
		proto := "UDP"
		if tcp {
			proto = "TCP"
		}
		return reply{}, fmt.Errorf("invalid %s DNS response %d", proto, h.ID)
	}
	if h.ID != id {
		return reply{}, fmt.Errorf("wrong ident %d in DNS response for %s, expect %d", h.ID, name, id)
	}
	rc := Code(h.RCode)
	if rc == FormErr || rc > Refused {
		return reply{}, fmt.Errorf("DNS error (%d: %s), query id:%d, name:%q", rc, rc, h.ID, name)
	}
	qs, err := p.AllQuestions()
	if err != nil {
		return reply{}, fmt.Errorf("short DNS response")
	}
	if len(qs) != 1 {
		return reply{}, fmt.Errorf("invalid number of questions in DNS response")
	}
	q := qs[0]
	if q.Class != dnsmessage.ClassINET || q.Type != t || !strings.EqualFold(trimDot(q.Name.String()), name) {
		return reply{}, fmt.Errorf("unexpected DNS response for %s", trimDot(q.Name.String()))
	}
	r := reply{rcode: rc, truncated: h.Truncated, ttl: -1, negTTL: -1}
	if h.Truncated {
		// Only the TC bit matters: the query goes again over TCP.
		return r, nil
	}
	for {
		ah, err := p.AnswerHeader()
		if err == dnsmessage.ErrSectionDone {
			break
		}
		if err != nil {
			return reply{}, fmt.Errorf("short DNS response")
		}
		if ah.Class != dnsmessage.ClassINET {
			return reply{}, fmt.Errorf("unexpected RR class %d in DNS response", ah.Class)
		}
		r.records++
		r.ttl = minTTL(r.ttl, ah.TTL)
		switch ah.Type {
		case dnsmessage.TypeSRV:
			if t != dnsmessage.TypeSRV {
				if err := p.SkipAnswer(); err != nil {
					return reply{}, fmt.Errorf("short DNS response")
				}
				continue
			}
			rr, err := p.SRVResource()
			if err != nil {
				return reply{}, fmt.Errorf("short DNS response")
			}
			w := rr.Weight
			if w == 0 {
				// ngx_resolver_process_srv: a weight of 0 counts as 1,
				// so that such a server is still picked.
				w = 1
			}
			r.srvs = append(r.srvs, SRVRecord{
				Target: strings.ToLower(trimDot(rr.Target.String())), Port: rr.Port,
				Priority: rr.Priority, Weight: w,
			})
		case dnsmessage.TypeA, dnsmessage.TypeAAAA:
			if t == dnsmessage.TypeSRV {
				// An address in the answer to an SRV query: nginx logs
				// "unexpected RR type" and reads on; the targets are
				// asked for their addresses anyway.
				if err := p.SkipAnswer(); err != nil {
					return reply{}, fmt.Errorf("short DNS response")
				}
				continue
			}
			if ah.Type != t {
				return reply{}, fmt.Errorf("unexpected %s record in DNS response", typeName(ah.Type))
			}
			var a netip.Addr
			if ah.Type == dnsmessage.TypeA {
				rr, err := p.AResource()
				if err != nil || ah.Length != 4 {
					return reply{}, fmt.Errorf("invalid A record in DNS response")
				}
				a = netip.AddrFrom4(rr.A)
			} else {
				rr, err := p.AAAAResource()
				if err != nil || ah.Length != 16 {
					return reply{}, fmt.Errorf("invalid AAAA record in DNS response")
				}
				a = netip.AddrFrom16(rr.AAAA)
			}
			r.addrs = append(r.addrs, a)
		case dnsmessage.TypeCNAME:
			rr, err := p.CNAMEResource()
			if err != nil {
				return reply{}, fmt.Errorf("invalid CNAME record in DNS response")
			}
			r.cname = strings.ToLower(trimDot(rr.CNAME.String()))
			if r.cname == "" {
				// A CNAME to the root: no name to follow.
				r.cname = "."
			}
		default:
			// DNAME and the rest: the synthesized CNAME that comes with
			// a DNAME is what is followed (RFC 6672 §3.1).
			if err := p.SkipAnswer(); err != nil {
				return reply{}, fmt.Errorf("short DNS response")
			}
		}
	}
	if rc == NXDomain || (rc == 0 && len(r.addrs) == 0 && len(r.srvs) == 0 && r.cname == "") {
		r.negTTL = soaTTL(&p)
	}
	return r, nil
}

// soaTTL is the negative caching TTL of the first SOA record in the
// authority section (RFC 2308 §5), or -1.
func soaTTL(p *dnsmessage.Parser) int64 {
	for {
		ah, err := p.AuthorityHeader()
		if err != nil {
			return -1
		}
		if ah.Type != dnsmessage.TypeSOA {
			if p.SkipAuthority() != nil {
				return -1
			}
			continue
		}
		rr, err := p.SOAResource()
		if err != nil {
			return -1
		}
		return minTTL(minTTL(-1, ah.TTL), rr.MinTTL)
	}
}

// minTTL is the smaller of cur (-1: none yet) and ttl, read as RFC 2181 §8
// says: a value with its top bit set is 0.
func minTTL(cur int64, ttl uint32) int64 {
	v := int64(ttl)
	if ttl&0x80000000 != 0 {
		v = 0
	}
	if cur < 0 || v < cur {
		return v
	}
	return cur
}

func typeName(t dnsmessage.Type) string {
	if t == dnsmessage.TypeA {
		return "A"
	}
	return "AAAA"
}

func trimDot(s string) string { return strings.TrimSuffix(s, ".") }
