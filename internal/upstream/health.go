package upstream

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/ws"
)

// This file is ws_health_check, wsgate's active health check (nginx OSS
// has none; NGINX Plus's health_check gives the parameters: interval,
// fails, passes, uri, mandatory). Every interval, each peer of the pool
// gets a check on a connection of its own: an HTTP GET that must be
// answered with a 2xx or 3xx status, or a WebSocket handshake (RFC 6455
// §4.1) that must be answered with a valid 101, then optionally a text
// message whose answer must contain the expected text, and Close 1000
// (§7.4.1). fails checks failed in a row take a peer out (it is not
// picked, as a peer marked down); passes checks passed in a row put it
// back, its slow_start ramp starting then. Peers start healthy, or, with
// mandatory, unhealthy until their first check passes. A peer marked down
// is not checked.

// healthCheck is a pool's ws_health_check.
type healthCheck struct {
	conf config.HealthCheck
	host string // the Host header: the upstream's name
}

// healthState is one peer's check record, guarded by poolState.mu.
type healthState struct {
	inited  bool // the mandatory start state was set
	fails   int
	passes  int
	checks  int64
	last    time.Time
	lastErr string
}

func (h *healthState) stats(checked, unhealthy bool) HealthStats {
	if !checked {
		return HealthStats{}
	}
	return HealthStats{
		Checked: true, Unhealthy: unhealthy, Fails: h.fails, Passes: h.passes,
		Checks: h.checks, Last: h.last, LastError: h.lastErr,
	}
}

func newHealthCheck(c *config.HealthCheck, name string) *healthCheck {
	return &healthCheck{conf: *c, host: name}
}

// init gives the peers of p's current generation that have never been
// checked their start state.
func (hc *healthCheck) init(p *Pool) {
	g := p.cur()
	g.ps.mu.Lock()
	defer g.ps.mu.Unlock()
	g.eachMember(func(m *member) {
		if !m.st.health.inited {
			m.st.health.inited = true
			m.st.unhealthy = hc.conf.Mandatory
		}
	})
}

// eachMember calls fn with every member, primaries first.
func (p *Pool) eachMember(fn func(m *member)) {
	for i := range p.primary.members {
		fn(&p.primary.members[i])
	}
	if p.backup != nil {
		for i := range p.backup.members {
			fn(&p.backup.members[i])
		}
	}
}

// run checks p's peers every interval until ctx ends.
func (hc *healthCheck) run(ctx context.Context, p *Pool) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		hc.round(ctx, p)
		timer.Reset(hc.conf.Interval)
	}
}

// round checks every peer of p's current generation at once and records
// the results.
func (hc *healthCheck) round(ctx context.Context, p *Pool) {
	hc.init(p)
	g := p.cur()
	type target struct {
		st   *peerState
		peer Peer
	}
	var ts []target
	seen := map[*peerState]bool{}
	g.ps.mu.Lock()
	g.eachMember(func(m *member) {
		if m.down || seen[m.st] {
			return
		}
		seen[m.st] = true
		ts = append(ts, target{m.st, m.info})
	})
	g.ps.mu.Unlock()
	var wg sync.WaitGroup
	for _, t := range ts {
		wg.Go(func() {
			err := hc.check(ctx, t.peer)
			if ctx.Err() != nil {
				return
			}
			hc.record(p, t.st, t.peer, err)
		})
	}
	wg.Wait()
}

// record counts one check's result and moves the peer in or out.
func (hc *healthCheck) record(p *Pool, st *peerState, peer Peer, err error) {
	now := p.reg.now()
	ps := p.ps
	ps.mu.Lock()
	h := &st.health
	h.checks++
	h.last = now
	changed := false
	if err != nil {
		h.fails++
		h.passes = 0
		h.lastErr = err.Error()
		if !st.unhealthy && h.fails >= hc.conf.Fails {
			st.unhealthy, changed = true, true
		}
	} else {
		h.passes++
		h.fails = 0
		h.lastErr = ""
		if st.unhealthy && h.passes >= hc.conf.Passes {
			st.unhealthy, changed = false, true
			st.since = now
		}
	}
	unhealthy := st.unhealthy
	ps.mu.Unlock()
	if !changed {
		return
	}
	if unhealthy {
		p.reg.log.Warn("upstream server failed its health check, taken out", "upstream", p.name, "peer", peer.Name, "error", err)
	} else {
		p.reg.log.Info("upstream server passed its health check, back in", "upstream", p.name, "peer", peer.Name)
	}
}

// check makes one check of peer within the check's timeout.
func (hc *healthCheck) check(ctx context.Context, peer Peer) error {
	ctx, cancel := context.WithTimeout(ctx, hc.conf.Timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, peer.Network, peer.Addr)
	if err != nil {
		return fmt.Errorf("connecting: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if hc.conf.WebSocket {
		return hc.checkWebSocket(conn)
	}
	return hc.checkHTTP(conn)
}

// checkHTTP sends a GET and wants a 2xx or 3xx status.
func (hc *healthCheck) checkHTTP(conn net.Conn) error {
	req := "GET " + hc.conf.URI + " HTTP/1.1\r\nHost: " + hc.host + "\r\nUser-Agent: wsgate-health-check\r\nConnection: close\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		return fmt.Errorf("sending the request: %w", err)
	}
	status, _, err := readHead(bufio.NewReader(conn))
	if err != nil {
		return err
	}
	if status < 200 || status > 399 {
		return fmt.Errorf("status %d", status)
	}
	return nil
}

