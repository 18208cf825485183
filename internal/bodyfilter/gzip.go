package bodyfilter

import (
	"compress/gzip"
	"io"
	"regexp"
	"strings"
	"sync"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/exchange"
	"wsgate/internal/vars"
)

// This file is ngx_http_gzip_filter_module with the tests of
// ngx_http_gzip_ok (ngx_http_core_module.c). A response is compressed
// when gzip is on, its status is 200, 403 or 404, it has no
// Content-Encoding, its declared length (if any) is at least
// gzip_min_length, its type is in gzip_types (default text/html), and
// the request may have it (a HEAD's head says what its GET's would):
// Accept-Encoding names gzip with a quality above 0, the protocol is at least gzip_http_version, the
// User-Agent is not one gzip_disable names, and a request with Via (one
// that came through a proxy) passes gzip_proxied's conditions on the
// response's Expires, Cache-Control, Last-Modified and ETag.
//
// The head then gets "Content-Encoding: gzip" at its end, loses
// Content-Length and Accept-Ranges, and its ETag turns weak (nginx 1.22's
// ngx_http_weak_etag). gzip_vary adds "Vary: Accept-Encoding", after the
// Connection line as ngx_http_header_filter writes it, to every response
// that passed the tests on the response, compressed or not.
//
// The body is compressed as it streams, by compress/gzip at
// gzip_comp_level; the compressor (hundreds of KiB of tables) comes from
// a pool per level and goes back when the body ends. The bytes are not
// zlib's: the same level compresses about as well, and any gzip decoder
// reads them. Compressed output is passed on in pieces of about
// gzipChunk bytes, as nginx's gzip_buffers hold it; a flush of the
// response does not flush the compressor (nginx does that only for
// proxy_buffering off).

// gzipChunk is the output size gathered before it is passed on.
const gzipChunk = 8 << 10

type gzipFilter struct {
	types     typeSet
	level     int
	minLength int64
}

// gzipCore is ngx_http_core_module's part: ngx_http_gzip_ok's settings
// and gzip_vary, which gzip and gunzip share.
type gzipCore struct {
	vary        bool
	httpVersion int
	proxied     config.GzipProxied
	disable     []*regexp.Regexp
	msie6       bool
}

func compileGzip(c *config.GzipConf) *gzipFilter {
	f := &gzipFilter{types: newTypeSet(c.Types, "text/html"), level: c.CompLevel, minLength: c.MinLength}
	if f.level < 1 || f.level > 9 {
		f.level = 1
	}
	return f
}

func compileGzipCore(c *config.GzipConf) (*gzipCore, error) {
	f := &gzipCore{vary: c.Vary, httpVersion: c.HTTPVersion, proxied: c.Proxied, msie6: c.DisableMSIE6}
	for _, re := range c.Disable {
		r, err := regexp.Compile("(?i)" + re)
		if err != nil {
			return nil, err
		}
		f.disable = append(f.disable, r)
	}
	return f, nil
}

// gzipWriters pools compressors per level (index 1 to 9).
var gzipWriters [10]sync.Pool

func getGzipWriter(level int, w io.Writer) *gzip.Writer {
	if zw, ok := gzipWriters[level].Get().(*gzip.Writer); ok {
		zw.Reset(w)
		return zw
	}
	zw, _ := gzip.NewWriterLevel(w, level)
	return zw
}

// eligible is the first half of ngx_http_gzip_header_filter: the tests
// on the response. Passing them sets r->gzip_vary.
func (f *gzipFilter) eligible(vc *vars.Ctx, buf []byte, start, status int, contentLength int64) bool {
	if status != 200 && status != 403 && status != 404 {
		return false
	}
	if len(headerValue(buf, start, "Content-Encoding")) > 0 {
		return false
	}
	if contentLength != -1 && contentLength < f.minLength {
		return false
	}
	// r->header_only is not yet set for a HEAD here (ngx_http_header_filter
	// sets it, after the filters): its head says gzip too.
	return f.types.match(headerValue(buf, start, "Content-Type"))
}

// requestHeader is the first request header named name.
func requestHeader(vc *vars.Ctx, name string) (string, bool) {
	if vc == nil {
		return "", false
	}
	for i := range vc.Headers {
		if strings.EqualFold(vc.Headers[i].Name, name) {
			return vc.Headers[i].Value, true
		}
	}
	return "", false
}

