// Command load is the benchmark's load generator. It runs one case against
// one address and prints one JSON object on stdout:
//
//	a, b  closed loop: -conns connections each send a -size message and wait
//	      for its echo before sending the next (a: 128 B text, b: 16 KiB binary)
//	c     open loop: -conns connections each send -rate 128 B binary messages
//	      per second on a fixed schedule; latency is taken from a send timestamp carried
//	      in the payload
//	d     idle: -conns WebSockets are opened, each exchanges one 128 B
//	      message, then all sit idle while the proxy's VmRSS is read
//	e     handshakes: -conns workers repeat connect, upgrade, Close, close
//	f     HTTP: -conns keep-alive connections repeat GET /
//	g     HTTP through an upstream keepalive pool: as f, for GET /keepalive/
//	m     TLS handshakes: -conns workers repeat connect, a full TLS 1.3
//	      handshake (X25519, no session resumption), close
//	n     wss over HTTP/1.1: as a, on TLS connections
//	o     wss over HTTP/2 (RFC 8441): as a, each WebSocket an extended
//	      CONNECT on an HTTP/2 connection of its own
//	p     wss over HTTP/3 (RFC 9220): as a, each WebSocket an extended
//	      CONNECT on a QUIC connection of its own
//	q     idle wss over HTTP/1.1: as d, on TLS connections
//	r     idle wss over HTTP/2 (RFC 8441): as d, -streams extended CONNECTs
//	      on each HTTP/2 connection
//
// With -pid, the proxy's CPU time (utime+stime, all threads, and its child
// processes': nginx's workers under a master) is read from
// /proc just before and after the measured window, after a warm-up, so that
// connection setup and teardown are not counted except where they are the
// operation (e).
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"wsgate/bench/internal/hist"
	"wsgate/bench/internal/procstat"
	"wsgate/bench/internal/result"
	"wsgate/bench/internal/wsframe"
)

type config struct {
	addr, host     string
	tlsMode        string // "": plain; "h1": TLS, HTTP/1.1; "h2": TLS, HTTP/2; "h2mux": TLS, HTTP/2, -streams per connection; "h3": QUIC
	pid, echoPID   int
	dur, warm      time.Duration
	conns, size    int
	streams        int
	rate           float64
	srcs           int
	settle         time.Duration
	dialTimeout    time.Duration
	dialParallel   int
	clientMask     [4]byte
	handshakeBytes []byte
}

// loader holds the state shared by a case's goroutines.
type loader struct {
	cfg       config
	h         hist.Histogram
	ops       atomic.Uint64
	errs      atomic.Uint64
	reconn    atomic.Uint64
	firstErr  atomic.Value // string
	measuring atomic.Bool
	stop      atomic.Bool
	nextSrc   atomic.Uint32
	h2pool    h2Pool // case r's shared HTTP/2 connections
}

// wsKey is the fixed Sec-WebSocket-Key; the proxies under test never look
// at it and the backend computes the answer.
const wsKey = "dGhlIHNhbXBsZSBub25jZQ=="

