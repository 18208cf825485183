package proxytest

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// DNSQuery is one query a DNSServer received.
type DNSQuery struct {
	Name string // lower case, without the trailing dot
	Type dnsmessage.Type
	TCP  bool
	Msg  dnsmessage.Message // the query as sent
}

// DNSHandler answers a query: the message to send back (its ID and
// question are filled in from the query when left zero), or nil to send
// nothing. It runs on the server's goroutines, one query at a time per
// transport, so a handler that blocks holds up later queries as a
// single-threaded name server does.
type DNSHandler func(q DNSQuery) *dnsmessage.Message

// DNSServer is a name server on loopback, UDP and TCP on one port, whose
// answers the test decides and may change while it runs.
type DNSServer struct {
	// Addr is the server's address ("127.0.0.1:PORT") for a resolver line.
	Addr netip.AddrPort

	udp *net.UDPConn
	tcp *net.TCPListener

	mu      sync.Mutex
	handler DNSHandler
	queries []DNSQuery
}

// NewDNS starts a name server that answers with h until the test ends.
func NewDNS(t testing.TB, h DNSHandler) *DNSServer {
	t.Helper()
	var s *DNSServer
	for i := 0; ; i++ {
		u, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatalf("dns: listen udp: %v", err)
		}
		ap := u.LocalAddr().(*net.UDPAddr).AddrPort()
		l, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(ap))
		if err != nil {
			u.Close()
			if i < 10 {
				continue // the port is taken for TCP: another one
			}
			t.Fatalf("dns: listen tcp %s: %v", ap, err)
		}
		s = &DNSServer{Addr: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), udp: u, tcp: l, handler: h}
		break
	}
	go s.serveUDP()
	go s.serveTCP()
	t.Cleanup(s.Close)
	return s
}

// SetHandler replaces the handler for the queries that come next.
func (s *DNSServer) SetHandler(h DNSHandler) {
	s.mu.Lock()
	s.handler = h
	s.mu.Unlock()
}

// Queries returns the queries received so far, in order.
func (s *DNSServer) Queries() []DNSQuery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]DNSQuery(nil), s.queries...)
}

// Count is how many queries for name (any case) of type t came in.
func (s *DNSServer) Count(name string, t dnsmessage.Type) int {
	n := 0
	for _, q := range s.Queries() {
		if q.Name == strings.ToLower(name) && q.Type == t {
			n++
		}
	}
	return n
}

// Close stops the server.
func (s *DNSServer) Close() {
	s.udp.Close()
	s.tcp.Close()
}

func (s *DNSServer) answer(b []byte, tcp bool) []byte {
	var m dnsmessage.Message
	if err := m.Unpack(b); err != nil || len(m.Questions) != 1 {
		return nil
	}
	q := DNSQuery{
		Name: strings.ToLower(strings.TrimSuffix(m.Questions[0].Name.String(), ".")),
		Type: m.Questions[0].Type, TCP: tcp, Msg: m,
	}
	s.mu.Lock()
	s.queries = append(s.queries, q)
	h := s.handler
	s.mu.Unlock()
	r := h(q)
	if r == nil {
		return nil
	}
	if r.Header.ID == 0 {
		r.Header.ID = m.Header.ID
	}
	r.Header.Response = true
	if r.Questions == nil {
		r.Questions = m.Questions
	}
	out, err := r.Pack()
	if err != nil {
		return nil
	}
	return out
}

func (s *DNSServer) serveUDP() {
	buf := make([]byte, 65536)
	for {
		n, from, err := s.udp.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if out := s.answer(append([]byte(nil), buf[:n]...), false); out != nil {
			s.udp.WriteToUDPAddrPort(out, from)
		}
	}
}

func (s *DNSServer) serveTCP() {
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			for {
				var lb [2]byte
				if _, err := io.ReadFull(c, lb[:]); err != nil {
					return
				}
				b := make([]byte, binary.BigEndian.Uint16(lb[:]))
				if _, err := io.ReadFull(c, b); err != nil {
					return
				}
				out := s.answer(b, true)
				if out == nil {
					continue
				}
				c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(out))), out...))
			}
		}()
	}
}

// DNSReply is a NOERROR answer (or rcode) with the given answer records,
// for a DNSHandler.
func DNSReply(rcode dnsmessage.RCode, answers ...dnsmessage.Resource) *dnsmessage.Message {
	return &dnsmessage.Message{Header: dnsmessage.Header{RCode: rcode, RecursionAvailable: true, RecursionDesired: true}, Answers: answers}
}

func rrHeader(name string, t dnsmessage.Type, ttl uint32) dnsmessage.ResourceHeader {
	return dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName(strings.TrimSuffix(name, ".") + "."), Type: t, Class: dnsmessage.ClassINET, TTL: ttl}
}

// DNSA is an A record (or AAAA, for an IPv6 address).
func DNSA(name string, ttl uint32, addr string) dnsmessage.Resource {
	a := netip.MustParseAddr(addr)
	if a.Is4() {
		return dnsmessage.Resource{Header: rrHeader(name, dnsmessage.TypeA, ttl), Body: &dnsmessage.AResource{A: a.As4()}}
	}
	return dnsmessage.Resource{Header: rrHeader(name, dnsmessage.TypeAAAA, ttl), Body: &dnsmessage.AAAAResource{AAAA: a.As16()}}
}

// DNSCNAME is a CNAME record.
func DNSCNAME(name string, ttl uint32, target string) dnsmessage.Resource {
	return dnsmessage.Resource{Header: rrHeader(name, dnsmessage.TypeCNAME, ttl), Body: &dnsmessage.CNAMEResource{CNAME: dnsmessage.MustNewName(strings.TrimSuffix(target, ".") + ".")}}
}

// DNSSOA is an SOA record for the authority section of a negative answer:
// its TTL and MINIMUM give the negative caching time (RFC 2308 §5).
func DNSSOA(zone string, ttl, minimum uint32) dnsmessage.Resource {
	z := dnsmessage.MustNewName(strings.TrimSuffix(zone, ".") + ".")
	return dnsmessage.Resource{Header: rrHeader(zone, dnsmessage.TypeSOA, ttl), Body: &dnsmessage.SOAResource{NS: z, MBox: z, Serial: 1, Refresh: 60, Retry: 60, Expire: 60, MinTTL: minimum}}
}

// DNSSRV is an SRV record (RFC 2782) for name pointing at target:port.
func DNSSRV(name string, ttl uint32, priority, weight, port uint16, target string) dnsmessage.Resource {
	return dnsmessage.Resource{Header: rrHeader(name, dnsmessage.TypeSRV, ttl), Body: &dnsmessage.SRVResource{
		Priority: priority, Weight: weight, Port: port, Target: dnsmessage.MustNewName(strings.TrimSuffix(target, ".") + "."),
	}}
}
