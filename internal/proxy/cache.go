package proxy

import (
	"bytes"
	"os"
	"time"

	"wsgate/internal/cache"
	"wsgate/internal/config"
	"wsgate/internal/exchange"
	"wsgate/internal/files"
	"wsgate/internal/http1"
	"wsgate/internal/snapshot"
	"wsgate/internal/vars"
)

// This file is proxy_cache on the request path
// (ngx_http_upstream_cache and ngx_http_upstream_cache_send): the lookup
// before the upstream is tried, a stale entry served when the upstream
// fails, a revalidated one after a 304, and the tee of a cacheable
// response into the zone (internal/cache stores it).

// cacheState is one request's use of its location's cache.
type cacheState struct {
	plan *snapshot.CachePlan
	zone *cache.Zone
	key  []byte
	// stale is an expired entry kept for proxy_cache_use_stale and
	// proxy_cache_revalidate; fill the claim to store the response.
	stale *cache.Entry
	fill  *cache.Fill
	// store is false when the response must not be stored (min_uses not
	// reached, a lock waited out).
	store bool
	// revalidating: the upstream request carries the stale entry's
	// validators.
	revalidating bool
	// getForHead: a HEAD went upstream as GET (proxy_cache_convert_head).
	getForHead bool
	// background: a stale entry was the answer, and the upstream is
	// asked for a fresh one to store (proxy_cache_background_update).
	background bool
	w          *cache.Writer
}

// cacheHeaders are the client headers nginx does not pass to a cached
// location's upstream (ngx_http_proxy_cache_headers): the cache answers
// conditional and range requests itself.
var cacheHeaders = []string{"If-Modified-Since", "If-Unmodified-Since", "If-None-Match", "If-Match", "Range", "If-Range"}

// cacheStart looks the request up in its location's cache. It answers
// the request from the cache (done) or leaves c.cs ready for the
// upstream try.
func (c *clientConn) cacheStart(w exchange.ResponseWriter, req *exchange.Request, plan *snapshot.Loc) (status int, done bool) {
	cp := plan.Cache
	if c.cs.background {
		c.cs.background = false
		return 0, false
	}
	c.cs = cacheState{}
	if !cp.Caches(req.Method) {
		return 0, false
	}
	z := cp.Zone
	if cp.ZoneName != nil {
		// ngx_http_upstream_cache_get: "" and "off" cache nothing, an
		// unknown name is an error (500).
		name := cp.ZoneName.Append(nil, c.vc)
		if len(name) == 0 || string(name) == "off" {
			return 0, false
		}
		if z = cp.Zones[string(name)]; z == nil {
			c.h.Log.Error("cache not found", "cache", string(name), "client", c.remoteAddr)
			return c.writeError(w, req, plan, 500), true
		}
	}
	cs := &c.cs
	cs.plan, cs.zone = cp, z
	c.cacheKey = cp.Key.Append(c.cacheKey[:0], c.vc)
	cs.key = c.cacheKey
	cs.getForHead = req.IsHEAD() && cp.ConvertHead
	if c.predicate(cp.Bypass) {
		c.vc.CacheStatus = cache.Bypass.String()
		cs.fill, cs.store = z.Fill(cs.key), true
		return 0, false
	}
	opts := cp.Options
	opts.Header = func(name []byte) []byte { return req.Header(bstr(name)) }
	l := z.Lookup(cs.key, &opts, time.Now())
	cs.fill, cs.store = l.Fill, l.Cacheable
	switch l.Status {
	case cache.Hit:
		if l.ErrorStatus != 0 {
			// A kept intercepted error: answered again as the error
			// it was (the location's error_page), logged HIT.
			c.vc.CacheStatus = cache.Hit.String()
			return c.writeError(w, req, plan, l.ErrorStatus), true
		}
		return c.serveEntry(w, req, plan, l.Entry, cache.Hit), true
	case cache.Updating:
		if cp.UseStale&config.StaleUpdating != 0 || l.StaleUpdating {
			return c.serveEntry(w, req, plan, l.Entry, cache.Updating), true
		}
		cs.stale = l.Entry
		c.vc.CacheStatus = cache.Expired.String()
	case cache.Expired:
		m := l.Entry.Meta
		if cp.BackgroundUpdate && (cp.UseStale&config.StaleUpdating != 0 || m.Valid+m.Updating >= time.Now().Unix()) {
			// proxy_cache_background_update: the stale entry now, the
			// refresh after it (ngx_http_upstream_cache_background_update;
			// the connection's next request waits for it, as nginx's
			// main request waits for its background subrequest).
			// The refresh is the request a stale entry makes: with
			// proxy_cache_revalidate it carries the entry's validators,
			// and a 304 refreshes the entry (nginx's background
			// subrequest finds the entry being updated and goes on
			// with it as EXPIRED).
			st := c.sendEntry(w, req, plan, l.Entry, cache.Stale)
			cs.stale = l.Entry
			cs.revalidating = cp.Revalidate && (len(m.ETag) > 0 || m.LastModified > 0)
			cs.background = true
			return st, true
		}
		cs.stale = l.Entry
		c.vc.CacheStatus = cache.Expired.String()
	default:
		c.vc.CacheStatus = cache.Miss.String()
	}
	if cs.stale != nil && cp.Revalidate && (len(cs.stale.Meta.ETag) > 0 || cs.stale.Meta.LastModified > 0) {
		cs.revalidating = true
	}
	return 0, false
}

