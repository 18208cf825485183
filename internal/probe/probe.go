// Package probe checks whether a URL speaks WebSocket, the way a careful
// client would, and explains in plain words why not. It performs the
// opening handshake itself over a raw connection (RFC 6455 4.1) so that it
// can show the exact status line and headers the server sent, then
// measures echo and ping round trips and, when asked, holds the connection
// idle to find the idle timeout of the path (nginx's proxy_read_timeout).
package probe

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"wsgate/internal/ws"
)

// Options is one probe. The zero value of every field but URL is usable.
type Options struct {
	// URL is ws://, wss://, http:// (as ws://) or https:// (as wss://).
	URL string
	// Count is the number of echo messages to send and wait for; 0 sends
	// none (for servers that do not echo). Negative means 0.
	Count int
	// Size is the payload of each echo message in bytes; 0 means 32.
	Size int
	// Header holds extra request headers, sent after the handshake's own.
	Header http.Header
	// Origin, when not empty, is sent as the Origin header (browsers always
	// send one; servers may check it, RFC 6455 4.2.2 / 10.2).
	Origin string
	// Subprotocols are offered in Sec-WebSocket-Protocol, in order.
	Subprotocols []string
	// Hold, when positive, keeps the connection idle that long after the
	// round trips and reports whether and when it was cut.
	Hold time.Duration
	// Timeout bounds each step (dial, TLS, handshake, each round trip);
	// 0 means 5 seconds.
	Timeout time.Duration
	// Insecure skips TLS certificate verification.
	Insecure bool
	// UserAgent is sent as User-Agent; empty means "wsgate-probe".
	UserAgent string
}

// Header is one response header line as received.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Result is everything a probe found. Durations are in milliseconds.
type Result struct {
	URL  string `json:"url"`
	Addr string `json:"addr,omitempty"` // the address dialed, host:port
	// RemoteAddr is the IP address the connection reached.
	RemoteAddr string   `json:"remote_addr,omitempty"`
	ConnectMS  float64  `json:"connect_ms,omitempty"`
	TLS        *TLSInfo `json:"tls,omitempty"`

	Request    []string `json:"request,omitempty"`     // request head lines as sent
	StatusLine string   `json:"status_line,omitempty"` // as received, without CRLF
	Status     int      `json:"status,omitempty"`
	Headers    []Header `json:"headers,omitempty"`
	// Body is the start of a non-101 response body, at most 512 bytes.
	Body        string  `json:"body,omitempty"`
	HandshakeMS float64 `json:"handshake_ms,omitempty"`
	// AcceptOK is true when Sec-WebSocket-Accept matched the key sent.
	AcceptOK    bool   `json:"accept_ok"`
	Upgraded    bool   `json:"upgraded"`
	Subprotocol string `json:"subprotocol,omitempty"`
	Extensions  string `json:"extensions,omitempty"`

	Echo *EchoResult `json:"echo,omitempty"`
	Ping *PingResult `json:"ping,omitempty"`
	Hold *HoldResult `json:"hold,omitempty"`
	// Other holds the start of messages the server sent that were not
	// echoes (a greeting, a broadcast), at most 5, each at most 200 bytes.
	Other []string `json:"other_messages,omitempty"`

	// OK is true when the WebSocket works: upgraded with a valid accept
	// key, every echo and the ping answered, and the hold survived.
	OK bool `json:"ok"`
	// Cause names the first problem found (one of the Cause constants),
	// or CauseOK.
	Cause Cause `json:"cause"`
	// Explanation says in plain words what went wrong and why.
	Explanation string `json:"explanation,omitempty"`
	// Fix is what to change, often an nginx configuration excerpt.
	Fix string `json:"fix,omitempty"`
	// Notes are remarks that are not failures.
	Notes []string `json:"notes,omitempty"`
}

// TLSInfo describes the TLS connection.
type TLSInfo struct {
	Version    string `json:"version"`
	ALPN       string `json:"alpn,omitempty"`
	ServerName string `json:"server_name"`
	Verified   bool   `json:"verified"`
}

// EchoResult is the echo round trips.
type EchoResult struct {
	Sent     int     `json:"sent"`
	Received int     `json:"received"`
	Size     int     `json:"size"`
	MinMS    float64 `json:"min_ms,omitempty"`
	AvgMS    float64 `json:"avg_ms,omitempty"`
	MaxMS    float64 `json:"max_ms,omitempty"`
}

