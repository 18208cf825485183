package config

// This file holds wsgate's own upstream directives, for upstreams whose
// peers move: ws_drain_removed and ws_drain_window (the tunnels of a peer
// that DNS removed), and the checks of the "server ... resolve" lines
// (nginx 1.27.3).

// upstreamWSDirectives are wsgate's own directives of upstream{} blocks.
func upstreamWSDirectives() map[string]*directive {
	return map[string]*directive{
		"ws_drain_removed": {ctx: ctxUpstream, min: 1, max: 1, once: true, set: setDrainRemoved},
	}
}

// setDrainRemoved reads "ws_drain_removed TIME|off".
func setDrainRemoved(c *checker, f *frame, d *Directive, _ bool) {
	if d.Args[0].Text == "off" {
		f.ups.DrainRemoved = 0
		return
	}
	t, ok := ParseTime(d.Args[0].Text, false)
	if !ok || t <= 0 {
		c.errorf(d.Args[0].Pos, "%q directive invalid value", d.Name)
		return
	}
	f.ups.DrainRemoved = t
}

// checkUpstreamWS checks an upstream block once it is read: resolve
// servers need a zone (nginx 1.27.3: "resolving names at run time
// requires upstream ... to be in shared memory").
func (c *checker) checkUpstreamWS(u *Upstream) {
	for _, s := range u.Servers {
		if s.Resolve && u.Zone == "" {
			c.errorf(s.Pos, "resolving names at run time requires upstream %q in %s:%d to be in shared memory", u.Name, u.Pos.File, u.Pos.Line)
		}
	}
}
