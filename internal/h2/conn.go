package h2

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// This file runs one connection: the preface, the read loop and what
// each frame the client sends does. write.go sends frames, stream.go
// holds a stream's state, request.go and response.go turn a stream into
// the handlers' request and response.

// Preface is the client connection preface (RFC 9113 section 3.4), which
// starts an h2c connection with prior knowledge.
const Preface = http2.ClientPreface

// Window sizes (RFC 9113 section 6.9): the largest window, and the
// connection receive window wsgate opens at once, as nginx does
// (NGX_HTTP_V2_MAX_WINDOW), since each stream's window bounds what is
// buffered.
const (
	maxWindow     = 1<<31 - 1
	initialWindow = 65535
)

// floodSlack is nginx's allowance of frame bytes beyond eight times the
// payload before a connection counts as a flood (ngx_http_v2_read_handler).
const floodSlack = 1 << 20

// errFlood ends a connection whose frames carry too little payload.
var errFlood = errors.New("http2 flood detected")

// serverConn is one HTTP/2 connection.
type serverConn struct {
	nc  net.Conn
	cfg *Config
	h   Handler
	sd  *Shutdown

	cr countingReader
	br *bufio.Reader // under cr
	fr *http2.Framer // reads: the read loop only; writes: under wmu

	// The write side, guarded by wmu. maxFrame is the client's
	// SETTINGS_MAX_FRAME_SIZE as the writers use it.
	wmu      sync.Mutex
	bw       *bufio.Writer
	henc     *hpack.Encoder
	hbuf     bytes.Buffer
	maxFrame uint32
	wbroken  bool

	mu       sync.Mutex
	streams  map[uint32]*stream
	lastID   uint32 // the highest stream the client opened
	running  int    // streams whose handler or tunnel has not ended
	refused  int    // streams refused at the limit since a stream last ended
	served   int    // streams taken (keepalive_requests)
	sendWin  int64  // connection send window
	peerWin  int32  // the client's SETTINGS_INITIAL_WINDOW_SIZE
	recvUsed int64  // connection window received and not yet given back
	goneAway bool   // GOAWAY sent: no new streams
	closed   bool
	idle     *time.Timer
	start    time.Time // the connection's start (keepalive_time)
	wg       sync.WaitGroup
	// payload counts the bytes of header fields and DATA the client sent
	// (the read loop's), against cr's count of all bytes read.
	payload int64
}

// countingReader counts what the framer reads and ends the connection as
// nginx's flood check does: more frame bytes than eight times the
// payload, plus floodSlack.
type countingReader struct {
	r     io.Reader
	total int64
	sc    *serverConn
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.total/8 > c.sc.payload+floodSlack {
		// No bytes with the error: io.ReadFull would drop it.
		return 0, errFlood
	}
	n, err := c.r.Read(p)
	c.total += int64(n)
	return n, err
}

// Serve runs HTTP/2 on nc, after its preface's first bytes: prefix is
// what was read from nc already (an h2c preface sniffed), nil on TLS.
// It returns when the connection has ended and every stream's handler and
// tunnel with it. sd, when set, lets a graceful stop send GOAWAY.
func Serve(nc net.Conn, prefix []byte, cfg *Config, h Handler, sd *Shutdown) {
	sc := &serverConn{nc: nc, cfg: cfg, h: h, sd: sd, streams: map[uint32]*stream{},
		sendWin: initialWindow, peerWin: initialWindow, maxFrame: 16384, start: time.Now()}
	size := cfg.RecvBufferSize
	if size < 16<<10 {
		size = 16 << 10
	}
	var r io.Reader = nc
	if len(prefix) > 0 {
		r = io.MultiReader(bytes.NewReader(prefix), nc)
	}
	sc.br = bufio.NewReaderSize(r, size)
	sc.cr = countingReader{r: sc.br, sc: sc}
	sc.bw = bufio.NewWriterSize(nc, 16<<10)
	sc.fr = http2.NewFramer(sc.bw, &sc.cr)
	sc.henc = hpack.NewEncoder(&sc.hbuf)
	// The decoded header list is bounded at twice what the head may
	// take, so that http1's parser gives nginx's 494 for a head over the
	// limit and an HPACK bomb never grows past it (MetaHeadersFrame.Truncated).
	_, large, num := cfg.Head.Sizes()
	sc.fr.MaxHeaderListSize = uint32(2 * large * num)
	sc.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	if sd != nil {
		sd.c.Store(sc)
		defer sd.c.Store(nil)
	}
	sc.serve()
	sc.wg.Wait()
}

func (sc *serverConn) logf(msg string, args ...any) {
	if l := sc.cfg.Logger; l != nil {
		l.Debug(msg, append(args, "client", sc.nc.RemoteAddr().String())...)
	}
}

