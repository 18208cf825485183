package config

import "fmt"

// This file holds ngx_http_v2_module's directives. "http2 on" (nginx
// 1.25.1) is read as the http2 parameter of the server's listens; the
// limits are the server's (HTTP2Conf), but for http2_chunk_size, a location's. The directives nginx 1.19.7 made
// obsolete say what replaced them, as nginx 1.22 does.

// http2Directives are ngx_http_v2_module's.
func http2Directives() map[string]*directive {
	return map[string]*directive{
		"http2":                        {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: setHTTP2},
		"http2_max_concurrent_streams": {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onSrv(numArg, func(s *Server) *int { return &s.HTTP2.MaxConcurrentStreams })},
		"http2_body_preread_size":      {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: setHTTP2Size(func(s *Server) *int64 { return &s.HTTP2.BodyPrereadSize }, 0)},
		"http2_chunk_size":             {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: setHTTP2ChunkSize},
		"http2_recv_buffer_size":       {ctx: ctxHTTP, min: 1, max: 1, once: true, set: setHTTP2Size(func(s *Server) *int64 { return &s.HTTP2.RecvBufferSize }, 2*16+1)},
	}
}

// http2Obsolete maps the directives nginx 1.19.7 made obsolete to their
// replacements (ngx_http_v2_obsolete); nginx 1.22 warns and ignores them.
var http2Obsolete = map[string]string{
	"http2_idle_timeout":    "keepalive_timeout",
	"http2_max_requests":    "keepalive_requests",
	"http2_recv_timeout":    "client_header_timeout",
	"http2_max_field_size":  "large_client_header_buffers",
	"http2_max_header_size": "large_client_header_buffers",
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
	f.lvl.srv = append(f.lvl.srv, func(s *Server) {
		for i := range s.Listens {
			s.Listens[i].HTTP2 = true
		}
	})
}

// setHTTP2Size is a size of at least min (and, as a window, at most
// 2^31-1: NGX_HTTP_V2_MAX_WINDOW).
func setHTTP2Size(field func(*Server) *int64, min int64) setFunc {
	return func(c *checker, f *frame, d *Directive, _ bool) {
		v, ok := sizeArg(c, d)
		if !ok {
			return
		}
		if v < min || v > 1<<31-1 {
			c.errorf(d.Args[0].Pos, "%q directive value %s is out of range", d.Name, d.Args[0].Text)
			return
		}
		f.lvl.srv = append(f.lvl.srv, func(s *Server) { *field(s) = v })
	}
}

// setHTTP2ChunkSize is http2_chunk_size (ngx_http_v2_chunk_size: more
// than 0, at most NGX_HTTP_V2_MAX_FRAME_SIZE).
func setHTTP2ChunkSize(c *checker, f *frame, d *Directive, _ bool) {
	v, ok := sizeArg(c, d)
	if !ok {
		return
	}
	if v <= 0 || v > 1<<24-1 {
		c.errorf(d.Args[0].Pos, "the http2 chunk size cannot be %s", fmt.Sprint(v))
		return
	}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.HTTP2ChunkSize = v })
}
