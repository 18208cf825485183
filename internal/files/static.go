package files

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// static is ngx_http_static_handler for a URI without a trailing slash:
// open the file, 301 a directory to its slashed URI, refuse POST (405),
// and send the rest through the header filters.
func (s *state) static(w ResponseWriter) Result {
	h := s.h
	p, ok := s.appendPath(s.sc.path[:0])
	if !ok {
		s.sc.path = p
		return s.fail(500)
	}
	name, ok := safePath(p, h.rootBase)
	if !ok {
		s.sc.path = p
		return s.refused(p)
	}
	s.sc.path = name
	// The Cache: one statx, and the file's contents from memory when it
	// is the file kept, unchanged. POST is left to the path below (405).
	var id fileID
	var missing error
	fill := false
	if c := h.cache; c != nil && s.r.Method != "POST" {
		if id, fill, missing = statPath(name); fill && id.size <= cacheMaxFile {
			if e := c.entry(name, id); e != nil {
				b := body{w: w, fh: cachedHandle(id), name: name, data: e.data, etag: e.etag, lastMod: e.lastMod, kept: e.headLines(h, s.uri)}
				return s.send(&b)
			}
		}
	}
	var fh handle
	err := missing
	if err == nil {
		fh, err = openPath(name, false)
	}
	if err != nil {
		st := openStatus(err)
		if st != 404 || h.logNotFound {
			h.logErrAt(levelFor(st), "open() failed", err, name)
		}
		return s.fail(st)
	}
	switch {
	case fh.isDir():
		fh.close()
		return s.dirRedirect()
	case !fh.isRegular():
		fh.close()
		h.logf(levelFor(500), "is not a regular file", display(name))
		return s.fail(404)
	case s.r.Method == "POST":
		fh.close()
		return s.fail(405)
	}
	b := body{w: w, fh: fh, name: name}
	defer b.close()
	if fill && fh.id == id && cacheable(id, now()) {
		// Kept only when open found the file statx saw.
		data := make([]byte, fh.size)
		if err := fh.readAt(data, 0); err == nil {
			h.cache.put(name, id, data)
			b.data = data
		}
	}
	return s.send(&b)
}

// dirRedirect is the static module's answer to a directory without a
// trailing slash: 301 to $uri + "/", escaped, with the arguments. The
// expires directive applies to it (a 301 is among its statuses).
func (s *state) dirRedirect() Result {
	loc := appendEscaped(s.sc.loc[:0], s.uri, escURI)
	loc = append(loc, '/')
	if s.vc.HasArgs && s.vc.Args != "" {
		loc = append(loc, '?')
		loc = append(loc, s.vc.Args...)
	}
	s.sc.loc = loc
	// No charset: ngx_http_set_charset leaves 301 and 302 without one.
	return Result{Action: Redirect, Status: 301, Location: loc,
		Extra: s.expiresLines(s.sc.extra[:0], time.Time{}, false)}
}

// pageCharset is the charset nginx's charset filter adds to a built-in
// page (text/html is in charset_types unless the list was changed).
func (s *state) pageCharset() string { return s.h.charset.Resolve(s.vc).Page(200) }

// fileInfo is what the header filters know of the response.
type fileInfo struct {
	size  int64
	mtime time.Time
	etag  []byte // nil when etag is off
	ctype string
}

