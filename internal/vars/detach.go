package vars

import (
	"crypto/tls"
	"encoding/binary"
	"sync"
	"time"
	"unsafe"

	"wsgate/internal/connstats"
	"wsgate/internal/exchange"
	"wsgate/internal/proxyproto"
	"wsgate/internal/route"
)

// Frozen is a Ctx packed for keeping while a tunnel lasts: its strings,
// header lines, capture offsets, upstream tries and numbers are encoded
// back to back in one allocation that refers to no buffer of the request,
// with no string or slice header per field. A Ctx thawed from it evaluates
// every variable as the frozen one did (map values are evaluated again;
// what set assigned is kept; Uninitialized, TCPInfo and Paths, which
// read the connection and the location, are not).
// The zero value thaws to the zero Ctx. A Frozen is 128 bytes plus the
// encoded data, typically the length of the request head.
type Frozen struct {
	start, end time.Time             // kept whole: a monotonic reading has no encoding
	tls        *tls.ConnectionState  // shared, never changed
	hello      *exchange.ClientHello // shared, never changed
	pp         *proxyproto.Header    // shared, never changed
	names      []string              // Captures.Names, shared with the compiled regexp
	conns      *connstats.Counters   // the process's, shared
	data       []byte
}

// Frozen flag bits.
const (
	frozenHasArgs = 1 << iota
	frozenTLS
	frozenProxied
	frozenWS
	frozenPipelined
	frozenRequestID
	frozenHasRequestBody
	frozenLimitRateSet
)

// Frozen flag bits of the second flags byte, which always follows the
// first (that one is full).
const (
	frozenCompleted = 1 << iota
	frozenProxyBodyKnown
	frozenProxyChunked
)

// freezeScratch holds the encoding buffers of Freeze between calls.
var freezeScratch = sync.Pool{New: func() any { return new([]byte) }}

