package config

// This file holds ngx_http_stub_status_module's directive: stub_status
// makes the server level or a location answer with the connection
// counters in nginx's text format.

// statusDirectives are ngx_http_stub_status_module's.
func statusDirectives() map[string]*directive {
	return map[string]*directive{
		// NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1:
		// the argument of the old form ("stub_status on;") is accepted
		// and not read, as in nginx 1.22.
		"stub_status": {ctx: ctxServer | ctxLocation, min: 0, max: 1, set: setStubStatus},
	}
}

// setStubStatus is ngx_http_set_stub_status: the level's content handler,
// which nested locations do not inherit (inherit drops it, as proxy_pass).
func setStubStatus(c *checker, f *frame, d *Directive, _ bool) {
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.StubStatus = true })
}