// send answers with the file through the header filters, in nginx's
// order: not_modified (412, 304), then expires, charset and range (206,
// 416), then the header itself.
func (s *state) send(b *body) Result {
	h, w, fh := s.h, b.w, &b.fh
	size := fh.size
	fi := fileInfo{size: size, mtime: time.Unix(fh.mtime, 0)}
	if b.kept != nil {
		fi.ctype = b.kept.ctype
	} else {
		fi.ctype = h.contentType(s.uri)
	}
	switch {
	case !h.etag:
	case b.etag != nil:
		fi.etag = b.etag
	default:
		s.sc.hdr = appendETag(s.sc.hdr[:0], fh.mtime, size)
		fi.etag = s.sc.hdr
	}

	status := 200
	if s.r.ErrStatus != 0 {
		status = s.r.ErrStatus
	}
	nm := 0
	if status == 200 {
		// ngx_http_not_modified_header_filter acts on a 200 only.
		nm = s.notModified(&fi)
	}
	switch nm {
	case 412:
		// ngx_http_filter_finalize_request sends the page, then ends the
		// request with an error, which closes the connection.
		res := s.fail(412)
		res.Close = true
		return res
	case 304:
		status = 304
	}

	charset := h.charset.Resolve(s.vc).For(status, fi.ctype)
	// The charset filter recodes what takes the charset; to or from
	// UTF-8 the length is unknown, so nginx drops Content-Length and the
	// range filter leaves the response whole.
	recode := h.recode
	if charset == "" {
		recode = nil
	}
	if recode != nil && s.gzipped {
		// gzip_static's .gz: a body with a Content-Encoding is neither
		// recoded nor labeled (ngx_http_charset_header_filter).
		charset, recode = "", nil
	}
	if recode != nil {
		b.rc = &Recoder{r: recode}
	}
	wholeOnly := recode != nil && recode.ChangesLength()

	rs := &s.sc.rs
	rs.r = rs.r[:0]
	rangeStatus := 0
	// gzip_static's answer leaves r->allow_ranges unset (nginx 1.22).
	ranges := h.maxRanges != 0 && !s.r.HTTP09 && !wholeOnly && !s.gzipped && (s.r.Body == nil || !s.r.Body.Changes(fi.ctype, size, false))
	if status == 200 && ranges {
		rangeStatus = s.ranges(&fi, rs)
		if rangeStatus == 416 {
			extra := append(s.sc.extra[:0], "Content-Range: bytes */"...)
			extra = strconv.AppendInt(extra, size, 10)
			extra = append(extra, "\r\n"...)
			s.sc.extra = extra
			return Result{Action: Error, Status: 416, Extra: extra, Charset: s.pageCharset(), ETag: fi.etag}
		}
		if rangeStatus == 206 {
			status = 206
		}
	}

	w.AddServerDate()
	length := size
	var boundary []byte
	switch {
	case status == 304:
		// ngx_http_not_modified_header_filter clears the type, the
		// length and Accept-Ranges.
	case status == 206 && len(rs.r) > 1:
		boundary = nextBoundary(s.sc.loc[:0])
		s.sc.loc = boundary
		ct := make([]byte, 0, 64)
		ct = append(ct, "multipart/byteranges; boundary="...)
		ct = append(ct, boundary...)
		w.AddHeaderBytes(contentTypeName, ct)
		length = rs.multipartLength(boundary, fi.ctype, charset, size)
	default:
		switch {
		case charset != "":
			w.AddHeader("Content-Type", fi.ctype+"; charset="+charset)
		case b.kept != nil:
			w.AddLines(b.kept.ctLine)
		default:
			w.AddHeader("Content-Type", fi.ctype)
		}
		if status == 206 {
			length = rs.r[0].end - rs.r[0].start
		}
	}
	w.MarkFraming()
	if status == 200 || status == 206 || status == 304 {
		// ngx_http_header_filter drops Last-Modified from other statuses.
		lm := b.lastMod
		if lm == nil {
			s.sc.date = appendHTTPTime(s.sc.date[:0], fi.mtime)
			lm = s.sc.date
		}
		w.SetLastModified(lm)
	}
	switch {
	case fi.etag == nil:
	case b.kept != nil:
		w.AddLines(b.kept.etag)
	default:
		w.AddHeaderBytes(etagName, fi.etag)
	}
	if s.gzipped {
		// ngx_http_gzip_static_handler pushes it after ngx_http_set_etag's.
		w.AddHeader("Content-Encoding", "gzip")
	}
	var ex []byte
	if ExpiresStatus(status) {
		ex = s.expiresLines(s.sc.extra[:0], fi.mtime, true)
		s.sc.extra = ex
	}
	if len(ex) > 0 {
		addLines(w, ex)
	}
	// nginx's range filter adds these after the headers filter ran.
	w.MarkLateLines()
	switch {
	case status == 206 && len(rs.r) == 1:
		cr := append([]byte(nil), "bytes "...)
		cr = strconv.AppendInt(cr, rs.r[0].start, 10)
		cr = append(cr, '-')
		cr = strconv.AppendInt(cr, rs.r[0].end-1, 10)
		cr = append(cr, '/')
		cr = strconv.AppendInt(cr, size, 10)
		w.AddHeaderBytes(contentRangeName, cr)
	case status == 200 && ranges:
		w.AddLines(acceptRangesLine)
	}
	if wholeOnly {
		length = -1
	}
	if status == 304 {
		if err := w.WriteHeader(304, "", -1); err != nil {
			return Result{Action: Done, Status: 304}
		}
		return Result{Action: Done, Status: 304}
	}
	if err := w.WriteHeader(status, "", length); err != nil || s.r.Method == "HEAD" {
		return Result{Action: Done, Status: status}
	}
	switch {
	case status != 206:
		b.write(0, size)
	case len(rs.r) == 1:
		b.write(rs.r[0].start, rs.r[0].end-rs.r[0].start)
	default:
		rs.writeMultipart(b, boundary, fi.ctype, charset, size)
	}
	return Result{Action: Done, Status: status}
}