// PingResult is the ping round trip (RFC 6455 5.5.2, 5.5.3).
type PingResult struct {
	Pong  bool    `json:"pong"`
	RTTMS float64 `json:"rtt_ms,omitempty"`
}

// HoldResult is what happened while the connection was held idle.
type HoldResult struct {
	RequestedMS float64 `json:"requested_ms"`
	Survived    bool    `json:"survived"`
	// CutAfterMS is the idle time, since the last frame either way, after
	// which the connection was cut.
	CutAfterMS float64 `json:"cut_after_ms,omitempty"`
	// How is "close frame", "eof" or "reset".
	How         string `json:"how,omitempty"`
	CloseCode   int    `json:"close_code,omitempty"`
	CloseReason string `json:"close_reason,omitempty"`
}

const (
	defaultTimeout = 5 * time.Second
	defaultSize    = 32
	maxHeadBytes   = 64 << 10
	maxBodyShown   = 512
)

// Run performs the probe. It never returns nil; every failure is in the
// Result's Cause, Explanation and Fix. ctx cancels it.
func Run(ctx context.Context, opts Options) *Result {
	r := &Result{URL: opts.URL, Cause: CauseOK}
	p := &prober{opts: opts, res: r}
	if p.opts.Timeout <= 0 {
		p.opts.Timeout = defaultTimeout
	}
	if p.opts.Size <= 0 {
		p.opts.Size = defaultSize
	}
	if p.opts.Count < 0 {
		p.opts.Count = 0
	}
	p.run(ctx)
	r.OK = r.Cause == CauseOK
	return r
}

type prober struct {
	opts Options
	res  *Result
	u    *url.URL
	tls  bool
	conn net.Conn
	rec  *headRecorder
	br   *bufio.Reader
}

func (p *prober) run(ctx context.Context) {
	if err := p.parseURL(); err != nil {
		p.fail(CauseBadURL, err.Error(), "use a URL like ws://host/ws/ or wss://host/ws/")
		return
	}
	if !p.dial(ctx) {
		return
	}
	defer p.conn.Close()
	stop := context.AfterFunc(ctx, func() { p.conn.SetDeadline(time.Now()) })
	defer stop()
	if !p.handshake() {
		return
	}
	fc := &frameConn{c: p.conn, br: p.br, limit: int64(max(p.opts.Size*2, 1<<20))}
	if !p.roundTrips(fc) {
		return
	}
	if p.opts.Hold > 0 && !p.hold(fc) {
		return
	}
	// A polite goodbye (RFC 6455 7.1.2): send Close and wait briefly for
	// the server's.
	p.conn.SetDeadline(time.Now().Add(time.Second))
	if fc.writeClose(ws.CloseNormal) == nil {
		fc.drainUntilClose()
	}
}

func (p *prober) parseURL() error {
	u, err := url.Parse(p.opts.URL)
	if err != nil {
		return fmt.Errorf("parsing URL: %w", err)
	}
	switch strings.ToLower(u.Scheme) {
	case "ws", "http":
	case "wss", "https":
		p.tls = true
	case "":
		return fmt.Errorf("URL %q has no scheme", p.opts.URL)
	default:
		return fmt.Errorf("URL scheme %q is not ws, wss, http or https", u.Scheme)
	}
	if u.Host == "" {
		return fmt.Errorf("URL %q has no host", p.opts.URL)
	}
	p.u = u
	port := u.Port()
	if port == "" {
		port = "80"
		if p.tls {
			port = "443"
		}
	}
	p.res.Addr = net.JoinHostPort(u.Hostname(), port)
	return nil
}

// dial connects, with TLS for wss. It reports failures itself.
func (p *prober) dial(ctx context.Context) bool {
	d := net.Dialer{Timeout: p.opts.Timeout}
	start := time.Now()
	c, err := d.DialContext(ctx, "tcp", p.res.Addr)
	if err != nil {
		p.dialFailed(err)
		return false
	}
	p.res.ConnectMS = ms(time.Since(start))
	p.res.RemoteAddr = c.RemoteAddr().String()
	if p.tls {
		tc, ok := p.tlsHandshake(ctx, c, []string{"http/1.1"})
		if !ok {
			c.Close()
			return false
		}
		c = tc
	}
	p.conn = c
	p.rec = &headRecorder{r: c, limit: maxHeadBytes}
	p.br = bufio.NewReaderSize(p.rec, 4096)
	return true
}