// predicate reports whether one of ts is neither empty nor "0"
// (ngx_http_test_predicates).
func (c *clientConn) predicate(ts []*vars.Template) bool {
	for _, t := range ts {
		v := t.Append(c.page[:0], c.vc)
		c.page = v
		if len(v) > 0 && !(len(v) == 1 && v[0] == '0') {
			return true
		}
	}
	return false
}

// cacheRequestHeaders drops the headers a cached location does not pass.
func (c *clientConn) cacheRequestHeaders(hs []exchange.Header) []exchange.Header {
	out := make([]exchange.Header, 0, len(hs))
next:
	for _, h := range hs {
		for _, n := range cacheHeaders {
			if exchange.EqualFold(h.Name, n) {
				continue next
			}
		}
		out = append(out, h)
	}
	return out
}

// appendValidators puts the stale entry's validators in the upstream
// head before its last empty line (proxy_cache_revalidate: nginx sends
// $upstream_cache_last_modified and $upstream_cache_etag).
func (c *clientConn) appendValidators(head []byte) []byte {
	m := c.cs.stale.Meta
	var extra []byte
	if m.LastModified > 0 {
		extra = append(extra, "If-Modified-Since: "...)
		extra = append(extra, http1.Date(time.Unix(m.LastModified, 0))...)
		extra = append(extra, "\r\n"...)
	}
	if len(m.ETag) > 0 {
		extra = append(extra, "If-None-Match: "...)
		extra = append(extra, m.ETag...)
		extra = append(extra, "\r\n"...)
	}
	end := len(head) - 2
	out := append(head[:end:end], extra...)
	return append(out, "\r\n"...)
}

// staleFor reports whether the stale entry answers a failed try of kind
// or an upstream answer with status (kind 0): proxy_cache_use_stale, or
// the entry's own stale-if-error.
func (c *clientConn) staleFor(kind ErrorKind, status int) bool {
	cs := &c.cs
	if cs.stale == nil {
		return false
	}
	var want config.CacheStale
	switch {
	case kind != 0:
		switch kind.NextUpstream() {
		case config.NextError:
			want = config.StaleError
		case config.NextTimeout:
			want = config.StaleTimeout
		case config.NextInvalidHeader:
			want = config.StaleInvalidHeader
		}
		if kind == KindNoLive {
			want = config.StaleError
		}
	default:
		switch status {
		case 500:
			want = config.StaleHTTP500
		case 502:
			want = config.StaleHTTP502
		case 503:
			want = config.StaleHTTP503
		case 504:
			want = config.StaleHTTP504
		case 403:
			want = config.StaleHTTP403
		case 404:
			want = config.StaleHTTP404
		case 429:
			want = config.StaleHTTP429
		}
	}
	if want == 0 {
		return false
	}
	if cs.plan.UseStale&want != 0 {
		return true
	}
	// The entry's stale-if-error covers a failed try only: nginx reads
	// it in ngx_http_upstream_next, and answers of any status, 5xx too,
	// only by proxy_cache_use_stale (ngx_http_upstream_test_next; "stale
	// 5xx response is ignored" since 1.19.3).
	if kind != 0 {
		return cs.stale.Meta.Valid+cs.stale.Meta.Error >= time.Now().Unix()
	}
	return false
}

