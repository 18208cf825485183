package config

// This file holds the directives of ngx_http_sub_filter_module:
// sub_filter, sub_filter_types, sub_filter_once and
// sub_filter_last_modified. The filter itself, which rewrites response
// bodies as they stream, is internal/bodyfilter's.

// subDirectives are the sub filter's: http, server and location, as in
// nginx (not in a location's if block).
func subDirectives() map[string]*directive {
	return map[string]*directive{
		"sub_filter":               {ctx: ctxHTTPAll, min: 2, max: 2, set: setSubFilter},
		"sub_filter_types":         {ctx: ctxHTTPAll, min: 1, max: unbounded, set: typesSlot(func(l *LocConf) *[]string { return &l.Sub.Types })},
		"sub_filter_once":          {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(flagArg, func(l *LocConf) *bool { return &l.Sub.Once })},
		"sub_filter_last_modified": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(flagArg, func(l *LocConf) *bool { return &l.Sub.LastModified })},
	}
}

// maxSubPairs is nginx's limit of sub_filter pairs per level (the index
// tables are bytes).
const maxSubPairs = 255

// setSubFilter is ngx_http_sub_filter: "STRING REPLACEMENT", both of
// which may hold variables. A level with any sub_filter drops every
// inherited pair (ngx_http_sub_merge_conf keeps the parent's array only
// when the level has none).
func setSubFilter(c *checker, f *frame, d *Directive, first bool) {
	if d.Args[0].Text == "" {
		c.errorf(d.Args[0].Pos, "empty search pattern")
		return
	}
	if first {
		f.lvl.subPairs = 0
	}
	f.lvl.subPairs++
	if f.lvl.subPairs > maxSubPairs {
		c.errorf(d.Pos, "number of search patterns exceeds %d", maxSubPairs)
		return
	}
	p := SubPair{Pos: d.Pos, Match: d.Args[0].Text, Value: d.Args[1].Text}
	f.lvl.loc = append(f.lvl.loc, func(l *LocConf) {
		if first {
			l.Sub.Pairs = nil
		}
		l.Sub.Pairs = append(l.Sub.Pairs, p)
	})
}
