package files

import "strconv"

// This file lends nginx's range filter (ngx_http_range_filter_module) to
// responses the file handler does not build: a cached response that the
// proxy answers from its cache.

// Range is one satisfiable byte range, [Start, End).
type Range struct{ Start, End int64 }

// RequestRanges is ngx_http_range_header_filter for a 200 of size bytes
// whose validators are etag (nil: none) and lm (Unix seconds, -1: none):
// rangeHdr and ifRange are the request's Range and If-Range (nil when
// absent). It returns 206 with the ranges in dst, 416 when none is
// satisfiable (or the header is malformed), or 200: send the whole body
// (no Range, an If-Range that does not hold, more than maxRanges ranges,
// -1 being no limit).
func RequestRanges(dst []Range, rangeHdr, ifRange, etag []byte, lm, size int64, maxRanges int) ([]Range, int) {
	if len(rangeHdr) < 7 || !asciiPrefixFold(rangeHdr, "bytes=") {
		return dst, 200
	}
	if ifRange != nil {
		if len(ifRange) >= 2 && ifRange[len(ifRange)-1] == '"' {
			if len(etag) == 0 || string(ifRange) != string(etag) {
				return dst, 200
			}
		} else if lm == -1 || parseHTTPTime(ifRange) != lm {
			return dst, 200
		}
	}
	var rs rangeSet
	st := parseRanges(rangeHdr[6:], size, maxRanges, &rs)
	if st != 206 {
		return dst, st
	}
	for _, r := range rs.r {
		dst = append(dst, Range{r.start, r.end})
	}
	return dst, 206
}

func asciiPrefixFold(b []byte, p string) bool {
	if len(b) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != p[i] {
			return false
		}
	}
	return true
}

// NextBoundary appends a new multipart boundary (nginx's 20 digits).
func NextBoundary(dst []byte) []byte { return nextBoundary(dst) }

// AppendPartHead appends the head of a multipart/byteranges part for r
// of a body of size bytes whose Content-Type is ctype (charset included).
func AppendPartHead(dst, boundary []byte, ctype string, r Range, size int64) []byte {
	return partHead(dst, boundary, ctype, "", byteRange{r.Start, r.End}, size)
}

// AppendPartsEnd appends the closing boundary of a multipart body.
func AppendPartsEnd(dst, boundary []byte) []byte {
	dst = append(dst, "\r\n--"...)
	dst = append(dst, boundary...)
	return append(dst, "--\r\n"...)
}

// MultipartLength is the length of the multipart/byteranges body of rs.
func MultipartLength(boundary []byte, ctype string, rs []Range, size int64) int64 {
	var n int64
	var buf [256]byte
	for _, r := range rs {
		n += int64(len(AppendPartHead(buf[:0], boundary, ctype, r, size))) + r.End - r.Start
	}
	return n + int64(len(AppendPartsEnd(buf[:0], boundary)))
}

// AppendContentRange appends a single range's Content-Range value,
// "bytes START-LAST/SIZE".
func AppendContentRange(dst []byte, r Range, size int64) []byte {
	dst = append(dst, "bytes "...)
	dst = strconv.AppendInt(dst, r.Start, 10)
	dst = append(dst, '-')
	dst = strconv.AppendInt(dst, r.End-1, 10)
	dst = append(dst, '/')
	return strconv.AppendInt(dst, size, 10)
}