func (sc *serverConn) serve() {
	defer sc.closeConn()
	if t := sc.cfg.ClientHeaderTimeout; t > 0 {
		sc.nc.SetReadDeadline(time.Now().Add(t))
	}
	var pre [len(Preface)]byte
	if _, err := io.ReadFull(&sc.cr, pre[:]); err != nil || string(pre[:]) != Preface {
		sc.logf("invalid http2 connection preface")
		return
	}
	settings := []http2.Setting{
		{ID: http2.SettingMaxConcurrentStreams, Val: sc.cfg.MaxConcurrentStreams},
		{ID: http2.SettingInitialWindowSize, Val: sc.cfg.BodyPrereadSize},
	}
	if sc.cfg.ExtendedConnect {
		settings = append(settings, http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1})
	}
	if sc.writeFrame(func(fr *http2.Framer) error {
		if err := fr.WriteSettings(settings...); err != nil {
			return err
		}
		return fr.WriteWindowUpdate(0, maxWindow-initialWindow)
	}) != nil {
		return
	}
	if sc.sd != nil && sc.sd.stopping.Load() {
		sc.goAway(http2.ErrCodeNo, false)
	}
	// RFC 9113 3.4 has the client's SETTINGS come first; nginx takes
	// any frame (ngx_http_v2_state_preface), and so does wsgate.
	f, err := sc.fr.ReadFrame()
	if err != nil {
		sc.readError(err)
		return
	}
	sc.nc.SetReadDeadline(time.Time{})
	sc.mu.Lock()
	sc.armIdle()
	sc.mu.Unlock()
	for {
		if err := sc.process(f); err != nil {
			if err != io.EOF {
				sc.connError(err)
			}
			return
		}
		if f, err = sc.fr.ReadFrame(); err != nil {
			sc.readError(err)
			return
		}
	}
}

// readError ends the connection after a failed read: a protocol error
// gets its GOAWAY, a flood GOAWAY NO_ERROR as nginx sends it.
func (sc *serverConn) readError(err error) {
	var ce http2.ConnectionError
	switch {
	case errors.As(err, &ce):
		sc.logf("client sent invalid http2 frames", "error", err)
		sc.fail(http2.ErrCode(ce))
	case errors.Is(err, errFlood):
		sc.logf(errFlood.Error())
		sc.fail(http2.ErrCodeNo)
	case errors.Is(err, http2.ErrFrameTooLarge):
		sc.fail(http2.ErrCodeFrameSize)
	default:
		var se http2.StreamError
		if errors.As(err, &se) {
			// Not reached: ReadFrame's stream errors come through process.
			sc.fail(http2.ErrCodeProtocol)
		}
	}
}

// connError ends the connection after process failed.
func (sc *serverConn) connError(err error) {
	var ce http2.ConnectionError
	if errors.As(err, &ce) {
		sc.logf("client violated http2", "error", err)
		sc.fail(http2.ErrCode(ce))
		return
	}
	sc.fail(http2.ErrCodeInternal)
}

// process acts on one frame. An error it returns ends the connection.
func (sc *serverConn) process(f http2.Frame) error {
	switch f := f.(type) {
	case *http2.MetaHeadersFrame:
		return sc.processHeaders(f)
	case *http2.DataFrame:
		return sc.processData(f)
	case *http2.RSTStreamFrame:
		sc.processReset(f)
	case *http2.WindowUpdateFrame:
		return sc.processWindowUpdate(f)
	case *http2.SettingsFrame:
		return sc.processSettings(f)
	case *http2.PingFrame:
		if !f.IsAck() {
			return sc.writeControl(func(fr *http2.Framer) error { return fr.WritePing(true, f.Data) })
		}
	case *http2.GoAwayFrame:
		sc.mu.Lock()
		sc.goneAway = true
		idle := sc.running == 0
		sc.mu.Unlock()
		if idle {
			return io.EOF
		}
	case *http2.PushPromiseFrame:
		return http2.ConnectionError(http2.ErrCodeProtocol)
	}
	// PRIORITY, PRIORITY_UPDATE and unknown frames change nothing.
	return nil
}