// checkWebSocket makes a WebSocket handshake, optionally sends a text
// message and waits for an answer that contains the expected text, and
// closes with 1000.
func (hc *healthCheck) checkWebSocket(conn net.Conn) error {
	var k [16]byte
	rand.Read(k[:])
	key := base64.StdEncoding.EncodeToString(k[:])
	req := "GET " + hc.conf.URI + " HTTP/1.1\r\nHost: " + hc.host +
		"\r\nUser-Agent: wsgate-health-check\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
		"\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		return fmt.Errorf("sending the handshake: %w", err)
	}
	br := bufio.NewReader(conn)
	status, h, err := readHead(br)
	if err != nil {
		return err
	}
	if err := ws.CheckServerResponse(status, h, key); err != nil {
		return err
	}
	if hc.conf.Send != "" || hc.conf.Expect != "" {
		if hc.conf.Send != "" {
			if _, err := conn.Write(maskedFrame(ws.OpText, []byte(hc.conf.Send))); err != nil {
				return fmt.Errorf("sending the message: %w", err)
			}
		}
		got, err := readMessage(br)
		if err != nil {
			return err
		}
		if !strings.Contains(got, hc.conf.Expect) {
			return fmt.Errorf("answer %q does not contain %q", truncate(got, 64), hc.conf.Expect)
		}
	}
	if _, err := conn.Write(ws.AppendClose(nil, ws.CloseNormal, "", true)); err != nil {
		return fmt.Errorf("sending Close: %w", err)
	}
	// The server's Close ends the handshake; a server that just hangs up
	// has passed all the same.
	readMessage(br)
	return nil
}

// readHead reads a response's status line and header.
func readHead(br *bufio.Reader) (int, http.Header, error) {
	tp := textproto.NewReader(br)
	line, err := tp.ReadLine()
	if err != nil {
		return 0, nil, fmt.Errorf("reading the response: %w", err)
	}
	proto, rest, _ := strings.Cut(line, " ")
	code, _, _ := strings.Cut(rest, " ")
	status, err := strconv.Atoi(code)
	if !strings.HasPrefix(proto, "HTTP/1.") || err != nil || status < 100 || status > 999 {
		return 0, nil, fmt.Errorf("invalid status line %q", truncate(line, 64))
	}
	mh, err := tp.ReadMIMEHeader()
	if err != nil {
		return 0, nil, fmt.Errorf("reading the response header: %w", err)
	}
	return status, http.Header(mh), nil
}

// maxCheckMessage bounds the answer a check reads.
const maxCheckMessage = 64 << 10

// readMessage reads frames until a whole data message, skipping control
// frames; a Close is an error.
func readMessage(br *bufio.Reader) (string, error) {
	var msg []byte
	for {
		var hb [ws.MaxHeaderLen]byte
		if _, err := io.ReadFull(br, hb[:2]); err != nil {
			return "", fmt.Errorf("reading the answer: %w", err)
		}
		h, n, err := ws.ParseHeader(hb[:2])
		for errors.Is(err, ws.ErrShortHeader) {
			need := 2
			switch hb[1] & 0x7f {
			case 126:
				need += 2
			case 127:
				need += 8
			}
			if hb[1]&0x80 != 0 {
				need += 4
			}
			if _, err := io.ReadFull(br, hb[2:need]); err != nil {
				return "", fmt.Errorf("reading the answer: %w", err)
			}
			h, n, err = ws.ParseHeader(hb[:need])
		}
		_ = n
		if err != nil {
			return "", err
		}
		if h.Length > maxCheckMessage || len(msg)+int(h.Length) > maxCheckMessage {
			return "", fmt.Errorf("answer longer than %d bytes", maxCheckMessage)
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(br, p); err != nil {
			return "", fmt.Errorf("reading the answer: %w", err)
		}
		if h.Masked {
			ws.Mask(p, h.MaskKey, 0)
		}
		switch h.Opcode {
		case ws.OpClose:
			code, _, _ := ws.ParseClosePayload(p)
			return "", fmt.Errorf("closed with %d", code)
		case ws.OpPing, ws.OpPong:
			continue
		}
		msg = append(msg, p...)
		if h.Fin {
			return string(msg), nil
		}
	}
}

// maskedFrame is one whole frame as a client sends it (RFC 6455 §5.3).
func maskedFrame(op ws.Opcode, payload []byte) []byte {
	h := ws.Header{Fin: true, Opcode: op, Masked: true, Length: uint64(len(payload))}
	rand.Read(h.MaskKey[:])
	b := ws.AppendHeader(nil, h)
	start := len(b)
	b = append(b, payload...)
	ws.Mask(b[start:], h.MaskKey, 0)
	return b
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