// serveStale answers with the stale entry.
func (c *clientConn) serveStale(w exchange.ResponseWriter, req *exchange.Request, plan *snapshot.Loc) int {
	e := c.cs.stale
	c.cs.stale = nil
	return c.serveEntry(w, req, plan, e, cache.Stale)
}

// revalidated answers a 304 to a revalidation: the entry is fresh again
// and served. Its lifetime is the one the 304's headers give; without
// one, the one the entry's own headers give again, counted from now;
// without that, proxy_cache_valid's for the entry's status
// (ngx_http_upstream_process_headers' NGX_HTTP_NOT_MODIFIED branch of
// ngx_http_upstream_test_next). Without any, it stays expired.
func (c *clientConn) revalidated(w exchange.ResponseWriter, req *exchange.Request, plan *snapshot.Loc, resp *http1.Response) int {
	e := c.cs.stale
	c.cs.stale = nil
	now := time.Now()
	ignore := c.cs.plan.Ignore
	c.respHL = respHeaders(resp.Headers)
	f := cache.Decide(e.Meta.Status, &c.respHL, ignore, nil, now, files.ParseHTTPTime)
	if f.Valid == 0 {
		own := make(respHeaders, len(e.Meta.Headers))
		for i, h := range e.Meta.Headers {
			own[i] = http1.Header{Name: h.Name, Value: h.Value}
		}
		f = cache.Decide(e.Meta.Status, &own, ignore, nil, now, files.ParseHTTPTime)
	}
	if f.Valid == 0 {
		if d, ok := cache.ValidFor(c.cs.plan.Valid, e.Meta.Status); ok && d > 0 {
			f.Valid = now.Unix() + int64(d/time.Second)
		}
	}
	if f.Valid != 0 && c.cs.store {
		if err := c.cs.zone.Refresh(e, f.Valid, f.Updating, f.Error, now.Unix()); err != nil {
			c.h.Log.Error("refreshing cache entry", "err", err)
		}
	}
	return c.serveEntry(w, req, plan, e, cache.Revalidated)
}

// serveEntry answers with a cache entry through the location's response
// plan, its body sent from the file (sendfile where the connection
// allows it; the body filters apply as to a file).
func (c *clientConn) serveEntry(w exchange.ResponseWriter, req *exchange.Request, plan *snapshot.Loc, e *cache.Entry, st cache.Status) int {
	defer e.Close()
	return c.sendEntry(w, req, plan, e, st)
}

// sendEntry is serveEntry leaving e open.
func (c *clientConn) sendEntry(w exchange.ResponseWriter, req *exchange.Request, plan *snapshot.Loc, e *cache.Entry, st cache.Status) int {
	c.vc.CacheStatus = st.String()
	m := e.Meta
	hl := c.cacheHL[:0]
	for _, h := range m.Headers {
		hl = append(hl, http1.Header{Name: h.Name, Value: h.Value})
	}
	c.cacheHL, c.respHL = hl, hl
	c.up = snapshot.UpstreamResponse{Status: m.Status, StatusLine: m.StatusLine, Headers: &c.respHL}
	c.headAt = time.Now()
	c.plan = plan
	n := m.BodyLen
	var cr cacheRange
	if m.Status == 200 && c.preconditionFailed(req, plan) {
		// nginx closes the connection after it, as after a file's 412.
		c.plan = nil
		w.CloseAfter()
		return c.writeError(w, req, plan, 412)
	}
	if m.Status == 200 && c.notModified(req, plan) {
		n = -1
	} else if m.Status == 200 {
		switch c.hitRanges(req, plan, n, &cr) {
		case 416:
			c.plan = nil
			return c.rangeNotSatisfiable(w, plan, n)
		case 206:
			n = cr.length()
		}
	}
	err := w.WriteComposedHeader(c.up.Status, n, c.composeFn)
	c.plan = nil
	if err == nil && n > 0 && !req.IsHEAD() {
		switch {
		case cr.rs != nil:
			err = cr.write(w, e)
		case e.File == nil:
			// A small entry kept in memory (internal/cache's small.go).
			_, err = w.Write(e.Body)
		default:
			_, err = w.WriteFile(e.File, e.BodyOff, m.BodyLen)
		}
	}
	if err != nil {
		w.Abort()
		return c.up.Status
	}
	w.Flush()
	return c.up.Status
}