func (p *prober) tlsHandshake(ctx context.Context, c net.Conn, alpn []string) (*tls.Conn, bool) {
	cfg := &tls.Config{
		ServerName:         p.u.Hostname(),
		NextProtos:         alpn,
		InsecureSkipVerify: p.opts.Insecure,
	}
	tc := tls.Client(c, cfg)
	hctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		p.tlsFailed(ctx, err)
		return nil, false
	}
	st := tc.ConnectionState()
	p.res.TLS = &TLSInfo{
		Version:    tls.VersionName(st.Version),
		ALPN:       st.NegotiatedProtocol,
		ServerName: cfg.ServerName,
		Verified:   !p.opts.Insecure,
	}
	if st.NegotiatedProtocol == "h2" {
		p.fail(CauseHTTP2Only, "the server chose HTTP/2 (ALPN h2) although only http/1.1 was offered; "+
			"an HTTP/1.1 WebSocket handshake cannot be sent on it",
			"serve HTTP/1.1 on this port too (nginx: \"listen 443 ssl http2;\" still accepts http/1.1)")
		return nil, false
	}
	return tc, true
}

// alpnH2Only reports whether the server accepts TLS with ALPN h2 once
// http/1.1 was refused: an HTTP/2-only server.
func (p *prober) alpnH2Only(ctx context.Context) bool {
	d := net.Dialer{Timeout: p.opts.Timeout}
	c, err := d.DialContext(ctx, "tcp", p.res.Addr)
	if err != nil {
		return false
	}
	defer c.Close()
	tc := tls.Client(c, &tls.Config{ServerName: p.u.Hostname(), NextProtos: []string{"h2"}, InsecureSkipVerify: true})
	hctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	if tc.HandshakeContext(hctx) != nil {
		return false
	}
	return tc.ConnectionState().NegotiatedProtocol == "h2"
}

// handshake writes the opening handshake and reads the answer
// (RFC 6455 4.1). It reports failures itself.
func (p *prober) handshake() bool {
	keyBytes := make([]byte, 16)
	rand.Read(keyBytes)
	key := base64.StdEncoding.EncodeToString(keyBytes)
	target := p.u.RequestURI()
	host := p.u.Host
	if (p.u.Port() == "80" && !p.tls) || (p.u.Port() == "443" && p.tls) {
		host = p.u.Hostname()
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
	}
	ua := p.opts.UserAgent
	if ua == "" {
		ua = "wsgate-probe"
	}
	lines := []string{
		"GET " + target + " HTTP/1.1",
		"Host: " + host,
		"User-Agent: " + ua,
		"Upgrade: websocket",
		"Connection: Upgrade",
		"Sec-WebSocket-Key: " + key,
		"Sec-WebSocket-Version: " + ws.Version,
	}
	if p.opts.Origin != "" {
		lines = append(lines, "Origin: "+p.opts.Origin)
	}
	if len(p.opts.Subprotocols) > 0 {
		lines = append(lines, "Sec-WebSocket-Protocol: "+strings.Join(p.opts.Subprotocols, ", "))
	}
	for name, vals := range p.opts.Header {
		for _, v := range vals {
			lines = append(lines, name+": "+v)
		}
	}
	p.res.Request = lines
	var buf bytes.Buffer
	for _, l := range lines {
		buf.WriteString(l)
		buf.WriteString("\r\n")
	}
	buf.WriteString("\r\n")

	start := time.Now()
	p.conn.SetDeadline(start.Add(p.opts.Timeout))
	if _, err := p.conn.Write(buf.Bytes()); err != nil {
		p.ioFailed("sending the handshake", err)
		return false
	}
	resp, err := http.ReadResponse(p.br, &http.Request{Method: http.MethodGet})
	head := p.recordedHead()
	if err != nil {
		p.responseFailed(head, err)
		return false
	}
	p.res.HandshakeMS = ms(time.Since(start))
	p.parseHead(head, resp)
	if resp.StatusCode != http.StatusSwitchingProtocols {
		if resp.Body != nil {
			p.conn.SetReadDeadline(time.Now().Add(min(p.opts.Timeout, time.Second)))
			b, _ := io.ReadAll(io.LimitReader(resp.Body, maxBodyShown))
			p.res.Body = string(b)
			resp.Body.Close()
		}
		p.statusFailed(resp)
		return false
	}
	if err := ws.CheckServerResponse(resp.StatusCode, resp.Header, key); err != nil {
		p.res.AcceptOK = resp.Header.Get("Sec-WebSocket-Accept") == ws.AcceptKey(key)
		p.fail(CauseBadHandshake, "the server answered 101 but the handshake is not valid: "+err.Error()+
			"; browsers drop such a connection",
			"a proxy between client and server may be rewriting the answer; make it pass Upgrade, Connection and Sec-WebSocket-Accept unchanged")
		return false
	}
	p.res.AcceptOK = true
	p.res.Upgraded = true
	p.res.Subprotocol = resp.Header.Get("Sec-WebSocket-Protocol")
	p.res.Extensions = strings.Join(resp.Header.Values("Sec-WebSocket-Extensions"), ", ")
	if p.res.Subprotocol != "" && !offered(p.opts.Subprotocols, p.res.Subprotocol) {
		p.fail(CauseBadHandshake, fmt.Sprintf("the server chose subprotocol %q, which was not offered (RFC 6455 4.1 says the client must fail the connection)", p.res.Subprotocol),
			"offer it with --subprotocol, or fix the server")
		return false
	}
	if len(p.opts.Subprotocols) > 0 && p.res.Subprotocol == "" {
		p.note("the server accepted none of the offered subprotocols (%s)", strings.Join(p.opts.Subprotocols, ", "))
	}
	if p.res.Extensions != "" && p.opts.Header.Get("Sec-WebSocket-Extensions") == "" {
		p.fail(CauseBadHandshake, fmt.Sprintf("the server enabled extensions %q that were not offered (RFC 6455 9.1)", p.res.Extensions),
			"fix the server, or a proxy that adds Sec-WebSocket-Extensions")
		return false
	}
	return true
}

