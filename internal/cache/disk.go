package cache

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
)

// This file is the on-disk format of one entry and where it lives.
//
// An entry is one file: a header, then the response body as the client
// gets it (de-chunked). The header is wsgate's own (nginx's
// ngx_http_file_cache_header_t is not reproduced):
//
//	"WSGCACHE"            8 bytes, magic
//	version               uint32 (1)
//	header length         uint32: where the body starts
//	valid                 int64: unix seconds the entry is fresh until
//	updating, error       int64: stale-while-revalidate, stale-if-error seconds
//	date, last_modified   int64: unix seconds; -1 when not known
//	body length           int64
//	status                uint16
//	variant               16 bytes: MD5 of the Vary'd request headers
//	key, etag, vary, status line      uvarint length, bytes each
//	header count          uvarint, then per line a name and a value
//
// All integers are big-endian.

const (
	magic         = "WSGCACHE"
	formatVersion = 1
	fixedLen      = 8 + 4 + 4 + 8*6 + 2 + 16
)

// Key is the MD5 of a cache key (proxy_cache_key's value): the entry's
// file name and its index's key.
type Key [16]byte

// KeyOf returns the MD5 of key.
func KeyOf(key []byte) Key { return md5.Sum(key) }

// Hex is k as the file name nginx gives it.
func (k Key) Hex() string { return hex.EncodeToString(k[:]) }

// Header is one stored response header line.
type Header struct{ Name, Value []byte }

// Meta is what an entry's file says about it besides its body.
type Meta struct {
	// Valid is the unix second the entry is fresh until.
	Valid int64
	// Updating and Error are the response's Cache-Control
	// stale-while-revalidate and stale-if-error, seconds past Valid
	// during which the entry may be served stale (nginx 1.11.10+).
	Updating, Error int64
	// Date is when the response was stored; LastModified the upstream's
	// Last-Modified (-1 when none): proxy_cache_revalidate sends it.
	Date, LastModified int64
	BodyLen            int64
	Status             int
	// Variant is the MD5 of the request header values the response's
	// Vary names (zero without Vary).
	Variant [16]byte
	Key     []byte
	// ETag is the upstream's ETag (proxy_cache_revalidate sends it).
	ETag []byte
	// Vary is the upstream's Vary value.
	Vary []byte
	// StatusLine is the upstream's status line after "HTTP/1.1 ".
	StatusLine []byte
	// Headers are the upstream's header lines as received, without the
	// framing ones (Content-Length, Transfer-Encoding, Connection).
	Headers []Header
}

// encode returns m's header bytes.
func (m *Meta) encode() []byte {
	b := make([]byte, fixedLen, 256)
	copy(b, magic)
	be := binary.BigEndian
	be.PutUint32(b[8:], formatVersion)
	o := 16
	for _, v := range []int64{m.Valid, m.Updating, m.Error, m.Date, m.LastModified, m.BodyLen} {
		be.PutUint64(b[o:], uint64(v))
		o += 8
	}
	be.PutUint16(b[o:], uint16(m.Status))
	copy(b[o+2:], m.Variant[:])
	for _, s := range [][]byte{m.Key, m.ETag, m.Vary, m.StatusLine} {
		b = appendBytes(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(m.Headers)))
	for _, h := range m.Headers {
		b = appendBytes(appendBytes(b, h.Name), h.Value)
	}
	be.PutUint32(b[12:], uint32(len(b)))
	return b
}

func appendBytes(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

var errFormat = errors.New("not a wsgate cache file")

// maxHeader bounds the header read back from a file.
const maxHeader = 1 << 20

// readMeta reads the header of an entry's file; it returns the offset of
// the body.
func readMeta(f *os.File) (*Meta, int64, error) {
	var fixed [fixedLen]byte
	if _, err := io.ReadFull(f, fixed[:]); err != nil {
		return nil, 0, errFormat
	}
	hl, err := headerLen(fixed[:])
	if err != nil {
		return nil, 0, err
	}
	b := make([]byte, hl)
	copy(b, fixed[:])
	if _, err := io.ReadFull(f, b[fixedLen:]); err != nil {
		return nil, 0, errFormat
	}
	m := &Meta{}
	if err := m.decode(b); err != nil {
		return nil, 0, err
	}
	return m, hl, nil
}

// headerLen checks the start of a header (at least fixedLen bytes) and
// returns the header's length.
func headerLen(b []byte) (int64, error) {
	be := binary.BigEndian
	if string(b[:8]) != magic || be.Uint32(b[8:]) != formatVersion {
		return 0, errFormat
	}
	hl := int64(be.Uint32(b[12:]))
	if hl < fixedLen || hl > maxHeader {
		return 0, errFormat
	}
	return hl, nil
}

// decode fills m from b, a whole header; m's byte slices are parts of b.
func (m *Meta) decode(b []byte) error {
	be := binary.BigEndian
	o := 16
	vals := []*int64{&m.Valid, &m.Updating, &m.Error, &m.Date, &m.LastModified, &m.BodyLen}
	for _, p := range vals {
		*p = int64(be.Uint64(b[o:]))
		o += 8
	}
	m.Status = int(be.Uint16(b[o:]))
	copy(m.Variant[:], b[o+2:])
	rest := b[fixedLen:]
	r := reader{b: rest}
	m.Key, m.ETag, m.Vary, m.StatusLine = r.bytes(), r.bytes(), r.bytes(), r.bytes()
	n := r.uvarint()
	if n > uint64(len(rest)) {
		return errFormat
	}
	m.Headers = make([]Header, 0, n)
	for i := uint64(0); i < n && !r.bad; i++ {
		m.Headers = append(m.Headers, Header{Name: r.bytes(), Value: r.bytes()})
	}
	if r.bad || m.BodyLen < 0 {
		return errFormat
	}
	return nil
}

// reader decodes the variable part of a header; bad is set on
// truncation.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.bad || n > uint64(len(r.b)) {
		r.bad = true
		return nil
	}
	s := r.b[:n:n]
	r.b = r.b[n:]
	return s
}

// path is where an entry with key k lives under dir with levels
// (ngx_create_hashed_filename: each level takes that many hex digits
// from the end of the name, the last first).
func path(dir string, levels []int, k Key) string {
	return string(appendPath(nil, dir, levels, k))
}

// appendPath appends path's result to b.
func appendPath(b []byte, dir string, levels []int, k Key) []byte {
	var name [32]byte
	hex.Encode(name[:], k[:])
	if dir != "" {
		b = append(b, filepath.Clean(dir)...)
		if b[len(b)-1] != filepath.Separator {
			b = append(b, filepath.Separator)
		}
	}
	end := len(name)
	for _, l := range levels {
		b = append(b, name[end-l:end]...)
		b = append(b, filepath.Separator)
		end -= l
	}
	return append(b, name[:]...)
}
