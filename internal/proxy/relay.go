package proxy

import (
	"io"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/exchange"
	"wsgate/internal/http1"
	"wsgate/internal/snapshot"
	"wsgate/internal/upstream"
)

// This file streams a proxied response back to the client
// (ngx_http_upstream_send_response without buffering) and hands the
// upstream connection to the keepalive cache when it can serve again.

// relay sends the upstream's response to the client, streaming the body,
// and returns the connection to the keepalive cache when it can carry
// another request.
func (c *clientConn) relay(w exchange.ResponseWriter, req *exchange.Request, plan *snapshot.Loc, a *attempt, resp *http1.Response, start time.Time) int {
	// One clock reading for the response time and the Date header.
	now := time.Now()
	c.recordAt(a, resp.Status, now)
	// $upstream_response_time is not known before the body's end ("-" in
	// add_header, as nginx's u->state->response_time is -1 then).
	c.vc.Upstream[len(c.vc.Upstream)-1].ResponseTime = -1
	c.headAt = now
	cl, chunked := resp.BodyFraming(req.IsHEAD() && !c.cs.getForHead)
	body := &c.upBody
	body.Reset(a.br, cl, chunked)
	outLen := cl
	if chunked {
		outLen = -1
	} else if cl == 0 && !chunked && (req.IsHEAD() || resp.Status == 304) {
		// No body follows, but the client is told the length the
		// upstream declared (headers_out.content_length_n); none when it
		// declared none or chunked.
		outLen = resp.ContentLength
		if resp.Chunked {
			outLen = -1
		}
	}
	c.limitRate(w, plan, resp)
	if c.cs.plan != nil && resp.Status != 101 && buffered(plan, resp) {
		c.cs.w = c.cacheWriter(req, resp)
	}
	c.respHL = respHeaders(resp.Headers)
	c.up = snapshot.UpstreamResponse{Status: resp.Status, StatusLine: resp.StatusLine, Headers: &c.respHL}
	if c.cs.w != nil && resp.Status == 200 && c.notModified(req, plan) {
		// The body is still read and stored; a 304 carries none.
		outLen = -1
	}
	c.plan = plan
	err := w.WriteComposedHeader(c.up.Status, outLen, c.composeFn)
	c.plan = nil
	if !plan.Conf.ProxyBuffering {
		c.vc.LimitRate, c.vc.LimitRateSet = 0, true
	}
	status := c.up.Status
	ok := err == nil
	if ok && !body.Empty() {
		// proxy_read_timeout is armed by the attempt's upstreamReader
		// before each read of the socket.
		bp := copyPool.Get().(*[]byte)
		var cerr error
		if rate := plan.Proxy.LimitRate; rate > 0 && plan.Conf.ProxyBuffering {
			// proxy_limit_rate paces nginx's buffered reading of the
			// response (ngx_event_pipe); an unbuffered one is not paced.
			var src io.Reader = body
			if c.cs.w != nil {
				src = io.TeeReader(body, c.cs.w)
			}
			cerr = copyLimited(w, src, *bp, rate)
		} else {
			cerr = copyBody(w, body, a, *bp, &c.cs, cl, chunked)
		}
		copyPool.Put(bp)
		if cerr != nil {
			// The client must see the truncation: no last chunk.
			ok = false
			w.Abort()
			c.h.Log.Error("relaying upstream response", "upstream", a.peer.Name, "err", cerr, "client", c.remoteAddr)
		}
	}
	if c.cs.w != nil {
		c.cs.finishStore(ok && body.Done(), cl, chunked)
	}
	try := &c.vc.Upstream[len(c.vc.Upstream)-1]
	try.ResponseLength = body.BytesRead()
	// $upstream_response_time runs to the end of the body
	// (ngx_http_upstream_finalize_request), which a client read slowly,
	// or limit_rate, holds back; $upstream_header_time to the end of the
	// head.
	try.ResponseTime = time.Since(a.start)
	// $upstream_bytes_received counts it.
	try.BytesReceived = a.recv
	// The upstream side is finished once its body is read: hand the
	// connection back before the last flush to the client, so that the
	// client's next request finds it in the keepalive cache.
	// An HTTP/1.0 request asked the upstream to close (nginx's default
	// "Connection: close"): such a connection is never cached, or the next
	// request could race the upstream's FIN (nginx 1.22 needs
	// proxy_http_version 1.1 for keepalive too).
	if ok && body.Done() && !resp.ConnectionClose && a.lease != nil && a.br.Buffered() == 0 && plan.Headers.HTTP11(false) {
		a.conn.SetReadDeadline(time.Time{})
		ic := a.idle
		ic.Conn, ic.Requests, ic.Dialed = a.conn, a.reqs+1, a.dialed
		a.lease.PutIdle(ic)
	} else {
		a.conn.Close()
	}
	a.done(upstream.Success)
	if ok {
		w.Flush()
	}
	return status
}

// copyBody copies the upstream's body to the client. What it has read
// goes out before it waits for more (a flush when the upstream has no
// byte ready and the body is not done), as nginx's event pipe writes
// what it has read: a streamed response (server-sent events, a body a
// filter holds part of) reaches the client as the upstream sends it. A
// body read whole in one go is flushed once, by relay.
//
// A response being stored (cs.w) is committed as soon as its last byte
// is read, before that byte goes to the client: a client that sends its
// next request the moment it has the response finds the entry, as it
// does in nginx, whose worker stores the file in the same event as it
// writes the last buffer. cl and chunked are the body's framing.
func copyBody(w exchange.ResponseWriter, body *http1.Body, a *attempt, buf []byte, cs *cacheState, cl int64, chunked bool) error {
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if cs.w != nil {
				cs.w.Write(buf[:n])
				if body.Done() {
					cs.finishStore(true, cl, chunked)
				}
			}
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if a.br.Buffered() == 0 && !body.Done() {
			if ferr := w.Flush(); ferr != nil {
				return ferr
			}
		}
	}
}