func offered(list []string, s string) bool {
	for _, o := range list {
		if o == s {
			return true
		}
	}
	return false
}

// recordedHead returns the bytes of the response head as received and
// stops recording.
func (p *prober) recordedHead() []byte {
	b := p.rec.buf.Bytes()
	p.rec.stop()
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		return b[:i]
	}
	if i := bytes.Index(b, []byte("\n\n")); i >= 0 {
		return b[:i]
	}
	return b
}

func (p *prober) parseHead(head []byte, resp *http.Response) {
	lines := strings.Split(strings.ReplaceAll(string(head), "\r\n", "\n"), "\n")
	if len(lines) > 0 {
		p.res.StatusLine = lines[0]
	}
	for _, l := range lines[1:] {
		name, val, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		p.res.Headers = append(p.res.Headers, Header{Name: name, Value: strings.TrimSpace(val)})
	}
	p.res.Status = resp.StatusCode
}

// roundTrips sends the echo messages and one ping.
func (p *prober) roundTrips(fc *frameConn) bool {
	if n := p.opts.Count; n > 0 {
		e := &EchoResult{Size: p.opts.Size}
		p.res.Echo = e
		var total time.Duration
		for i := 0; i < n; i++ {
			payload := makePayload(p.opts.Size, i)
			start := time.Now()
			p.conn.SetDeadline(start.Add(p.opts.Timeout))
			if err := fc.writeFrame(ws.OpText, payload); err != nil {
				p.ioFailed("sending an echo message", err)
				return false
			}
			e.Sent++
			ok, err := p.awaitEcho(fc, payload)
			if err != nil {
				p.afterUpgradeFailed("waiting for the echo", fc, err)
				return false
			}
			if !ok {
				break
			}
			d := time.Since(start)
			e.Received++
			total += d
			if e.MinMS == 0 || ms(d) < e.MinMS {
				e.MinMS = ms(d)
			}
			e.MaxMS = max(e.MaxMS, ms(d))
		}
		if e.Received > 0 {
			e.AvgMS = ms(total / time.Duration(e.Received))
		}
	}
	pr := &PingResult{}
	p.res.Ping = pr
	payload := []byte(fmt.Sprintf("probe-%d", time.Now().UnixNano()))
	start := time.Now()
	p.conn.SetDeadline(start.Add(p.opts.Timeout))
	if err := fc.writeFrame(ws.OpPing, payload); err != nil {
		p.ioFailed("sending a ping", err)
		return false
	}
	for {
		f, err := fc.readMessage()
		if err != nil {
			if isTimeout(err) {
				p.fail(CauseNoPong, fmt.Sprintf("no pong within %s: RFC 6455 5.5.2 requires one", p.opts.Timeout),
					"the server or a proxy in between does not answer pings")
				return false
			}
			p.afterUpgradeFailed("waiting for the pong", fc, err)
			return false
		}
		if f.op == ws.OpPong && bytes.Equal(f.payload, payload) {
			pr.Pong = true
			pr.RTTMS = ms(time.Since(start))
			break
		}
		p.other(f)
	}
	if e := p.res.Echo; e != nil && e.Received < e.Sent {
		p.fail(CauseNoEcho, fmt.Sprintf("the server did not send the message back within %s (%d of %d echoed); "+
			"the WebSocket itself is up (it answered the ping)", p.opts.Timeout, e.Received, e.Sent),
			"if this server is not an echo server, probe with --count 0")
		return false
	}
	return true
}