func main() {
	var cfg config
	c := flag.String("case", "a", "case to run: a to r (see the README)")
	target := flag.String("target", "", "target name, copied into the result")
	flag.StringVar(&cfg.addr, "addr", "127.0.0.1:8000", "address of the proxy (or the backend, for direct)")
	flag.StringVar(&cfg.host, "host", "example.com", "Host header")
	flag.IntVar(&cfg.pid, "pid", 0, "proxy process whose CPU and RSS are read (0: none)")
	flag.IntVar(&cfg.echoPID, "echopid", 0, "echo backend process, for the load core's utilisation (0: none)")
	flag.DurationVar(&cfg.dur, "dur", 5*time.Second, "measured window")
	flag.DurationVar(&cfg.warm, "warm", 500*time.Millisecond, "warm-up before the window")
	flag.IntVar(&cfg.conns, "conns", 0, "connections or workers (0: the case's default)")
	flag.IntVar(&cfg.size, "size", 0, "message payload bytes (0: the case's default)")
	flag.Float64Var(&cfg.rate, "rate", 10, "messages per second per connection (case c)")
	flag.IntVar(&cfg.srcs, "srcs", 64, "source addresses used, from 127.0.0.2 upward")
	flag.DurationVar(&cfg.settle, "settle", 2*time.Second, "idle time before reading RSS (cases d, q, r)")
	flag.IntVar(&cfg.streams, "streams", 100, "WebSockets per HTTP/2 connection (case r)")
	flag.Parse()
	raiseNoFile()
	cfg.dialTimeout = 5 * time.Second
	cfg.dialParallel = 64
	cfg.clientMask = [4]byte{0x37, 0xfa, 0x21, 0x3d}
	cfg.handshakeBytes = []byte("GET /ws/ HTTP/1.1\r\nHost: " + cfg.host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + wsKey +
		"\r\nSec-WebSocket-Version: 13\r\n\r\n")
	defaults := map[string][2]int{ // conns, size
		"a": {64, 128}, "b": {64, 16 << 10}, "c": {1000, 128},
		"d": {9500, 128}, "e": {32, 0}, "f": {64, 0}, "g": {64, 0}, "h": {64, 0}, "i": {64, 0}, "j": {64, 0}, "k": {64, 0}, "l": {64, 0},
		"m": {32, 0}, "n": {64, 128}, "o": {64, 128}, "p": {64, 128},
		"q": {9500, 128}, "r": {9500, 128},
	}
	d, ok := defaults[*c]
	if !ok {
		fmt.Fprintf(os.Stderr, "load: unknown case %q\n", *c)
		os.Exit(2)
	}
	if cfg.conns == 0 {
		cfg.conns = d[0]
	}
	if cfg.size == 0 {
		cfg.size = d[1]
	}
	l := &loader{cfg: cfg}
	res := result.Load{Case: *c, Target: *target, Conns: cfg.conns, Size: cfg.size}
	var err error
	switch *c {
	case "a":
		err = l.closedLoop(&res, wsframe.OpText)
	case "b":
		err = l.closedLoop(&res, wsframe.OpBinary)
	case "c":
		// 1,000 connections need a moment to settle into their schedule.
		l.cfg.warm = max(l.cfg.warm, time.Second)
		err = l.openLoop(&res)
	case "d":
		err = l.idle(&res)
	case "e":
		err = l.handshakes(&res)
	case "f":
		err = l.httpGets(&res, "/")
	case "g":
		err = l.httpGets(&res, "/keepalive/")
	case "h":
		err = l.httpGets(&res, "/static/1k.bin")
	case "i":
		err = l.httpGets(&res, "/limited/")
	case "j":
		err = l.httpGets(&res, "/gzip/100k.html")
	case "k":
		err = l.httpGets(&res, "/cached/1k.bin")
	case "l":
		err = l.httpGets(&res, "/cached/1m.bin")
	case "m":
		l.cfg.tlsMode = "h1"
		err = l.tlsHandshakes(&res)
	case "n":
		l.cfg.tlsMode = "h1"
		err = l.closedLoop(&res, wsframe.OpText)
	case "o":
		l.cfg.tlsMode = "h2"
		err = l.closedLoop(&res, wsframe.OpText)
	case "p":
		l.cfg.tlsMode = "h3"
		err = l.closedLoop(&res, wsframe.OpText)
	case "q":
		l.cfg.tlsMode = "h1"
		err = l.idle(&res)
	case "r":
		l.cfg.tlsMode = "h2mux"
		err = l.idle(&res)
	}
	if err != nil {
		l.fail(err)
	}
	res.Errors = l.errs.Load()
	res.Reconnects = l.reconn.Load()
	if s, ok := l.firstErr.Load().(string); ok {
		res.FirstError = s
	}
	json.NewEncoder(os.Stdout).Encode(res)
}

func raiseNoFile() {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Cur < lim.Max {
		lim.Cur = lim.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
}

func (l *loader) fail(err error) {
	if l.stop.Load() {
		return // errors caused by closing connections at the end
	}
	l.errs.Add(1)
	l.firstErr.CompareAndSwap(nil, err.Error())
}

// dial connects from the next of -srcs loopback source addresses, so that
// tens of thousands of connections and TIME_WAIT sockets do not exhaust one
// address's ephemeral ports.
func (l *loader) dial() (net.Conn, error) {
	d := net.Dialer{Timeout: l.cfg.dialTimeout}
	if l.cfg.srcs > 0 {
		n := l.nextSrc.Add(1) % uint32(l.cfg.srcs)
		d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+n))}
	}
	return d.Dial("tcp", l.cfg.addr)
}

// wsConn is a client WebSocket.
type wsConn struct {
	c   net.Conn
	r   *bufio.Reader
	buf []byte
}

