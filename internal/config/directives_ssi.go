package config

// This file holds ngx_http_ssi_filter_module's directives. wsgate does not
// process server-side includes: "ssi on" is refused, and "ssi off" (the
// default) and the module's settings, which act only under "ssi on", are
// accepted with a notice (directives_nginx.go, ssiNote), so that a configuration that names them
// without turning SSI on is served as nginx serves it.

// ssiNote is why the module's settings change nothing.
const ssiNote = `they act only under "ssi on", which wsgate refuses`

// ssiDirectives are the ssi module's directives.
func ssiDirectives() map[string]*directive {
	return map[string]*directive{
		"ssi": {ctx: ctxHTTPAll | ctxLocIf, min: 1, max: 1, set: setSSI},
	}
}

// setSSI reads "ssi on|off" (ngx_conf_set_flag_slot): off is the default
// and changes nothing; on is refused.
func setSSI(c *checker, f *frame, d *Directive, _ bool) {
	on, ok := flagArg(c, d)
	if !ok {
		return
	}
	if on {
		c.errorf(d.Pos, `"ssi on" is not supported by wsgate: it does not process server-side includes; assemble the page in the backend, or in the browser`)
		return
	}
	c.notice(d.Pos, `"ssi off" accepted: wsgate does not process server-side includes`)
}
