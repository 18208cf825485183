package config

// This file holds the directives of wsgate's own observability module:
// ws_metrics makes a location answer with the Prometheus text exposition
// of the process's metrics (internal/metrics), ws_status with the live
// status page (internal/status). Both are a level's content handler, as
// stub_status is (ngx_http_stub_status_module), and like it are not
// inherited by nested locations.

// wsStatusDirectives are wsgate's observability module's.
func wsStatusDirectives() map[string]*directive {
	return map[string]*directive{
		"ws_metrics": {ctx: ctxServer | ctxLocation, min: 0, max: 0, set: setWSMetrics},
		"ws_status":  {ctx: ctxServer | ctxLocation, min: 0, max: 0, set: setWSStatus},
	}
}

func setWSMetrics(c *checker, f *frame, d *Directive, _ bool) {
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.WSMetrics = true })
}

func setWSStatus(c *checker, f *frame, d *Directive, _ bool) {
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { l.WSStatus = true })
}
