package proxy

import (
	"bytes"
	"strconv"
	"strings"

	"wsgate/internal/bodyfilter"
	"wsgate/internal/cache"
	"wsgate/internal/exchange"
	"wsgate/internal/files"
	"wsgate/internal/http1"
	"wsgate/internal/snapshot"
)

// This file is nginx's range filter on a response served from the cache:
// ngx_http_upstream_copy_allow_ranges lets a cached response (r->cached)
// be cut into byte ranges when the upstream sent Accept-Ranges, and the
// range filter then answers Range and If-Range as it does for a file
// (206, multipart/byteranges, 416). A response that goes to the
// upstream is passed whole, its Range not forwarded (cacheHeaders).

// cacheRange is one hit's ranges: none (whole is the answer), or the
// 206's ranges with the multipart boundary and part type when there are
// several.
type cacheRange struct {
	rs       []files.Range
	boundary []byte
	partType []byte
	size     int64
}

var (
	statusPartial   = []byte("206 Partial Content")
	contentRangeHdr = []byte("Content-Range")
	contentTypeHdr  = []byte("Content-Type")
	multipartPrefix = []byte("multipart/byteranges; boundary=")
)

// hitRanges applies the range header filter to the cached 200 in c.up and
// c.respHL, whose body is size bytes. It returns 206 with c.up, c.respHL
// and cr made into the partial response's, 416 when no range is
// satisfiable, or 200 to send the whole body.
func (c *clientConn) hitRanges(req *exchange.Request, plan *snapshot.Loc, size int64, cr *cacheRange) int {
	if size <= 0 || req.ProtoMajor == 0 || req.Header("Range") == nil || plan.Conf.Files.MaxRanges == 0 {
		return 200
	}
	var ctype, etag, enc []byte
	lm, accept := int64(-1), false
	for _, h := range c.respHL {
		switch {
		case exchange.EqualFold(h.Name, "Accept-Ranges"):
			accept = true
		case exchange.EqualFold(h.Name, "Content-Type"):
			ctype = h.Value
		case exchange.EqualFold(h.Name, "ETag"):
			etag = h.Value
		case exchange.EqualFold(h.Name, "Last-Modified"):
			lm = files.ParseHTTPTime(h.Value)
		case exchange.EqualFold(h.Name, "Content-Encoding"):
			enc = h.Value
		}
	}
	if !accept {
		return 200
	}
	if plan.Body != nil {
		// A body filter that changes the body (gzip, sub_filter) leaves
		// its length unknown: no ranges (the range filter runs after).
		var b bodyfilter.Bound
		b.Bind(plan.Body, c.vc)
		if b.Changes(string(ctype), size, len(enc) > 0) {
			return 200
		}
	}
	rs, st := files.RequestRanges(cr.rs[:0], req.Header("Range"), req.Header("If-Range"), etag, lm, size, plan.Conf.Files.MaxRanges)
	if st != 206 {
		return st
	}
	cr.rs, cr.size = rs, size
	hl := make(respHeaders, 0, len(c.respHL)+1)
	for _, h := range c.respHL {
		// The upstream's Accept-Ranges is not copied for a cached
		// response, and the range filter adds none to a 206.
		if !exchange.EqualFold(h.Name, "Accept-Ranges") {
			hl = append(hl, h)
		}
	}
	if len(rs) == 1 {
		hl = append(hl, http1.Header{Name: contentRangeHdr, Value: files.AppendContentRange(nil, rs[0], size)})
	} else {
		// ngx_http_range_multipart_header: each part names the type with
		// the charset the charset filter gave it; the response's is the
		// multipart one.
		pt := append([]byte(nil), ctype...)
		recoded := false
		if ot, ok := plan.Body.OverrideType(ctype, overrideCharset(plan, &c.respHL), len(enc) > 0); ok {
			pt, recoded = ot, true
		} else if cs := plan.Charset.Resolve(c.vc).For(200, string(ctype)); cs != "" {
			pt = append(append(pt, "; charset="...), cs...)
		}
		cr.partType = pt
		cr.boundary = files.NextBoundary(nil)
		mt := append(append([]byte(nil), multipartPrefix...), cr.boundary...)
		if _, src, ok := bytes.Cut(bytes.ToLower(ctype), []byte("charset=")); ok && recoded {
			// The body filter's charset stage recodes the whole body
			// from the stored charset: it reads it here, and drops it
			// from the line.
			mt = append(append(mt, "; charset="...), bytes.Trim(src, `"`)...)
		}
		if ctype == nil {
			hl = append(hl, http1.Header{Name: contentTypeHdr, Value: mt})
		}
		for i := range hl {
			if exchange.EqualFold(hl[i].Name, "Content-Type") {
				hl[i].Value = mt
			}
		}
	}
	c.respHL = hl
	c.up = snapshot.UpstreamResponse{Status: 206, StatusLine: statusPartial, Headers: &c.respHL}
	return 206
}

// length is the 206's Content-Length.
func (cr *cacheRange) length() int64 {
	if len(cr.rs) == 1 {
		return cr.rs[0].End - cr.rs[0].Start
	}
	return files.MultipartLength(cr.boundary, string(cr.partType), cr.rs, cr.size)
}

// write sends the ranges of the entry's body.
func (cr *cacheRange) write(w exchange.ResponseWriter, e *cache.Entry) error {
	if len(cr.rs) == 1 {
		return writeEntryPart(w, e, cr.rs[0])
	}
	var buf []byte
	for _, r := range cr.rs {
		buf = files.AppendPartHead(buf[:0], cr.boundary, string(cr.partType), r, cr.size)
		if _, err := w.Write(buf); err != nil {
			return err
		}
		if err := writeEntryPart(w, e, r); err != nil {
			return err
		}
	}
	_, err := w.Write(files.AppendPartsEnd(buf[:0], cr.boundary))
	return err
}

// rangeNotSatisfiable answers 416 with nginx's page and the
// Content-Range that says the size (ngx_http_range_not_satisfiable). The
// page keeps the charset the cached Content-Type named (nginx's special
// response changes the type, not r->headers_out.charset), else the
// location's.
func (c *clientConn) rangeNotSatisfiable(w exchange.ResponseWriter, plan *snapshot.Loc, size int64) int {
	extra := strconv.AppendInt([]byte("Content-Range: bytes */"), size, 10)
	extra = append(extra, "\r\n"...)
	cs := plan.Charset.Resolve(c.vc).Page(416)
	for _, h := range c.respHL {
		if exchange.EqualFold(h.Name, "Content-Type") {
			if i := bytes.Index(bytes.ToLower(h.Value), []byte("charset=")); i >= 0 {
				cs = strings.Trim(string(h.Value[i+len("charset="):]), `"`)
			}
		}
	}
	w.WriteErrorWith(416, cs, extra)
	return 416
}

// writeEntryPart sends r of the entry's body: from memory for a small
// entry, else from its file.
func writeEntryPart(w exchange.ResponseWriter, e *cache.Entry, r files.Range) error {
	if e.File == nil {
		_, err := w.Write(e.Body[r.Start:r.End])
		return err
	}
	_, err := w.WriteFile(e.File, e.BodyOff+r.Start, r.End-r.Start)
	return err
}