// notModified applies nginx's not-modified filter to the 200 in c.up
// and c.respHL, which a cached location's answers go through (nginx
// disables it only for responses it does not cache): when the client's
// If-None-Match or If-Modified-Since says its copy is current, c.up
// becomes a 304 without Content-Type, and it reports true (no body).
// If-Match and If-Unmodified-Since that fail are preconditionFailed's.
func (c *clientConn) notModified(req *exchange.Request, plan *snapshot.Loc) bool {
	if req.Header("If-None-Match") == nil && req.Header("If-Modified-Since") == nil {
		return false
	}
	if c.cachedPreconditions(req, plan) != 304 {
		return false
	}
	hl := make(respHeaders, 0, len(c.respHL))
	for _, h := range c.respHL {
		if !exchange.EqualFold(h.Name, "Content-Type") && !exchange.EqualFold(h.Name, "Accept-Ranges") {
			hl = append(hl, h)
		}
	}
	c.respHL = hl
	c.up = snapshot.UpstreamResponse{Status: 304, StatusLine: statusNotModified, Headers: &c.respHL}
	return true
}

var statusNotModified = []byte("304 Not Modified")

// preconditionFailed is the not-modified filter's 412 for the cached 200
// in c.respHL: an If-Unmodified-Since older than its Last-Modified, or an
// If-Match that none of its ETag matches (ngx_http_test_if_unmodified,
// ngx_http_test_if_match).
func (c *clientConn) preconditionFailed(req *exchange.Request, plan *snapshot.Loc) bool {
	if req.Header("If-Unmodified-Since") == nil && req.Header("If-Match") == nil {
		return false
	}
	return c.cachedPreconditions(req, plan) == 412
}

// cachedPreconditions is files.NotModified's answer for the cached 200 in
// c.respHL, by its ETag and Last-Modified lines.
func (c *clientConn) cachedPreconditions(req *exchange.Request, plan *snapshot.Loc) int {
	var etag []byte
	lm := int64(-1)
	for _, h := range c.respHL {
		switch {
		case exchange.EqualFold(h.Name, "ETag"):
			etag = h.Value
		case exchange.EqualFold(h.Name, "Last-Modified"):
			lm = files.ParseHTTPTime(h.Value)
		}
	}
	return files.NotModified(req.Header, etag, lm, plan.Conf.Files.IfModifiedSince)
}

// cacheIntercepted keeps an error that proxy_intercept_errors answers
// as the key's answer when resp may be stored and has a lifetime, its
// headers' or proxy_cache_valid's for its status, as
// ngx_http_upstream_intercept_errors does.
func (c *clientConn) cacheIntercepted(resp *http1.Response) {
	cs := &c.cs
	if cs.fill == nil || !cs.store || c.predicate(cs.plan.NoCache) {
		return
	}
	c.respHL = respHeaders(resp.Headers)
	f := cache.Decide(resp.Status, &c.respHL, cs.plan.Ignore, cs.plan.Valid, time.Now(), files.ParseHTTPTime)
	if f.Cacheable {
		cs.fill.StoreError(resp.Status, f.Valid)
	}
}

