package upstream_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/net/dns/dnsmessage"

	"wsgate/internal/proxytest"
)

// peerBackend is one backend of a test upstream on its own loopback
// address (127.0.0.N) and the port all of them share, as the addresses of
// one name in DNS are: GET /id answers its address, /addr its address and
// port, /health answers 200,
// /ws/ is a WebSocket echo (or, while wsBroken is set, answers 500).
type peerBackend struct {
	ip       string
	srv      *http.Server
	ln       net.Listener
	wsBroken atomic.Bool
	open     atomic.Int64 // WebSocket connections open now
	mu       sync.Mutex
	conns    map[*websocket.Conn]bool
}

// sharedPort returns a port free on 127.0.0.1, for backends on other
// loopback addresses too.
func sharedPort(t *testing.T) int {
	t.Helper()
	return proxytest.FreePort(t)
}

// startPeer starts a peerBackend on ip:port until the test ends or it is
// stopped.
func startPeer(t *testing.T, ip string, port int) *peerBackend {
	t.Helper()
	b := &peerBackend{ip: ip, conns: map[*websocket.Conn]bool{}}
	b.start(t, port)
	t.Cleanup(b.stop)
	return b
}

func (b *peerBackend) start(t *testing.T, port int) {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(b.ip, strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("listening on %s:%d: %v", b.ip, port, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/id", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, b.ip) })
	mux.HandleFunc("/addr", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, ln.Addr().String()) })
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("/ws/", func(w http.ResponseWriter, r *http.Request) {
		if b.wsBroken.Load() {
			http.Error(w, "broken", http.StatusInternalServerError)
			return
		}
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
		if err != nil {
			return
		}
		c.SetReadLimit(1 << 20)
		b.open.Add(1)
		b.mu.Lock()
		b.conns[c] = true
		b.mu.Unlock()
		defer func() {
			b.open.Add(-1)
			b.mu.Lock()
			delete(b.conns, c)
			b.mu.Unlock()
		}()
		ctx := context.Background()
		for {
			typ, p, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, typ, p); err != nil {
				return
			}
		}
	})
	b.ln = ln
	b.srv = &http.Server{Handler: mux}
	go b.srv.Serve(ln)
}

func (b *peerBackend) stop() {
	b.srv.Close()
	b.mu.Lock()
	for c := range b.conns {
		c.CloseNow()
	}
	b.mu.Unlock()
}

// dnsZone is a name server's data the test changes while it runs: the A
// records of names, CNAMEs, and whether to answer at all or to truncate
// UDP answers.
type dnsZone struct {
	mu       sync.Mutex
	a        map[string][]string
	cname    map[string]string
	srv      map[string][]srvRec
	ttl      uint32
	silent   bool
	truncate bool
	servfail bool
}

func newZone(ttl uint32) *dnsZone {
	return &dnsZone{a: map[string][]string{}, cname: map[string]string{}, srv: map[string][]srvRec{}, ttl: ttl}
}

// srvRec is an SRV record's data.
type srvRec struct {
	priority, weight, port uint16
	target                 string
}

func (z *dnsZone) setA(name string, ips ...string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	delete(z.cname, name)
	if ips == nil {
		delete(z.a, name)
		return
	}
	z.a[name] = ips
}

func (z *dnsZone) setCNAME(name, target string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	delete(z.a, name)
	z.cname[name] = target
}

func (z *dnsZone) set(f func(z *dnsZone)) {
	z.mu.Lock()
	defer z.mu.Unlock()
	f(z)
}

func (z *dnsZone) handle(q proxytest.DNSQuery) *dnsmessage.Message {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.silent {
		return nil
	}
	if z.servfail {
		return proxytest.DNSReply(dnsmessage.RCodeServerFailure)
	}
	if z.truncate && !q.TCP {
		m := proxytest.DNSReply(dnsmessage.RCodeSuccess)
		m.Header.Truncated = true
		return m
	}
	if recs, ok := z.srv[q.Name]; ok {
		var rr []dnsmessage.Resource
		for _, r := range recs {
			if q.Type == dnsmessage.TypeSRV {
				rr = append(rr, proxytest.DNSSRV(q.Name, z.ttl, r.priority, r.weight, r.port, r.target))
			}
		}
		return proxytest.DNSReply(dnsmessage.RCodeSuccess, rr...)
	}
	if t, ok := z.cname[q.Name]; ok {
		return proxytest.DNSReply(dnsmessage.RCodeSuccess, proxytest.DNSCNAME(q.Name, z.ttl, t))
	}
	ips, ok := z.a[q.Name]
	if !ok {
		return proxytest.DNSReply(dnsmessage.RCodeNameError, proxytest.DNSSOA("test", 1, 1))
	}
	if q.Type != dnsmessage.TypeA {
		return proxytest.DNSReply(dnsmessage.RCodeSuccess)
	}
	var rr []dnsmessage.Resource
	for _, ip := range ips {
		rr = append(rr, proxytest.DNSA(q.Name, z.ttl, ip))
	}
	return proxytest.DNSReply(dnsmessage.RCodeSuccess, rr...)
}

// getID asks the gate for /id and returns the body (the backend's
// address) or the status when it is not 200.
func getID(addr string) string { return getPath(addr, "/id") }

// getPath asks the gate for path and returns the body or the status when
// it is not 200.
func getPath(addr, path string) string {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + addr + path)
	if err != nil {
		return "error: " + err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return strconv.Itoa(resp.StatusCode)
	}
	return string(body)
}

// seenIDs asks for /id n times and returns the answers seen, sorted and
// comma separated.
func seenIDs(addr string, n int) string {
	seen := map[string]bool{}
	for range n {
		seen[getID(addr)] = true
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

// dialWS opens a WebSocket through the gate.
func dialWS(ctx context.Context, addr, path string) (*websocket.Conn, error) {
	c, _, err := websocket.Dial(ctx, "ws://"+addr+path, nil)
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(1 << 20)
	return c, nil
}

// echo sends msg and reads it back.
func echo(ctx context.Context, c *websocket.Conn, msg string) error {
	if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		return err
	}
	_, p, err := c.Read(ctx)
	if err != nil {
		return err
	}
	if string(p) != msg {
		return fmt.Errorf("echo %q; want %q", p, msg)
	}
	return nil
}

// closedWith is the Close code err carries, -1 for none.
func closedWith(err error) int {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return int(ce.Code)
	}
	return -1
}
