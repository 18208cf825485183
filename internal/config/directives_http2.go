package config

// This file holds ngx_http_v2_module's directives. wsgate serves
// HTTP/1.1 only (HTTP/2 is not built yet): "http2 on" (nginx 1.25.1) is
// read as the http2 parameter of the server's listens, and every directive
// says so in a notice, so that a configuration written for an HTTP/2
// nginx runs and its -t tells what the clients get.

// http2Note is what every HTTP/2 directive and listen parameter notes.
const http2Note = "wsgate serves HTTP/1.1 only (HTTP/2 is not built yet)"

// http2Directives are ngx_http_v2_module's that do something: "http2".
// Its tuning directives are accepted with http2Note (nginxRest).
func http2Directives() map[string]*directive {
	return map[string]*directive{
		"http2": {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: setHTTP2},
	}
}

// setHTTP2 is "http2 on|off" (nginx 1.25.1): on, the server's listens (at
// http level, every server's) are http2 listens, as with "listen ...
// http2"; off changes nothing, as in nginx, where a listen's http2
// parameter still enables it.
func setHTTP2(c *checker, f *frame, d *Directive, _ bool) {
	on, ok := flagArg(c, d)
	if !ok || !on {
		return
	}
	c.notice(d.Pos, "\"http2 on\": %s; this server's listeners speak HTTP/1.1", http2Note)
	f.lvl.srv = append(f.lvl.srv, func(s *Server) {
		for i := range s.Listens {
			s.Listens[i].HTTP2 = true
		}
	})
}
