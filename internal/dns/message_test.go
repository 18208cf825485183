package dns

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"

	"wsgate/internal/proxytest"
)

// pack builds an answer to the query id for name and type t.
func pack(t testing.TB, id uint16, name string, qt dnsmessage.Type, m *dnsmessage.Message) []byte {
	t.Helper()
	m.Header.ID = id
	m.Header.Response = true
	if m.Questions == nil {
		m.Questions = []dnsmessage.Question{{Name: dnsmessage.MustNewName(name + "."), Type: qt, Class: dnsmessage.ClassINET}}
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseReply: what an answer says, and the answers that are ignored,
// with nginx's log text for each.
func TestParseReply(t *testing.T) {
	const id = 42
	name := "x.example.net"
	a := proxytest.DNSA
	tests := []struct {
		desc  string
		qt    dnsmessage.Type
		msg   func() []byte
		tcp   bool
		addrs []string
		cname string
		ttl   int64
		err   string
	}{
		{desc: "A records and their smallest TTL", qt: tA, msg: func() []byte {
			return pack(t, id, name, tA, answer(ok, a(name, 30, "192.0.2.1"), a(name, 20, "192.0.2.2")))
		}, addrs: []string{"192.0.2.1", "192.0.2.2"}, ttl: 20},
		{desc: "a CNAME's TTL counts", qt: tA, msg: func() []byte {
			return pack(t, id, name, tA, answer(ok, rrCNAME(name, 5, "y.example.net"), a("y.example.net", 30, "192.0.2.1")))
		}, addrs: []string{"192.0.2.1"}, cname: "y.example.net", ttl: 5},
		{desc: "a TTL with the top bit set is 0", qt: tA, msg: func() []byte {
			return pack(t, id, name, tA, answer(ok, a(name, 0x80000000, "192.0.2.1")))
		}, addrs: []string{"192.0.2.1"}, ttl: 0},
		{desc: "the question's case does not matter", qt: tA, msg: func() []byte {
			return pack(t, id, "X.Example.NET", tA, answer(ok, a(name, 1, "192.0.2.1")))
		}, addrs: []string{"192.0.2.1"}, ttl: 1},
		{desc: "another ID", qt: tA, msg: func() []byte { return pack(t, id+1, name, tA, answer(ok)) },
			err: "wrong ident 43 in DNS response for x.example.net, expect 42"},
		{desc: "another name", qt: tA, msg: func() []byte { return pack(t, id, "y.example.net", tA, answer(ok)) },
			err: "unexpected DNS response for y.example.net"},
		{desc: "another type", qt: tA, msg: func() []byte { return pack(t, id, name, tAAAA, answer(ok)) },
			err: "unexpected DNS response for x.example.net"},
		{desc: "FORMERR", qt: tA, msg: func() []byte { return pack(t, id, name, tA, answer(dnsmessage.RCodeFormatError)) },
			err: `DNS error (1: Format error), query id:42, name:"x.example.net"`},
		{desc: "an AAAA record in an A answer", qt: tA, msg: func() []byte { return pack(t, id, name, tA, answer(ok, a(name, 1, "::1"))) },
			err: "unexpected AAAA record in DNS response"},
		{desc: "truncated over TCP", qt: tA, tcp: true, msg: func() []byte {
			m := answer(ok)
			m.Header.Truncated = true
			return pack(t, id, name, tA, m)
		}, err: "invalid TCP DNS response 42"},
		{desc: "a query, not a response", qt: tA, msg: func() []byte {
			b := pack(t, id, name, tA, answer(ok))
			b[2] &^= 0x80
			return b
		}, err: "invalid UDP DNS response 42"},
		{desc: "short", qt: tA, msg: func() []byte { return []byte{0, 42, 0x81} }, err: "short DNS response"},
		{desc: "an A record of 0 octets", qt: tA, msg: func() []byte {
			b := pack(t, id, name, tA, answer(ok, a(name, 1, "192.0.2.1")))
			// RDLENGTH 0 and the four octets cut (nginx-tests "short").
			b = b[:len(b)-4]
			b[len(b)-2], b[len(b)-1] = 0, 0
			return b
		}, err: "invalid A record in DNS response"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			r, err := parseReply(tt.msg(), id, name, tt.qt, tt.tcp)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("got %+v, %v; want error %q", r, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range r.addrs {
				got = append(got, a.String())
			}
			if !slices.Equal(got, tt.addrs) || r.cname != tt.cname || r.ttl != tt.ttl {
				t.Errorf("got %v cname %q ttl %d; want %v cname %q ttl %d", got, r.cname, r.ttl, tt.addrs, tt.cname, tt.ttl)
			}
		})
	}
}

// TestBuildQuery: a standard query with RD set and the TCP length prefix.
func TestBuildQuery(t *testing.T) {
	q, err := buildQuery(7, "x.example.net", tAAAA)
	if err != nil {
		t.Fatal(err)
	}
	if int(q[0])<<8|int(q[1]) != len(q)-2 {
		t.Fatalf("length prefix %d; want %d", int(q[0])<<8|int(q[1]), len(q)-2)
	}
	var m dnsmessage.Message
	if err := m.Unpack(q[2:]); err != nil {
		t.Fatal(err)
	}
	if m.Header.ID != 7 || m.Header.Response || !m.Header.RecursionDesired || len(m.Questions) != 1 ||
		m.Questions[0].Name.String() != "x.example.net." || m.Questions[0].Type != tAAAA || m.Questions[0].Class != dnsmessage.ClassINET {
		t.Errorf("got %+v", m)
	}
	if _, err := buildQuery(7, strings.Repeat("a", 64)+".example.net", tA); err == nil {
		t.Error("a 64-octet label: got no error")
	}
}

// FuzzParseReply: any bytes from the network are read without panicking,
// and what is accepted is consistent.
func FuzzParseReply(f *testing.F) {
	name := "x.example.net"
	f.Add(pack(f, 1, name, tA, answer(ok, proxytest.DNSA(name, 1, "192.0.2.1"))))
	f.Add(pack(f, 1, name, tA, answer(ok, rrCNAME(name, 1, "y.example.net"), proxytest.DNSA("y.example.net", 1, "192.0.2.1"))))
	f.Add(pack(f, 1, name, tA, answer(dnsmessage.RCodeNameError)))
	f.Add([]byte{0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseReply(b, 1, name, tA, false)
		if err != nil {
			return
		}
		for _, a := range r.addrs {
			if !a.Is4() {
				t.Fatalf("an A answer gave %v", a)
			}
		}
		if r.ttl < -1 || r.ttl > 1<<31 {
			t.Fatalf("ttl %d", r.ttl)
		}
	})
}