func (l *loader) wsDial(bufSize int) (*wsConn, error) {
	switch l.cfg.tlsMode {
	case "h3":
		return l.h3Dial(bufSize)
	case "h2mux":
		return l.h2MuxDial(bufSize)
	}
	c, err := l.dial()
	if err != nil {
		return nil, fmt.Errorf("dialing %s: %w", l.cfg.addr, err)
	}
	switch l.cfg.tlsMode {
	case "h1":
		if c, err = tlsHandshake(c, "http/1.1"); err != nil {
			return nil, err
		}
	case "h2":
		return l.h2Dial(c, bufSize)
	}
	if _, err := c.Write(l.cfg.handshakeBytes); err != nil {
		c.Close()
		return nil, fmt.Errorf("writing handshake: %w", err)
	}
	r := bufio.NewReaderSize(c, bufSize)
	resp, err := wsframe.ReadResponseHead(r)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("reading handshake response: %w", err)
	}
	if resp.Status != 101 {
		c.Close()
		return nil, fmt.Errorf("handshake answered %d; want 101", resp.Status)
	}
	return &wsConn{c: c, r: r}, nil
}

// readFrame reads one server frame into w.buf and returns its header.
// readFrame reads the next frame that is not a Ping; a Ping (the proxy's
// own, ws_ping_interval in the wsgate-ws target) is answered with its
// Pong, as any client would (RFC 6455 5.5.2), in one Write, which net.Conn
// keeps whole beside a writer goroutine's.
func (w *wsConn) readFrame() (wsframe.Header, []byte, error) {
	for {
		h, err := wsframe.ReadHeader(w.r)
		if err != nil {
			return h, nil, err
		}
		if h.Length > 1<<24 {
			return h, nil, wsframe.ErrTooLarge
		}
		if cap(w.buf) < int(h.Length) {
			w.buf = make([]byte, h.Length)
		}
		p := w.buf[:h.Length]
		if _, err := io.ReadFull(w.r, p); err != nil {
			return h, nil, err
		}
		if h.Opcode != wsframe.OpPing {
			return h, p, nil
		}
		if _, err := w.c.Write(wsframe.AppendFrame(nil, wsframe.OpPong, p, &pongMask)); err != nil {
			return h, nil, err
		}
	}
}

// pongMask masks the Pongs readFrame sends.
var pongMask = [4]byte{0x5a, 0x11, 0xc3, 0x7e}

// dialAll opens n WebSockets with bounded parallelism; failures are counted
// and the connections that did open are returned.
func (l *loader) dialAll(n, bufSize int, after func(*wsConn) error) []*wsConn {
	conns := make([]*wsConn, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, l.cfg.dialParallel)
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			w, err := l.wsDial(bufSize)
			if err == nil && after != nil {
				if err = after(w); err != nil {
					w.c.Close()
				}
			}
			if err != nil {
				l.fail(err)
				return
			}
			conns[i] = w
		}()
	}
	wg.Wait()
	out := conns[:0]
	for _, w := range conns {
		if w != nil {
			out = append(out, w)
		}
	}
	return out
}

// closeAll ends WebSockets with a Close frame (RFC 6455 section 5.5.1) and
// waits up to 2 s for the peer's Close or EOF before closing the socket.
// The backend answers Close and closes first, so TIME_WAIT sockets land on
// the backend's listening port and not on the proxy's ephemeral ports,
// which later cases need.
func (l *loader) closeAll(conns []*wsConn) {
	frame := wsframe.AppendFrame(nil, wsframe.OpClose, []byte{0x03, 0xe8}, &l.cfg.clientMask)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256)
	for _, w := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			w.c.SetDeadline(time.Now().Add(2 * time.Second))
			if _, err := w.c.Write(frame); err == nil {
				io.Copy(io.Discard, w.r)
			}
			w.c.Close()
		}()
	}
	wg.Wait()
}