// processHeaders opens a stream, or ends a request body with trailers.
func (sc *serverConn) processHeaders(f *http2.MetaHeadersFrame) error {
	id := f.StreamID
	if id%2 == 0 {
		return http2.ConnectionError(http2.ErrCodeProtocol)
	}
	for _, hf := range f.Fields {
		sc.payload += int64(len(hf.Name) + len(hf.Value))
	}
	sc.mu.Lock()
	if st := sc.streams[id]; st != nil {
		// Trailers end the body (RFC 9113 8.1); wsgate passes none on.
		ok := !st.remoteClosed && f.StreamEnded()
		if ok {
			st.remoteClosed = true
			st.cond.Broadcast()
		}
		sc.mu.Unlock()
		if !ok {
			sc.resetStream(id, http2.ErrCodeProtocol)
		}
		return nil
	}
	if id <= sc.lastID {
		sc.mu.Unlock()
		return http2.ConnectionError(http2.ErrCodeStreamClosed)
	}
	sc.lastID = id
	if sc.goneAway || sc.closed {
		sc.mu.Unlock()
		return nil
	}
	if uint32(sc.running) >= sc.cfg.MaxConcurrentStreams {
		// Streams the client reset still count until their handlers
		// return; a client that keeps opening streams beyond the limit
		// is told to calm down (CVE-2023-44487).
		sc.refused++
		calm := sc.refused > 2*int(sc.cfg.MaxConcurrentStreams)
		sc.mu.Unlock()
		if calm {
			sc.logf("client sent too many streams at once")
			return http2.ConnectionError(http2.ErrCodeEnhanceYourCalm)
		}
		sc.resetStream(id, http2.ErrCodeRefusedStream)
		return nil
	}
	st := sc.newStream(id, f.StreamEnded())
	sc.streams[id] = st
	sc.running++
	sc.served++
	lim := &sc.cfg.Limits
	last := lim.KeepaliveRequests > 0 && sc.served >= lim.KeepaliveRequests ||
		lim.KeepaliveTime > 0 && time.Since(sc.start) >= lim.KeepaliveTime
	if sc.idle != nil {
		sc.idle.Stop()
	}
	sc.wg.Add(1)
	sc.mu.Unlock()
	if last {
		// keepalive_requests (http2_max_requests before 1.19.7) or
		// keepalive_time: this stream is the connection's last.
		sc.goAway(http2.ErrCodeNo, false)
	}
	go sc.runStream(st, f.Fields, f.Truncated)
	return nil
}