// body writes parts of an open file as response body: a part that fits
// in the output buffer is read into it with pread(2); a larger one goes
// through an *os.File to WriteFile (sendfile).
type body struct {
	w    ResponseWriter
	fh   handle // owned: closed by close unless handed to f
	name []byte
	f    *os.File
	err  error
	rc   *Recoder // the charset filter's recoding; nil: none
	// data is the whole file, from the Cache: read from it, not from fh.
	data []byte
	// etag and lastMod are the Cache's ETag and Last-Modified values for
	// the file, nil when it did not answer.
	etag, lastMod []byte
	// kept is the Cache's head lines for the file as this location
	// serves it, nil when it did not answer.
	kept *keptLines
}

// appendETag appends ngx_http_set_etag's value for a file: "mtime-size"
// in lower-case hex, quoted.
func appendETag(dst []byte, mtime, size int64) []byte {
	dst = append(dst, '"')
	dst = strconv.AppendInt(dst, mtime, 16)
	dst = append(dst, '-')
	dst = strconv.AppendInt(dst, size, 16)
	return append(dst, '"')
}

// readAt fills buf from offset off of the file.
func (b *body) readAt(buf []byte, off int64) error {
	if b.data != nil {
		if off+int64(len(buf)) > int64(len(b.data)) {
			return errShrunk
		}
		copy(buf, b.data[off:])
		return nil
	}
	return b.fh.readAt(buf, off)
}

// recodeChunk is how much of a file is read at a time to be recoded.
const recodeChunk = 32 << 10

func (b *body) write(off, n int64) {
	if b.err != nil || n <= 0 {
		return
	}
	if b.rc != nil {
		b.writeRecoded(off, n)
		return
	}
	if b.data != nil {
		// From the Cache: copied into the output buffer.
		if off+n > int64(len(b.data)) {
			b.err = errShrunk
			b.w.Abort()
			return
		}
		_, b.err = b.w.Write(b.data[off : off+n])
		return
	}
	if n <= 1<<20 {
		if buf := b.w.BodyBuffer(int(n)); buf != nil {
			if b.err = b.readAt(buf, off); b.err != nil {
				// The header promised n bytes: cut the response off.
				b.w.Abort()
				return
			}
			_, b.err = b.w.Write(buf)
			return
		}
	}
	if b.f == nil {
		b.f = b.fh.file(display(b.name))
	}
	if _, b.err = b.w.WriteFile(b.f, off, n); b.err != nil {
		b.w.Abort()
	}
}

// writeRecoded writes n bytes of the file from off through the charset
// filter's recoding, a chunk at a time.
func (b *body) writeRecoded(off, n int64) {
	in := make([]byte, min(n, recodeChunk))
	var out []byte
	for n > 0 {
		k := min(n, recodeChunk)
		if b.err = b.readAt(in[:k], off); b.err != nil {
			b.w.Abort()
			return
		}
		off, n = off+k, n-k
		out = b.rc.AppendRecoded(out[:0], in[:k], n == 0)
		if _, b.err = b.w.Write(out); b.err != nil {
			return
		}
	}
}

func (b *body) close() {
	if b.f != nil {
		b.f.Close()
	}
	b.fh.close()
}

var (
	contentTypeName  = []byte("Content-Type")
	etagName         = []byte("ETag")
	contentRangeName = []byte("Content-Range")
	acceptRangesLine = []byte("Accept-Ranges: bytes\r\n")
)

// addLines queues serialized "Name: Value\r\n" lines.
func addLines(w ResponseWriter, lines []byte) {
	for len(lines) > 0 {
		i := bytes.Index(lines, []byte("\r\n"))
		if i < 0 {
			return
		}
		line := lines[:i]
		lines = lines[i+2:]
		if c := bytes.Index(line, []byte(": ")); c > 0 {
			w.AddHeaderBytes(line[:c], line[c+2:])
		}
	}
}

// contentType is ngx_http_set_content_type for $uri.
func (h *Handler) contentType(uri string) string {
	return ContentType(h.types, h.defaultType, uri)
}