// respHead is what ngx_http_gzip_ok reads of the response.
type respHead interface {
	value(name string) []byte
	each(name string, fn func(v []byte) bool) bool
}

// ok is ngx_http_gzip_ok.
func (f *gzipCore) ok(vc *vars.Ctx, resp respHead) bool {
	ae, has := requestHeader(vc, "Accept-Encoding")
	if !has || len(ae) < 4 {
		return false
	}
	if !strings.HasPrefix(ae, "gzip,") && !acceptsGzip(ae) {
		return false
	}
	ua, hasUA := requestHeader(vc, "User-Agent")
	if f.msie6 && hasUA && exchange.MSIE6(ua) {
		return false
	}
	if protoVersion(vc.Proto) < f.httpVersion {
		return false
	}
	if _, via := requestHeader(vc, "Via"); via && !f.proxiedOK(vc, resp) {
		return false
	}
	if hasUA {
		for _, re := range f.disable {
			if re.MatchString(ua) {
				return false
			}
		}
	}
	return true
}

// proxiedOK is gzip_proxied's part of ngx_http_gzip_ok.
func (f *gzipCore) proxiedOK(vc *vars.Ctx, resp respHead) bool {
	p := f.proxied
	switch {
	case p&config.GzipProxiedOff != 0:
		return false
	case p&config.GzipProxiedAny != 0:
		return true
	}
	if _, auth := requestHeader(vc, "Authorization"); auth && p&config.GzipProxiedAuth != 0 {
		return true
	}
	if e := resp.value("Expires"); e != nil {
		if p&config.GzipProxiedExpired == 0 {
			return false
		}
		expires, ok := parseHTTPTime(e)
		if !ok {
			return false
		}
		date := time.Now()
		if d := resp.value("Date"); d != nil {
			if date, ok = parseHTTPTime(d); !ok {
				return false
			}
		}
		return expires.Before(date)
	}
	found := func(token string) bool {
		return resp.each("Cache-Control", func(v []byte) bool { return hasToken(v, token) })
	}
	if resp.value("Cache-Control") != nil {
		switch {
		case p&config.GzipProxiedNoCache != 0 && found("no-cache"):
			return true
		case p&config.GzipProxiedNoStore != 0 && found("no-store"):
			return true
		case p&config.GzipProxiedPrivate != 0 && found("private"):
			return true
		}
		return false
	}
	if p&config.GzipProxiedNoLM != 0 && resp.value("Last-Modified") != nil {
		return false
	}
	if p&config.GzipProxiedNoETag != 0 && resp.value("ETag") != nil {
		return false
	}
	return true
}

// hasToken is ngx_http_parse_multi_header_lines for one value: token
// (lower-case) among its comma-separated items, compared without regard
// to case up to a "=" or ";". An empty token matches nothing.
func hasToken(v []byte, token string) bool {
	if token == "" {
		return false
	}
	for _, item := range strings.Split(string(v), ",") {
		item = strings.TrimSpace(item)
		if i := strings.IndexAny(item, "=;"); i >= 0 {
			item = strings.TrimSpace(item[:i])
		}
		if strings.EqualFold(item, token) {
			return true
		}
	}
	return false
}

// acceptsGzip is ngx_http_gzip_accept_encoding: "gzip" as an item of
// Accept-Encoding, with no quality or one above 0 (at most three
// decimals, at most 1).
func acceptsGzip(ae string) bool {
	start := 0
	var p int
	for {
		i := indexFold(ae[start:], "gzip")
		if i < 0 {
			return false
		}
		p = start + i
		if p == 0 || ae[p-1] == ',' || ae[p-1] == ' ' {
			break
		}
		start = p + 4
	}
	p += 4
	for p < len(ae) {
		c := ae[p]
		p++
		switch c {
		case ',':
			return true
		case ';':
			goto quantity
		case ' ':
			continue
		default:
			return false
		}
	}
	return true
quantity:
	for p < len(ae) {
		c := ae[p]
		p++
		switch c {
		case 'q', 'Q':
			goto equal
		case ' ':
			continue
		default:
			return false
		}
	}
	return true
equal:
	if p+2 > len(ae) || ae[p] != '=' {
		return false
	}
	return gzipQuantity(ae[p+1:]) != 0
}

