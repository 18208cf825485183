package files

import (
	"bytes"
	"math"
	"strconv"
	"sync/atomic"
)

// byteRange is one satisfiable range, [start, end).
type byteRange struct{ start, end int64 }

// rangeSet holds the ranges of one request; one range needs no allocation.
type rangeSet struct {
	one [1]byteRange
	r   []byteRange
}

func (rs *rangeSet) add(br byteRange) {
	if rs.r == nil {
		rs.r = rs.one[:0]
	}
	rs.r = append(rs.r, br)
}

// ranges is ngx_http_range_header_filter for a 200 with a known length:
// 206 when Range asks for satisfiable bytes (and If-Range, if sent, still
// holds), 416 when it asks for none, 200 (send the whole file) otherwise.
func (s *state) ranges(fi *fileInfo, rs *rangeSet) int {
	hs := s.r.Headers
	if hs == nil {
		return 200
	}
	v := hs.Header("Range")
	if len(v) < 7 || !bytes.EqualFold(v[:6], []byte("bytes=")) {
		return 200
	}
	if ir := hs.Header("If-Range"); ir != nil {
		etag, lm := fi.etag, fi.mtime.Unix()
		if f := s.r.Filter; f != nil {
			// add_header ETag and Last-Modified (headers.Filter.Replaces).
			var b [64]byte
			if _, v, ok := f.Replaces(b[:0], "etag", 200, s.vc); ok {
				etag = v
			}
			if _, v, ok := f.Replaces(b[:0], "last-modified", 200, s.vc); ok {
				lm = -1
				if len(v) > 0 {
					lm = parseHTTPTime(v)
				}
			}
		}
		if len(ir) >= 2 && ir[len(ir)-1] == '"' {
			if len(etag) == 0 || !bytes.Equal(ir, etag) {
				return 200
			}
		} else if lm == -1 || parseHTTPTime(ir) != lm {
			return 200
		}
	}
	return parseRanges(v[6:], fi.size, s.h.maxRanges, rs)
}

// parseRanges is ngx_http_range_parse over the text after "bytes=": 206
// with rs filled, 416 for a syntax error or no satisfiable range, 200
// when the ranges are to be ignored (more than maxRanges (-1: no limit),
// together larger than the file, or "0-" of an empty file).
func parseRanges(p []byte, size int64, maxRanges int, rs *rangeSet) int {
	const cutoff, cutlim = math.MaxInt64 / 10, math.MaxInt64 % 10
	var total int64
	left := maxRanges
	at := func(i int) byte {
		if i < len(p) {
			return p[i]
		}
		return 0
	}
	i := 0
	skipSP := func() {
		for at(i) == ' ' {
			i++
		}
	}
	number := func() (int64, bool) {
		var n int64
		for c := at(i); c >= '0' && c <= '9'; c = at(i) {
			if n >= cutoff && (n > cutoff || int64(c-'0') > cutlim) {
				return 0, false
			}
			n = n*10 + int64(c-'0')
			i++
		}
		return n, true
	}
	for {
		var start, end int64
		suffix := false
		skipSP()
		if at(i) != '-' {
			if c := at(i); c < '0' || c > '9' {
				return 416
			}
			var ok bool
			if start, ok = number(); !ok {
				return 416
			}
			skipSP()
			if at(i) != '-' {
				return 416
			}
			i++
			skipSP()
			if c := at(i); c == ',' || c == 0 {
				end = size
				goto found
			}
		} else {
			suffix = true
			i++
		}
		if c := at(i); c < '0' || c > '9' {
			return 416
		}
		{
			var ok bool
			if end, ok = number(); !ok {
				return 416
			}
		}
		skipSP()
		if c := at(i); c != ',' && c != 0 {
			return 416
		}
		if suffix {
			start = 0
			if end < size {
				start = size - end
			}
			end = size - 1
		}
		if end >= size {
			end = size
		} else {
			end++
		}
	found:
		if start < end {
			rs.add(byteRange{start, end})
			if total > math.MaxInt64-(end-start) {
				return 416
			}
			total += end - start
			if left == 0 {
				return 200
			}
			left--
		} else if start == 0 {
			return 200
		}
		if at(i) != ',' {
			break
		}
		i++
	}
	if len(rs.r) == 0 {
		return 416
	}
	if total > size {
		return 200
	}
	return 206
}

// boundaries numbers multipart boundaries as nginx's ngx_next_temp_number
// does: a process-wide counter written as 20 decimal digits.
var boundaries atomic.Uint64

func nextBoundary(dst []byte) []byte {
	n := boundaries.Add(1)
	s := strconv.AppendUint(nil, n, 10)
	for k := len(s); k < 20; k++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// partHead appends the head of one part of a multipart/byteranges body
// (ngx_http_range_multipart_header): CRLF "--" boundary CRLF, the part's
// Content-Type (with the charset), and its Content-Range.
func partHead(dst, boundary []byte, ctype, charset string, br byteRange, size int64) []byte {
	dst = append(dst, "\r\n--"...)
	dst = append(dst, boundary...)
	dst = append(dst, "\r\n"...)
	if ctype != "" {
		dst = append(dst, "Content-Type: "...)
		dst = append(dst, ctype...)
		if charset != "" {
			dst = append(dst, "; charset="...)
			dst = append(dst, charset...)
		}
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "Content-Range: bytes "...)
	dst = strconv.AppendInt(dst, br.start, 10)
	dst = append(dst, '-')
	dst = strconv.AppendInt(dst, br.end-1, 10)
	dst = append(dst, '/')
	dst = strconv.AppendInt(dst, size, 10)
	return append(dst, "\r\n\r\n"...)
}

// multipartLength is the Content-Length of the multipart body.
func (rs *rangeSet) multipartLength(boundary []byte, ctype, charset string, size int64) int64 {
	var n int64
	var buf [256]byte
	for _, br := range rs.r {
		n += int64(len(partHead(buf[:0], boundary, ctype, charset, br, size))) + br.end - br.start
	}
	return n + int64(len("\r\n--")+len(boundary)+len("--\r\n"))
}

// writeMultipart writes the parts and the closing boundary.
func (rs *rangeSet) writeMultipart(b *body, boundary []byte, ctype, charset string, size int64) {
	var buf [256]byte
	for _, br := range rs.r {
		if _, err := b.w.Write(partHead(buf[:0], boundary, ctype, charset, br, size)); err != nil {
			return
		}
		if b.write(br.start, br.end-br.start); b.err != nil {
			return
		}
	}
	tail := append(buf[:0], "\r\n--"...)
	tail = append(tail, boundary...)
	tail = append(tail, "--\r\n"...)
	b.w.Write(tail)
}