// processData buffers a request body's bytes for the stream's reader.
func (sc *serverConn) processData(f *http2.DataFrame) error {
	id := f.StreamID
	data := f.Data()
	sc.payload += int64(len(data))
	sc.mu.Lock()
	// The connection window is given back as frames arrive: each
	// stream's window bounds what waits to be read.
	sc.recvUsed += int64(f.Length)
	var connInc uint32
	if sc.recvUsed >= maxWindow/4 {
		connInc, sc.recvUsed = uint32(sc.recvUsed), 0
	}
	st := sc.streams[id]
	var code http2.ErrCode
	var streamInc uint32
	switch {
	case st == nil && id > sc.lastID:
		sc.mu.Unlock()
		return http2.ConnectionError(http2.ErrCodeProtocol)
	case st == nil:
		code = http2.ErrCodeStreamClosed
	case st.remoteClosed:
		code = http2.ErrCodeStreamClosed
	case int64(f.Length) > st.recvWin:
		code = http2.ErrCodeFlowControl
	default:
		st.recvWin -= int64(f.Length)
		// Padding is given back at once.
		st.recvUsed += int64(f.Length) - int64(len(data))
		if st.discard {
			st.recvUsed += int64(len(data))
		} else {
			st.buf = append(st.buf, data...)
		}
		if f.StreamEnded() {
			st.remoteClosed = true
		}
		streamInc = st.windowUpdate()
		st.cond.Broadcast()
	}
	sc.mu.Unlock()
	if connInc > 0 || streamInc > 0 {
		if err := sc.writeFrame(func(fr *http2.Framer) error {
			if connInc > 0 {
				if err := fr.WriteWindowUpdate(0, connInc); err != nil {
					return err
				}
			}
			if streamInc > 0 {
				return fr.WriteWindowUpdate(id, streamInc)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	if code != 0 {
		if st != nil {
			sc.abandon(st, code)
		} else {
			sc.resetStream(id, code)
		}
	}
	return nil
}

// processReset ends a stream the client reset: its handler's reads and
// writes fail from now on.
func (sc *serverConn) processReset(f *http2.RSTStreamFrame) {
	sc.mu.Lock()
	if st := sc.streams[f.StreamID]; st != nil {
		st.reset = true
		delete(sc.streams, f.StreamID)
		st.cond.Broadcast()
	}
	sc.mu.Unlock()
}

func (sc *serverConn) processWindowUpdate(f *http2.WindowUpdateFrame) error {
	inc := int64(f.Increment)
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if f.StreamID == 0 {
		if sc.sendWin+inc > maxWindow {
			return http2.ConnectionError(http2.ErrCodeFlowControl)
		}
		sc.sendWin += inc
		for _, st := range sc.streams {
			if st.waiting {
				st.cond.Broadcast()
			}
		}
		return nil
	}
	st := sc.streams[f.StreamID]
	if st == nil {
		if f.StreamID > sc.lastID {
			return http2.ConnectionError(http2.ErrCodeProtocol)
		}
		return nil
	}
	if st.sendWin+inc > maxWindow {
		sc.mu.Unlock()
		sc.abandon(st, http2.ErrCodeFlowControl)
		sc.mu.Lock()
		return nil
	}
	st.sendWin += inc
	st.cond.Broadcast()
	return nil
}

func (sc *serverConn) processSettings(f *http2.SettingsFrame) error {
	if f.IsAck() {
		return nil
	}
	if err := f.ForeachSetting(func(s http2.Setting) error {
		if err := s.Valid(); err != nil {
			return err
		}
		switch s.ID {
		case http2.SettingInitialWindowSize:
			sc.mu.Lock()
			delta := int64(s.Val) - int64(sc.peerWin)
			sc.peerWin = int32(s.Val)
			for _, st := range sc.streams {
				if st.sendWin+delta > maxWindow {
					sc.mu.Unlock()
					return http2.ConnectionError(http2.ErrCodeFlowControl)
				}
				st.sendWin += delta
				st.cond.Broadcast()
			}
			sc.mu.Unlock()
		case http2.SettingMaxFrameSize:
			sc.wmu.Lock()
			sc.maxFrame = s.Val
			sc.wmu.Unlock()
		case http2.SettingHeaderTableSize:
			sc.wmu.Lock()
			sc.henc.SetMaxDynamicTableSizeLimit(s.Val)
			sc.wmu.Unlock()
		}
		return nil
	}); err != nil {
		var ce http2.ConnectionError
		if errors.As(err, &ce) {
			return err
		}
		return http2.ConnectionError(http2.ErrCodeProtocol)
	}
	return sc.writeControl(func(fr *http2.Framer) error { return fr.WriteSettingsAck() })
}

// armIdle starts the keepalive_timeout of a connection without streams;
// sc.mu is held.
func (sc *serverConn) armIdle() {
	t := sc.cfg.Limits.KeepaliveTimeout
	if t <= 0 || sc.closed {
		return
	}
	if sc.idle == nil {
		sc.idle = time.AfterFunc(t, sc.onIdle)
	} else {
		sc.idle.Reset(t)
	}
}

func (sc *serverConn) onIdle() {
	sc.mu.Lock()
	idle := sc.running == 0
	sc.mu.Unlock()
	if idle {
		sc.goAway(http2.ErrCodeNo, true)
	}
}

// goAway sends GOAWAY once with the last stream taken; with closeNow, or
// when no stream runs, the connection closes.
func (sc *serverConn) goAway(code http2.ErrCode, closeNow bool) {
	sc.mu.Lock()
	first := !sc.goneAway
	sc.goneAway = true
	last := sc.lastID
	closeNow = closeNow || sc.running == 0
	sc.mu.Unlock()
	if first || code != http2.ErrCodeNo {
		sc.writeFrame(func(fr *http2.Framer) error { return fr.WriteGoAway(last, code, nil) })
	}
	if closeNow {
		sc.closeConn()
	}
}

// fail ends the connection after an error of the client's, from the
// read loop: GOAWAY with code, then a short lingering close, so that
// the GOAWAY is read rather than lost to a reset caused by what the
// client still sends (at most lingerBytes for lingerTime).
func (sc *serverConn) fail(code http2.ErrCode) {
	sc.goAway(code, false)
	sc.mu.Lock()
	sc.goneAway = true
	sc.mu.Unlock()
	if cw, ok := sc.nc.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		sc.nc.SetReadDeadline(time.Now().Add(lingerTime))
		io.CopyN(io.Discard, sc.nc, lingerBytes)
	}
	sc.closeConn()
}

// The bounds of fail's lingering close.
const (
	lingerTime  = time.Second
	lingerBytes = 1 << 20
)

// closeConn closes the connection; every stream's reads and writes fail.
func (sc *serverConn) closeConn() {
	sc.mu.Lock()
	if sc.closed {
		sc.mu.Unlock()
		return
	}
	sc.closed = true
	if sc.idle != nil {
		sc.idle.Stop()
	}
	for _, st := range sc.streams {
		st.cond.Broadcast()
	}
	sc.mu.Unlock()
	sc.nc.Close()
}

// streamEnded is called once per stream when its handler returned (or
// its tunnel ended): the stream stops counting, and a connection that
// sent GOAWAY and has no stream left closes.
func (sc *serverConn) streamEnded(st *stream) {
	sc.mu.Lock()
	sc.running--
	sc.refused = 0
	if sc.streams[st.id] == st {
		delete(sc.streams, st.id)
	}
	idle := sc.running == 0
	closeNow := idle && (sc.goneAway || sc.sd != nil && sc.sd.stopping.Load())
	if idle && !closeNow {
		sc.armIdle()
	}
	sc.mu.Unlock()
	sc.wg.Done()
	if closeNow {
		sc.goAway(http2.ErrCodeNo, true)
	}
}