// Freeze packs c into f, replacing what f held. c is not changed and may
// be reused at once.
func (f *Frozen) Freeze(c *Ctx) {
	sp := freezeScratch.Get().(*[]byte)
	b := (*sp)[:0]
	var flags byte
	if c.HasArgs {
		flags |= frozenHasArgs
	}
	if c.TLS {
		flags |= frozenTLS
	}
	if c.Proxied {
		flags |= frozenProxied
	}
	if c.WS {
		flags |= frozenWS
	}
	if c.Pipelined {
		flags |= frozenPipelined
	}
	if c.RequestID != ([16]byte{}) {
		flags |= frozenRequestID
	}
	if c.HasRequestBody {
		flags |= frozenHasRequestBody
	}
	if c.LimitRateSet {
		flags |= frozenLimitRateSet
	}
	var more byte
	if c.Completed {
		more |= frozenCompleted
	}
	if c.ProxyBodyKnown {
		more |= frozenProxyBodyKnown
	}
	if c.ProxyChunked {
		more |= frozenProxyChunked
	}
	b = append(b, flags, more)
	if flags&frozenRequestID != 0 {
		b = append(b, c.RequestID[:]...)
	}
	for _, s := range [...]string{c.Method, c.RequestURI, c.URI, c.Args, c.RequestLine, c.Host,
		c.Proto, c.RemoteAddr, c.RemotePort, c.ServerAddr, c.ServerPort, c.ServerName, c.RemoteUser,
		c.Captures.Subject, c.ProxyHost, c.ProxyPort, c.WSClosedBy, c.RequestBody, c.ClientVerify,
		c.LimitReqStatus, c.LimitConnStatus, c.SentHead, c.SentTrailers, c.OverrideCharset} {
		b = appendString(b, s)
	}
	b = appendString(appendString(b, c.RealIPAddr), c.RealIPPort)
	for _, v := range [...]int64{int64(c.Status), c.BodyBytesSent, c.BytesSent, c.RequestLength,
		int64(c.Connection), int64(c.ConnectionRequests), int64(c.WSDuration), c.WSBytesIn,
		c.WSBytesOut, int64(c.WSCloseCode), c.LimitRate, c.ProxyBodyLength, connOffset(c)} {
		b = binary.AppendVarint(b, v)
	}
	b = binary.AppendUvarint(b, uint64(len(c.Headers)))
	for _, h := range c.Headers {
		b = appendString(appendString(b, h.Name), h.Value)
	}
	b = binary.AppendUvarint(b, uint64(len(c.UpstreamHeaders)))
	for _, h := range c.UpstreamHeaders {
		b = appendString(appendString(b, h.Name), h.Value)
	}
	b = binary.AppendUvarint(b, uint64(len(c.UpstreamTrailers)))
	for _, h := range c.UpstreamTrailers {
		b = appendString(appendString(b, h.Name), h.Value)
	}
	b = binary.AppendUvarint(b, uint64(len(c.Captures.Index)))
	for _, v := range c.Captures.Index {
		b = binary.AppendVarint(b, int64(v))
	}
	b = binary.AppendUvarint(b, uint64(len(c.Upstream)))
	for _, u := range c.Upstream {
		b = appendString(b, u.Addr)
		b = binary.AppendVarint(b, int64(u.Status))
		b = binary.AppendVarint(b, int64(u.ResponseTime))
		b = binary.AppendVarint(b, int64(u.ConnectTime))
		b = binary.AppendVarint(b, u.ResponseLength)
		b = binary.AppendVarint(b, int64(u.HeaderTime))
		b = binary.AppendVarint(b, u.BytesSent)
		b = binary.AppendVarint(b, u.BytesReceived)
		b = append(b, boolByte(u.Group))
	}
	b = appendString(b, c.CacheStatus)
	b = binary.AppendUvarint(b, uint64(len(c.sets)))
	for _, v := range c.sets {
		if !v.ok {
			b = append(b, 0)
			continue
		}
		b = appendString(append(b, 1), v.val)
	}
	*f = Frozen{start: c.Start, end: c.End, tls: c.TLSState, hello: c.TLSHello, pp: c.ProxyProtocol, names: c.Captures.Names, conns: c.Conns, data: append([]byte(nil), b...)}
	*sp = b
	freezeScratch.Put(sp)
}