// window runs the warm-up and the measured window while the workers run,
// and fills the result's counts, rates, latencies and CPU.
func (l *loader) window(res *result.Load, bytesPerOp int) {
	time.Sleep(l.cfg.warm)
	cpu0 := l.cpu(l.cfg.pid)
	sys0 := l.sys(l.cfg.pid)
	core0 := l.cpu(os.Getpid()) + l.cpu(l.cfg.echoPID)
	ops0 := l.ops.Load()
	t0 := time.Now()
	l.measuring.Store(true)
	time.Sleep(l.cfg.dur)
	l.measuring.Store(false)
	ops1 := l.ops.Load()
	elapsed := time.Since(t0)
	cpu1 := l.cpu(l.cfg.pid)
	sys1 := l.sys(l.cfg.pid)
	core1 := l.cpu(os.Getpid()) + l.cpu(l.cfg.echoPID)
	l.stop.Store(true)
	res.Seconds = elapsed.Seconds()
	res.Ops = ops1 - ops0
	res.OpsPerSec = float64(res.Ops) / res.Seconds
	res.MBPerSec = res.OpsPerSec * float64(bytesPerOp) / 1e6
	res.Core1Util = (core1 - core0).Seconds() / res.Seconds
	if l.cfg.pid > 0 {
		res.ProxyCPU = float64((cpu1 - cpu0).Microseconds())
		if res.Ops > 0 {
			res.CPUPerOp = res.ProxyCPU / float64(res.Ops)
			res.SysPerOp = float64((sys1 - sys0).Microseconds()) / float64(res.Ops)
		}
		if res.CPUPerOp > 0 {
			res.MBPerCPUSec = float64(bytesPerOp) / res.CPUPerOp // bytes per µs = MB/s
		}
	}
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	res.P50 = us(l.h.Quantile(0.50))
	res.P90 = us(l.h.Quantile(0.90))
	res.P99 = us(l.h.Quantile(0.99))
	res.P999 = us(l.h.Quantile(0.999))
	res.Max = us(l.h.Max())
}

// sys is the kernel's part of cpu.
func (l *loader) sys(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	_, s, err := procstat.TreeCPUSplit(pid)
	if err != nil {
		l.fail(err)
	}
	return s
}

func (l *loader) cpu(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	u, s, err := procstat.TreeCPUSplit(pid)
	if err != nil {
		l.fail(err)
	}
	return u + s
}

// closedLoop is cases a and b: each connection sends one message and waits
// for its echo. One op is one round trip; MB/s counts payload bytes echoed
// (one direction).
func (l *loader) closedLoop(res *result.Load, op byte) error {
	payload := make([]byte, l.cfg.size)
	for i := range payload {
		payload[i] = 'a' + byte(i%26)
	}
	frame := wsframe.AppendFrame(nil, op, payload, &l.cfg.clientMask)
	conns := l.dialAll(l.cfg.conns, 64<<10, nil)
	if len(conns) == 0 {
		return errors.New("no connection opened")
	}
	var wg sync.WaitGroup
	for _, w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.buf = make([]byte, l.cfg.size)
			for !l.stop.Load() {
				t := time.Now()
				if _, err := w.c.Write(frame); err != nil {
					l.fail(fmt.Errorf("writing message: %w", err))
					return
				}
				h, p, err := w.readFrame()
				if err != nil {
					l.fail(fmt.Errorf("reading echo: %w", err))
					return
				}
				if h.Opcode != op || len(p) != len(payload) {
					l.fail(fmt.Errorf("echo opcode %d length %d; want %d and %d", h.Opcode, len(p), op, len(payload)))
					return
				}
				if l.measuring.Load() {
					l.h.Record(time.Since(t))
				}
				l.ops.Add(1)
			}
		}()
	}
	l.window(res, l.cfg.size)
	// Workers finish their round trip and stop; then the sockets close.
	for _, w := range conns {
		w.c.SetDeadline(time.Now().Add(5 * time.Second))
	}
	wg.Wait()
	l.closeAll(conns)
	return nil
}

// openLoop is case c: every connection sends -rate messages per second on
// its own schedule, phases spread evenly, whatever the echoes do. The first
// 8 payload bytes carry the send time, so latency is measured per message
// and is not hidden by a slow echo (no coordinated omission while writes do
// not block).
func (l *loader) openLoop(res *result.Load) error {
	conns := l.dialAll(l.cfg.conns, 4096, nil)
	if len(conns) == 0 {
		return errors.New("no connection opened")
	}
	base := time.Now()
	interval := time.Duration(float64(time.Second) / l.cfg.rate)
	var senders, receivers sync.WaitGroup
	for i, w := range conns {
		senders.Add(1)
		receivers.Add(1)
		go func() { // receiver
			defer receivers.Done()
			w.buf = make([]byte, l.cfg.size)
			for {
				h, p, err := w.readFrame()
				if err != nil {
					if !l.stop.Load() {
						l.fail(fmt.Errorf("reading echo: %w", err))
					}
					return
				}
				if h.Opcode == wsframe.OpClose {
					return
				}
				if len(p) >= 8 {
					sent := time.Duration(binary.LittleEndian.Uint64(p))
					if l.measuring.Load() {
						l.h.Record(time.Since(base) - sent)
					}
				}
				l.ops.Add(1)
			}
		}()
		go func() { // sender
			defer senders.Done()
			plain := make([]byte, l.cfg.size)
			for j := range plain {
				plain[j] = 'a' + byte(j%26)
			}
			frame := wsframe.AppendFrame(nil, wsframe.OpBinary, plain, &l.cfg.clientMask)
			hl := len(frame) - len(plain)
			next := base.Add(interval * time.Duration(i) / time.Duration(len(conns)))
			for !l.stop.Load() {
				time.Sleep(time.Until(next))
				next = next.Add(interval)
				p := frame[hl:]
				copy(p, plain)
				binary.LittleEndian.PutUint64(p, uint64(time.Since(base)))
				wsframe.Mask(p, l.cfg.clientMask, 0)
				if _, err := w.c.Write(frame); err != nil {
					if !l.stop.Load() {
						l.fail(fmt.Errorf("writing message: %w", err))
					}
					return
				}
			}
		}()
	}
	l.window(res, l.cfg.size)
	// Senders stop within one interval; a Close frame then follows the
	// last message, the backend answers it and closes first.
	senders.Wait()
	closeFrame := wsframe.AppendFrame(nil, wsframe.OpClose, []byte{0x03, 0xe8}, &l.cfg.clientMask)
	for _, w := range conns {
		w.c.SetDeadline(time.Now().Add(3 * time.Second))
		w.c.Write(closeFrame)
	}
	receivers.Wait()
	for _, w := range conns {
		w.c.Close()
	}
	return nil
}