// awaitEcho reads until the echo of payload arrives. It answers pings
// and records other messages. ok is false when the timeout passed.
func (p *prober) awaitEcho(fc *frameConn, payload []byte) (ok bool, err error) {
	for {
		f, err := fc.readMessage()
		if err != nil {
			if isTimeout(err) {
				return false, nil
			}
			return false, err
		}
		if (f.op == ws.OpText || f.op == ws.OpBinary) && (bytes.Equal(f.payload, payload) || (f.compressed && len(payload) > 0)) {
			if f.compressed {
				p.note("messages came back compressed (permessage-deflate); their content was not checked")
			}
			return true, nil
		}
		p.other(f)
	}
}

func (p *prober) other(f frame) {
	if f.op != ws.OpText && f.op != ws.OpBinary {
		return
	}
	if len(p.res.Other) >= 5 {
		return
	}
	s := f.payload
	if len(s) > 200 {
		s = s[:200]
	}
	p.res.Other = append(p.res.Other, string(s))
}

// hold stays idle and watches for the connection being cut.
func (p *prober) hold(fc *frameConn) bool {
	h := &HoldResult{RequestedMS: ms(p.opts.Hold)}
	p.res.Hold = h
	last := time.Now()
	deadline := last.Add(p.opts.Hold)
	p.conn.SetDeadline(deadline)
	for {
		f, err := fc.readMessage()
		if err == nil {
			// Control frames are answered by readMessage; any frame from the
			// server is activity on the path and restarts the idle clock.
			last = time.Now()
			p.other(f)
			continue
		}
		if isTimeout(err) && !time.Now().Before(deadline) {
			h.Survived = true
			return true
		}
		idle := time.Since(last)
		h.CutAfterMS = ms(idle)
		var ce *closeError
		switch {
		case errors.As(err, &ce):
			h.How = "close frame"
			h.CloseCode = int(ce.code)
			h.CloseReason = ce.reason
		case isReset(err):
			h.How = "reset"
		default:
			h.How = "eof"
		}
		p.idleCut(h, idle)
		return false
	}
}

func (p *prober) note(format string, args ...any) {
	p.res.Notes = append(p.res.Notes, fmt.Sprintf(format, args...))
}

func (p *prober) fail(c Cause, explanation, fix string) {
	if p.res.Cause != CauseOK {
		return
	}
	p.res.Cause = c
	p.res.Explanation = explanation
	p.res.Fix = fix
}

func makePayload(n, seq int) []byte {
	prefix := fmt.Sprintf("wsgate-probe %d ", seq)
	b := make([]byte, n)
	for i := range b {
		if i < len(prefix) {
			b[i] = prefix[i]
		} else {
			b[i] = 'a' + byte(i%26)
		}
	}
	return b
}

func ms(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

// headRecorder keeps a copy of the first bytes read, up to limit, until
// stopped: the response head exactly as received.
type headRecorder struct {
	r       io.Reader
	buf     bytes.Buffer
	limit   int
	stopped bool
}

func (h *headRecorder) Read(b []byte) (int, error) {
	n, err := h.r.Read(b)
	if !h.stopped && h.buf.Len() < h.limit {
		h.buf.Write(b[:n][:min(n, h.limit-h.buf.Len())])
	}
	return n, err
}

func (h *headRecorder) stop() { h.stopped = true }