// connOffset encodes ConnStart as its distance before Start (nanoseconds
// plus one; 0 for none), so that it costs the Frozen no time.Time.
func connOffset(c *Ctx) int64 {
	if c.ConnStart.IsZero() {
		return 0
	}
	return int64(c.Start.Sub(c.ConnStart)) + 1
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// Thaw sets *c to the Ctx that was frozen. Its strings share f's data,
// which never changes; its header, capture and upstream slices are its
// own (nil when empty).
func (f *Frozen) Thaw(c *Ctx) {
	*c = Ctx{Start: f.start, End: f.end, TLSState: f.tls, TLSHello: f.hello, ProxyProtocol: f.pp, Conns: f.conns}
	if len(f.data) == 0 {
		return
	}
	d := frozenReader{b: f.data}
	flags := d.b[0]
	d.b = d.b[1:]
	c.HasArgs = flags&frozenHasArgs != 0
	c.TLS = flags&frozenTLS != 0
	c.Proxied = flags&frozenProxied != 0
	c.WS = flags&frozenWS != 0
	c.Pipelined = flags&frozenPipelined != 0
	c.HasRequestBody = flags&frozenHasRequestBody != 0
	c.LimitRateSet = flags&frozenLimitRateSet != 0
	more := d.b[0]
	d.b = d.b[1:]
	c.Completed = more&frozenCompleted != 0
	c.ProxyBodyKnown = more&frozenProxyBodyKnown != 0
	c.ProxyChunked = more&frozenProxyChunked != 0
	if flags&frozenRequestID != 0 {
		copy(c.RequestID[:], d.b)
		d.b = d.b[len(c.RequestID):]
	}
	for _, p := range [...]*string{&c.Method, &c.RequestURI, &c.URI, &c.Args, &c.RequestLine, &c.Host,
		&c.Proto, &c.RemoteAddr, &c.RemotePort, &c.ServerAddr, &c.ServerPort, &c.ServerName, &c.RemoteUser,
		&c.Captures.Subject, &c.ProxyHost, &c.ProxyPort, &c.WSClosedBy, &c.RequestBody, &c.ClientVerify,
		&c.LimitReqStatus, &c.LimitConnStatus, &c.SentHead, &c.SentTrailers, &c.OverrideCharset} {
		*p = d.str()
	}
	c.RealIPAddr, c.RealIPPort = d.str(), d.str()
	c.Status = int(d.int())
	c.BodyBytesSent = d.int()
	c.BytesSent = d.int()
	c.RequestLength = d.int()
	c.Connection = uint64(d.int())
	c.ConnectionRequests = int(d.int())
	c.WSDuration = time.Duration(d.int())
	c.WSBytesIn = d.int()
	c.WSBytesOut = d.int()
	c.WSCloseCode = int(d.int())
	c.LimitRate = d.int()
	c.ProxyBodyLength = d.int()
	if off := d.int(); off != 0 {
		c.ConnStart = c.Start.Add(-time.Duration(off - 1))
	}
	if n := d.uint(); n > 0 {
		c.Headers = make([]Header, n)
		for i := range c.Headers {
			c.Headers[i] = Header{Name: d.str(), Value: d.str()}
		}
	}
	if n := d.uint(); n > 0 {
		c.UpstreamHeaders = make([]Header, n)
		for i := range c.UpstreamHeaders {
			c.UpstreamHeaders[i] = Header{Name: d.str(), Value: d.str()}
		}
	}
	if n := d.uint(); n > 0 {
		c.UpstreamTrailers = make([]Header, n)
		for i := range c.UpstreamTrailers {
			c.UpstreamTrailers[i] = Header{Name: d.str(), Value: d.str()}
		}
	}
	var idx []int
	if n := d.uint(); n > 0 {
		idx = make([]int, n)
		for i := range idx {
			idx[i] = int(d.int())
		}
	}
	c.Captures = route.Captures{Subject: c.Captures.Subject, Index: idx, Names: f.names}
	if n := d.uint(); n > 0 {
		c.Upstream = make([]UpstreamTry, n)
		for i := range c.Upstream {
			u := &c.Upstream[i]
			u.Addr = d.str()
			u.Status = int(d.int())
			u.ResponseTime = time.Duration(d.int())
			u.ConnectTime = time.Duration(d.int())
			u.ResponseLength = d.int()
			u.HeaderTime = time.Duration(d.int())
			u.BytesSent = d.int()
			u.BytesReceived = d.int()
			u.Group = d.b[0] == 1
			d.b = d.b[1:]
		}
	}
	c.CacheStatus = d.str()
	if n := d.uint(); n > 0 {
		c.sets = make([]setSlot, n)
		for i := range c.sets {
			ok := d.b[0] == 1
			d.b = d.b[1:]
			if ok {
				c.sets[i] = setSlot{val: d.str(), ok: true}
			}
		}
	}
}

// frozenReader decodes Frozen.data, which Freeze wrote and nothing else
// changes: it is never short or malformed.
type frozenReader struct{ b []byte }

func (d *frozenReader) uint() uint64 {
	v, n := binary.Uvarint(d.b)
	d.b = d.b[n:]
	return v
}

func (d *frozenReader) int() int64 {
	v, n := binary.Varint(d.b)
	d.b = d.b[n:]
	return v
}

func (d *frozenReader) str() string {
	n := int(d.uint())
	if n == 0 {
		return ""
	}
	s := unsafe.String(unsafe.SliceData(d.b), n)
	d.b = d.b[n:]
	return s
}