// gzipQuantity is ngx_http_gzip_quantity: the quality in thousandths.
func gzipQuantity(s string) int {
	if s == "" || s[0] != '0' && s[0] != '1' {
		return 0
	}
	q := int(s[0]-'0') * 100
	if len(s) == 1 {
		return q
	}
	if s[1] == ',' || s[1] == ' ' {
		return q
	}
	if s[1] != '.' {
		return 0
	}
	n := 0
	for _, c := range []byte(s[2:]) {
		if c == ',' || c == ' ' {
			break
		}
		if c >= '0' && c <= '9' {
			q += int(c - '0')
			n++
			continue
		}
		return 0
	}
	if q > 100 || n > 3 {
		return 0
	}
	return q
}

func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

// protoVersion is an HTTP version as 10, 11, 20 ...
func protoVersion(proto string) int {
	if len(proto) == 8 && strings.HasPrefix(proto, "HTTP/") && proto[6] == '.' {
		return int(proto[5]-'0')*10 + int(proto[7]-'0')
	}
	return 9
}

// parseHTTPTime is ngx_parse_http_time's formats.
func parseHTTPTime(v []byte) (time.Time, bool) {
	s := string(v)
	for _, layout := range []string{time.RFC1123, "Monday, 02-Jan-06 15:04:05 MST", time.ANSIC} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// headView reads a composed head (respHead).
type headView struct {
	buf   []byte
	start int
}

func (h headView) value(name string) []byte { return headerValue(h.buf, h.start, name) }

func (h headView) each(name string, fn func(v []byte) bool) bool {
	return eachLine(h.buf, h.start, func(n, v []byte) bool {
		return asciiEqualFold(n, name) && fn(v)
	})
}

// start is ngx_http_gzip_header_filter; vary is r->gzip_vary.
func (s *gzipStage) start(f *gzipFilter, core *gzipCore, vc *vars.Ctx, buf []byte, start, status int, contentLength int64) (_ []byte, _ exchange.BodyStage, vary bool) {
	if !f.eligible(vc, buf, start, status, contentLength) {
		return buf, nil, false
	}
	if !core.ok(vc, headView{buf, start}) {
		return buf, nil, true
	}
	buf = append(buf[:len(buf)-2], "Content-Encoding: gzip\r\n\r\n"...)
	buf = removeLines(buf, start, "Accept-Ranges")
	buf = weakenETag(buf, start)
	s.level = f.level
	s.out = s.out[:0]
	s.zw = nil
	return buf, s, true
}

// insertAfter inserts line after the first line named name (at the end
// of the head when there is none).
func insertAfter(buf []byte, start int, name, line string) []byte {
	_, to, _, _, ok := lineAt(buf, start, name)
	if !ok {
		to = len(buf) - 2
	}
	buf = append(buf, line...)
	copy(buf[to+len(line):], buf[to:len(buf)-len(line)])
	copy(buf[to:], line)
	return buf
}

// gzipStage is one response's body being compressed; a Bound keeps one.
type gzipStage struct {
	level int
	zw    *gzip.Writer
	out   []byte
}

// Write appends what the compressor writes to out.
func (s *gzipStage) collect(p []byte) (int, error) {
	s.out = append(s.out, p...)
	return len(p), nil
}

type gzipSink struct{ s *gzipStage }

func (k gzipSink) Write(p []byte) (int, error) { return k.s.collect(p) }

func (s *gzipStage) Write(next io.Writer, p []byte) error {
	if s.zw == nil {
		s.zw = getGzipWriter(s.level, gzipSink{s})
		s.zw.OS = 3 // Unix, as zlib writes it
	}
	if _, err := s.zw.Write(p); err != nil {
		return err
	}
	if len(s.out) >= gzipChunk {
		_, err := next.Write(s.out)
		s.out = s.out[:0]
		return err
	}
	return nil
}

func (s *gzipStage) End(next io.Writer) error {
	if s.zw == nil {
		s.zw = getGzipWriter(s.level, gzipSink{s})
		s.zw.OS = 3
	}
	err := s.zw.Close()
	gzipWriters[s.level].Put(s.zw)
	s.zw = nil
	if err != nil {
		return err
	}
	_, err = next.Write(s.out)
	s.out = s.out[:0]
	return err
}
