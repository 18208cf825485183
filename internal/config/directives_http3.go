package config

// This file holds ngx_http_v3_module's directives (nginx 1.25): the
// server's HTTP/3 settings (HTTP3Conf), which apply to its "listen ...
// quic" addresses. "quic_gso" is accepted: quic-go sends with
// generic segmentation offload by itself where the kernel has it.

// http3Directives are ngx_http_v3_module's.
func http3Directives() map[string]*directive {
	return map[string]*directive{
		"http3":                        {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onSrv(flagArg, func(s *Server) *bool { return &s.HTTP3.On })},
		"http3_hq":                     {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: setHTTP3HQ},
		"http3_max_concurrent_streams": {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onSrv(numArg, func(s *Server) *int { return &s.HTTP3.MaxConcurrentStreams })},
		"http3_stream_buffer_size":     {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onSrv(sizeArg, func(s *Server) *int64 { return &s.HTTP3.StreamBufferSize })},
		"quic_retry":                   {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: onSrv(flagArg, func(s *Server) *bool { return &s.HTTP3.Retry })},
		"quic_gso":                     {ctx: ctxSrvAll, min: 1, max: 1, once: true, set: setQUICGSO},
	}
}

// setHTTP3HQ is http3_hq: "on" serves hq-interop (HTTP/0.9 over QUIC, for
// interoperability tests), which wsgate does not.
func setHTTP3HQ(c *checker, f *frame, d *Directive, _ bool) {
	on, ok := flagArg(c, d)
	if ok && on {
		c.errorf(d.Args[0].Pos, "\"http3_hq on\" is not supported by wsgate: it serves HTTP/3 only, not hq-interop; remove the directive")
	}
}

// setQUICGSO is quic_gso: checked and accepted.
func setQUICGSO(c *checker, f *frame, d *Directive, _ bool) {
	if on, ok := flagArg(c, d); ok && !on {
		c.notice(d.Args[0].Pos, "\"quic_gso off\" accepted: quic-go uses segmentation offload where the kernel has it")
	}
}
