package vars

import "unsafe"

// Detach copies every string c holds into one fresh allocation, so that c
// no longer refers to the buffers it was filled from (a request head that
// its connection will reuse, or release). A tunnel keeps its Ctx for the
// access log line written when it ends; detaching keeps that Ctx small.
func (c *Ctx) Detach() {
	n := len(c.Method) + len(c.RequestURI) + len(c.URI) + len(c.Args) + len(c.RequestLine) +
		len(c.Host) + len(c.Proto) + len(c.RemoteAddr) + len(c.RemotePort) + len(c.ServerAddr) +
		len(c.ServerPort) + len(c.ServerName) + len(c.Captures.Subject) + len(c.ProxyHost) + len(c.ProxyPort)
	for _, h := range c.Headers {
		n += len(h.Name) + len(h.Value)
	}
	arena := make([]byte, 0, n)
	clone := func(s string) string {
		if s == "" {
			return ""
		}
		start := len(arena)
		arena = append(arena, s...)
		b := arena[start:]
		return unsafe.String(unsafe.SliceData(b), len(b))
	}
	c.Method, c.RequestURI, c.URI, c.Args = clone(c.Method), clone(c.RequestURI), clone(c.URI), clone(c.Args)
	c.RequestLine, c.Host, c.Proto = clone(c.RequestLine), clone(c.Host), clone(c.Proto)
	c.RemoteAddr, c.RemotePort = clone(c.RemoteAddr), clone(c.RemotePort)
	c.ServerAddr, c.ServerPort, c.ServerName = clone(c.ServerAddr), clone(c.ServerPort), clone(c.ServerName)
	c.Captures.Subject = clone(c.Captures.Subject)
	c.ProxyHost, c.ProxyPort = clone(c.ProxyHost), clone(c.ProxyPort)
	hs := make([]Header, len(c.Headers))
	for i, h := range c.Headers {
		hs[i] = Header{Name: clone(h.Name), Value: clone(h.Value)}
	}
	c.Headers = hs
	c.Upstream = append([]UpstreamTry(nil), c.Upstream...)
	// Map values evaluated so far may alias the old buffers too; they are
	// evaluated again when the log line needs them.
	c.mapInline = [4]mapSlot{}
	c.mapExtra = nil
	c.scratch = nil
}