// cacheWriter starts storing resp when it is cacheable; nil otherwise.
func (c *clientConn) cacheWriter(req *exchange.Request, resp *http1.Response) *cache.Writer {
	cs := &c.cs
	if cs.fill == nil || !cs.store {
		return nil
	}
	if c.predicate(cs.plan.NoCache) {
		return nil
	}
	now := time.Now()
	c.respHL = respHeaders(resp.Headers)
	f := cache.Decide(resp.Status, &c.respHL, cs.plan.Ignore, cs.plan.Valid, now, files.ParseHTTPTime)
	if !f.Cacheable {
		return nil
	}
	m := &cache.Meta{Valid: f.Valid, Updating: f.Updating, Error: f.Error, Date: now.Unix(), LastModified: -1,
		Status: resp.Status, Key: cs.key, StatusLine: bytes.Clone(resp.StatusLine)}
	if len(f.Vary) > 0 {
		m.Vary = bytes.Clone(f.Vary)
		m.Variant = cache.Variant(f.Vary, func(name []byte) []byte { return req.Header(bstr(name)) })
	}
	for _, h := range resp.Headers {
		switch {
		case exchange.EqualFold(h.Name, "Content-Length"), exchange.EqualFold(h.Name, "Transfer-Encoding"),
			exchange.EqualFold(h.Name, "Connection"), exchange.EqualFold(h.Name, "Keep-Alive"):
			continue
		case !validators(resp.Status):
			// Conditional requests revalidate only 200 and 206 entries
			// (ngx_http_upstream_send_response).
		case exchange.EqualFold(h.Name, "ETag"):
			m.ETag = bytes.Clone(h.Value)
		case exchange.EqualFold(h.Name, "Last-Modified"):
			if t := files.ParseHTTPTime(h.Value); t > 0 {
				m.LastModified = t
			}
		}
		m.Headers = append(m.Headers, cache.Header{Name: bytes.Clone(h.Name), Value: bytes.Clone(h.Value)})
	}
	cw, err := cs.fill.Writer(m)
	if err != nil {
		c.h.Log.Error("creating cache file", "err", err)
		return nil
	}
	return cw
}

// buffered reports whether nginx would buffer resp, which it must to
// store it: proxy_buffering, which a backend's X-Accel-Buffering turns
// on or off unless proxy_ignore_headers names it
// (ngx_http_upstream_process_buffering).
func buffered(plan *snapshot.Loc, resp *http1.Response) bool {
	on := plan.Conf.ProxyBuffering
	if plan.Conf.Proxy.IgnoreHeaders&config.IgnoreXAccelBuffering == 0 {
		switch v := resp.Header("X-Accel-Buffering"); {
		case len(v) == 3 && exchange.EqualFold(v, "yes"):
			on = true
		case len(v) == 2 && exchange.EqualFold(v, "no"):
			on = false
		}
	}
	return on
}

func validators(status int) bool { return status == 200 || status == 206 }

// cacheEnd releases what the request holds of the cache.
func (c *clientConn) cacheEnd() {
	cs := &c.cs
	if cs.w != nil {
		cs.w.Abort()
	}
	cs.stale.Close()
	cs.fill.Release()
	*cs = cacheState{}
}

// backgroundWriter is the client side of a background refresh: the
// client has its answer, so what the refresh would send it is dropped.
type backgroundWriter struct {
	exchange.ResponseWriter
}

func (backgroundWriter) SetRate(int64, int64, time.Time)                 {}
func (backgroundWriter) WriteHeader(int, string, int64) error            { return nil }
func (backgroundWriter) Write(p []byte) (int, error)                     { return len(p), nil }
func (backgroundWriter) Flush() error                                    { return nil }
func (backgroundWriter) WriteError(int) error                            { return nil }
func (backgroundWriter) WriteErrorWith(int, string, []byte) error        { return nil }
func (backgroundWriter) WriteFile(*os.File, int64, int64) (int64, error) { return 0, nil }
func (backgroundWriter) BodyBuffer(int) []byte                           { return nil }
func (backgroundWriter) CloseAfter()                                     {}
func (backgroundWriter) Abort()                                          {}
func (backgroundWriter) Written() bool                                   { return true }
func (backgroundWriter) WriteComposedHeader(int, int64, func([]byte, exchange.Framing) []byte) error {
	return nil
}