// compose appends the head of the proxied response in c.up for
// WriteComposedHeader; it is bound once per connection (composeFn) so that
// a response costs no closure.
func (c *clientConn) compose(dst []byte, f exchange.Framing) []byte {
	c.host = append(c.host[:0], c.redirectHost()...)
	cr := snapshot.ClientResponse{
		Date:          http1.Date(c.headAt),
		ContentLength: f.ContentLength,
		Chunked:       f.Chunked,
		Host:          c.host,
		ServerName:    c.vc.ServerName,
		TLS:           c.tls,
		Vars:          c.vc,
		Port:          c.port,
	}
	if f.KeepAlive {
		cr.Conn = snapshot.ConnKeepAlive
	}
	cr.Scratch = c.respScratch
	c.vc.OverrideCharset = overrideCharset(c.plan, c.up.Headers)
	dst = c.plan.Response.AppendResponse(dst, &c.up, &cr)
	c.respScratch = cr.Scratch
	return dst
}

// redirectHost is the host for absolute redirects: the request's, the
// server name, or the local address.
func (c *clientConn) redirectHost() string {
	if c.vc.Host != "" {
		return c.vc.Host
	}
	if c.vc.ServerName != "" {
		return c.vc.ServerName
	}
	return c.localAddr
}

// respHeaders adapts a parsed response's header lines to HeaderList.
type respHeaders []http1.Header

func (h *respHeaders) Len() int                      { return len(*h) }
func (h *respHeaders) At(i int) (name, value []byte) { return (*h)[i].Name, (*h)[i].Value }

// limitRate applies a backend's X-Accel-Limit-Rate to the response's
// limit_rate and $limit_rate (ngx_http_upstream_process_limit_rate:
// digits only, anything else is ignored); with proxy_buffering off nginx
// sends the response unpaced whatever the rate (it sets r->limit_rate to
// 0 for an unbuffered response once its head is sent).
func (c *clientConn) limitRate(w exchange.ResponseWriter, plan *snapshot.Loc, resp *http1.Response) {
	if n, ok := c.accelLimitRate(resp, &plan.Conf.Proxy); ok {
		w.SetRate(n, -1, c.vc.Start)
	}
	if !plan.Conf.ProxyBuffering {
		// $limit_rate keeps the backend's rate for the head's
		// add_header; nginx zeroes it once the head is out.
		w.SetRate(0, -1, c.vc.Start)
	}
}

// accelLimitRate sets the request's $limit_rate to a backend's
// X-Accel-Limit-Rate, as nginx does while it parses the upstream's head
// (ngx_http_upstream_process_limit_rate), whatever comes of the answer:
// the rate is the request's, so it also paces the answer of the location
// an X-Accel-Redirect or an intercepted error leads to, whose own
// limit_rate it overrides. It reports the rate and whether there was one.
func (c *clientConn) accelLimitRate(resp *http1.Response, po *config.ProxyOptions) (int64, bool) {
	v := resp.Header("X-Accel-Limit-Rate")
	if v == nil || po.IgnoreHeaders&config.IgnoreXAccelLimitRate != 0 {
		return 0, false
	}
	n := exchange.Atoi(v)
	if n < 0 {
		return 0, false
	}
	c.vc.LimitRate, c.vc.LimitRateSet = n, true
	return n, true
}

// copyLimited copies src to dst at no more than rate bytes per second
// (proxy_limit_rate), as ngx_event_pipe_read_upstream paces its reads:
// by the time t seconds (whole seconds, counted up) have passed since
// the first read, at most rate*(t+1) bytes have been read.
func copyLimited(dst exchange.ResponseWriter, src io.Reader, buf []byte, rate int64) error {
	start := time.Now()
	var read int64
	for {
		allowed := rate*(int64(time.Since(start)/time.Second)+1) - read
		if allowed <= 0 {
			// What was read goes out before the wait, until the next
			// whole second since start.
			if err := dst.Flush(); err != nil {
				return err
			}
			next := start.Add((time.Since(start)/time.Second + 1) * time.Second)
			time.Sleep(time.Until(next))
			continue
		}
		p := buf
		if int64(len(p)) > allowed {
			p = p[:allowed]
		}
		n, err := src.Read(p)
		if n > 0 {
			read += int64(n)
			if _, werr := dst.Write(p[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// overrideCharset is ngx_http_upstream_process_charset: the response's
// X-Accel-Charset, the charset the charset filter recodes it into,
// unless proxy_ignore_headers names it; "" for none.
func overrideCharset(plan *snapshot.Loc, hs interface {
	Len() int
	At(int) ([]byte, []byte)
}) string {
	if hs == nil || plan.Conf.Proxy.IgnoreHeaders&config.IgnoreXAccelCharset != 0 || !plan.Body.RecodesXAccelCharset() && !plan.Body.LabelsCharset() {
		return ""
	}
	for i := 0; i < hs.Len(); i++ {
		if name, v := hs.At(i); len(v) > 0 && exchange.EqualFold(name, "X-Accel-Charset") {
			return string(v)
		}
	}
	return ""
}

// finishStore commits the response being stored when whole is true and
// the body is the length the upstream declared
// (ngx_http_upstream_process_request checks it), or drops it.
func (cs *cacheState) finishStore(whole bool, cl int64, chunked bool) {
	cw := cs.w
	cs.w = nil
	want := int64(-1)
	if !chunked {
		want = cl
	}
	if whole {
		cw.Commit(want)
	} else {
		cw.Abort()
	}
}