// handshakes is case e: each worker repeats a WebSocket's whole life:
// connect, upgrade, send Close 1000, read the echoed Close, close. One op is
// one such life; its latency is the time it took.
func (l *loader) handshakes(res *result.Load) error {
	closeFrame := wsframe.AppendFrame(nil, wsframe.OpClose, []byte{0x03, 0xe8}, &l.cfg.clientMask)
	var wg sync.WaitGroup
	for range l.cfg.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !l.stop.Load() {
				t := time.Now()
				w, err := l.wsDial(512)
				if err != nil {
					l.fail(err)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				if _, err := w.c.Write(closeFrame); err != nil {
					l.fail(fmt.Errorf("writing close: %w", err))
					w.c.Close()
					continue
				}
				for {
					h, _, err := w.readFrame()
					if err != nil {
						l.fail(fmt.Errorf("reading close: %w", err))
						break
					}
					if h.Opcode == wsframe.OpClose {
						if l.measuring.Load() {
							l.h.Record(time.Since(t))
						}
						l.ops.Add(1)
						break
					}
				}
				w.c.Close()
			}
		}()
	}
	l.window(res, 0)
	wg.Wait()
	return nil
}

// httpGets is cases f and g: keep-alive connections repeat GET path and
// read the response; a connection the proxy closes is reopened and counted
// in reconnects, not in errors.
func (l *loader) httpGets(res *result.Load, path string) error {
	req := []byte("GET " + path + " HTTP/1.1\r\nHost: " + l.cfg.host + "\r\nAccept-Encoding: gzip, deflate\r\n\r\n")
	var wg sync.WaitGroup
	for range l.cfg.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var c net.Conn
			var r *bufio.Reader
			defer func() {
				if c != nil {
					c.Close()
				}
			}()
			for !l.stop.Load() {
				if c == nil {
					var err error
					if c, err = l.dial(); err != nil {
						l.fail(fmt.Errorf("dialing %s: %w", l.cfg.addr, err))
						time.Sleep(10 * time.Millisecond)
						continue
					}
					r = bufio.NewReaderSize(c, 4096)
				}
				t := time.Now()
				_, err := c.Write(req)
				var resp wsframe.Response
				if err == nil {
					resp, err = wsframe.ReadResponseHead(r)
				}
				if err == nil && resp.ContentLength > 0 {
					_, err = r.Discard(int(resp.ContentLength))
				}
				if err == nil && resp.Chunked {
					_, err = wsframe.DiscardChunked(r)
				}
				if err == nil && resp.Status != 200 {
					err = fmt.Errorf("GET / answered %d; want 200", resp.Status)
				}
				if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
					// The proxy closed an idle keep-alive connection.
					l.reconn.Add(1)
					c.Close()
					c = nil
					continue
				}
				if err != nil {
					l.fail(err)
					c.Close()
					c = nil
					continue
				}
				if l.measuring.Load() {
					l.h.Record(time.Since(t))
				}
				l.ops.Add(1)
				if resp.Close {
					l.reconn.Add(1)
					c.Close()
					c = nil
				}
			}
		}()
	}
	l.window(res, 0)
	wg.Wait()
	return nil
}
