package route

import (
	"regexp"
	"sort"
	"strings"

	"wsgate/internal/config"
)

// Match is the outcome of a location lookup for one URI.
type Match struct {
	// Location is the selected location, or nil when none matched: the
	// server-level configuration (Conf) then applies.
	Location *config.Location
	// Conf is the effective configuration: Location.Conf, or the
	// server's Conf when Location is nil. Never nil.
	Conf *config.LocConf
	// Redirect is true when nginx would answer 301 with Location set to
	// the location's name plus "?args" instead of serving the request:
	// the URI is the name of a proxied prefix location ending in "/"
	// without that slash, and no location is named exactly the URI
	// (ngx_http_core_find_static_location returning NGX_DONE,
	// clcf->auto_redirect set by proxy_pass). Location is then the
	// location whose name the client is sent to.
	Redirect bool
	// Regex is true when a regular-expression location matched. Its
	// groups are in Captures and replace any earlier ones (those of a
	// regex server_name), as ngx_http_regex_exec does; when Regex is
	// false the caller keeps the captures it had.
	Regex    bool
	Captures Captures
}

// find results, as ngx_http_core_find_static_location names them.
const (
	rcDeclined = iota // no match
	rcAgain           // inclusive (prefix) match: look at nested locations
	rcOK              // exact match: final
	rcDone            // auto redirect: final
)

// loc is one compiled location.
type loc struct {
	cfg          *config.Location
	name         string         // prefix or exact path; the pattern for regexes
	exact        bool           // location = name
	noregex      bool           // location ^~ name
	autoRedirect bool           // clcf->auto_redirect: name ends in "/" and the location proxies
	re           *regexp.Regexp // non-nil for ~ and ~*
	names        []string       // re.SubexpNames()
	groups       bool           // re has groups
	nested       level
}

// level is the locations of one nesting level (the server, or one
// location's nested blocks): a static tree of exact and prefix locations and
// the regex locations in file order (ngx_http_init_locations,
// ngx_http_init_static_location_trees).
type level struct {
	static *node
	regex  []*loc
}

// node is ngx_http_location_tree_node_t: name is relative to the parent
// node's name, tree holds the locations whose names extend this one.
type node struct {
	name              string
	left, right, tree *node
	exact, inclusive  *loc
	autoRedirect      bool
}

// lq is ngx_http_location_queue_t, used while building.
type lq struct {
	name             string
	exact, inclusive *loc
	list             []*lq
}

// buildLevel compiles locs (one nesting level, file order) and their
// nested levels. Errors are appended to errs. With regexOnly (the level
// nested in a regex location) only the regex locations are reachable:
// ngx_http_init_static_location_trees walks the static locations alone, so
// an exact or prefix location inside a regex location never gets a tree.
func buildLevel(locs []*config.Location, regexOnly bool, errs *config.ErrorList) level {
	var lv level
	var static []*lq
	for _, cl := range locs {
		l := &loc{cfg: cl, name: cl.Path}
		switch cl.Match {
		case config.MatchRegex, config.MatchRegexNoCase:
			pat := cl.Path
			if cl.Match == config.MatchRegexNoCase {
				pat = "(?i)" + pat
			}
			re, err := regexp.Compile(pat)
			if err != nil {
				errs.Add(cl.Pos, "compiling location regex %q: %v", cl.Path, err)
				continue
			}
			l.re = re
			l.names = re.SubexpNames()
			l.groups = re.NumSubexp() > 0
		case config.MatchExact:
			l.exact = true
		case config.MatchPrefixNoRe:
			l.noregex = true
		}
		// ngx_http_proxy_pass: a location whose name ends in "/" and
		// that proxies redirects the name without the slash.
		if l.re == nil && cl.Conf.ProxyPass != nil && len(cl.Path) > 0 && cl.Path[len(cl.Path)-1] == '/' {
			l.autoRedirect = true
		}
		l.nested = buildLevel(cl.Locations, regexOnly || l.re != nil, errs)
		if l.re != nil {
			lv.regex = append(lv.regex, l)
			continue
		}
		if regexOnly {
			continue
		}
		q := &lq{name: l.name}
		if l.exact {
			q.exact = l
		} else {
			q.inclusive = l
		}
		static = append(static, q)
	}
	if len(static) == 0 {
		return lv
	}
	// ngx_http_cmp_locations through ngx_queue_sort, a stable insertion
	// sort that moves a location before the one ahead of it while
	// cmp(ahead, it) > 0: that is the order "less" must give, as
	// cmpLocations is not symmetric ("= /x" before "/x" whichever came
	// first in the file).
	sort.SliceStable(static, func(i, j int) bool { return cmpLocations(static[j], static[i]) > 0 })
	static = joinExact(static, errs)
	static = createList(static)
	lv.static = createTree(static, 0)
	return lv
}

// cmpLocations is ngx_http_cmp_locations for exact and prefix locations:
// byte order with "/" lowest, and an exact location before the inclusive
// one of the same name.
func cmpLocations(a, b *lq) int {
	n := min(len(a.name), len(b.name)) + 1
	rc := filenameCmp(a.name, b.name, n)
	if rc == 0 && a.exact == nil && b.exact != nil {
		return 1
	}
	return rc
}

// joinExact is ngx_http_join_exact_locations: "= /x" and "/x" share one
// node; two of the same kind are a duplicate.
func joinExact(qs []*lq, errs *config.ErrorList) []*lq {
	out := qs[:0:0]
	for _, q := range qs {
		if n := len(out); n > 0 && out[n-1].name == q.name {
			prev := out[n-1]
			if (prev.exact != nil && q.exact != nil) || (prev.inclusive != nil && q.inclusive != nil) {
				l := q.exact
				if l == nil {
					l = q.inclusive
				}
				errs.Add(l.cfg.Pos, "duplicate location %q", q.name)
				continue
			}
			prev.inclusive = q.inclusive
			continue
		}
		out = append(out, q)
	}
	return out
}

// createList is ngx_http_create_locations_list: the locations that follow
// an inclusive location and extend its name move into its list.
func createList(qs []*lq) []*lq {
	var out []*lq
	for i := 0; i < len(qs); {
		q := qs[i]
		out = append(out, q)
		i++
		if q.inclusive == nil {
			continue
		}
		j := i
		for j < len(qs) && len(qs[j].name) >= len(q.name) && filenameCmp(q.name, qs[j].name, len(q.name)) == 0 {
			j++
		}
		if j > i {
			q.list = createList(qs[i:j])
			i = j
		}
	}
	return out
}

// createTree is ngx_http_create_locations_tree: a balanced binary tree on
// the middle element (ngx_queue_middle), names relative to prefix.
func createTree(qs []*lq, prefix int) *node {
	if len(qs) == 0 {
		return nil
	}
	mid := len(qs) / 2
	q := qs[mid]
	nd := &node{
		name:      q.name[prefix:],
		exact:     q.exact,
		inclusive: q.inclusive,
		autoRedirect: (q.exact != nil && q.exact.autoRedirect) ||
			(q.inclusive != nil && q.inclusive.autoRedirect),
	}
	nd.left = createTree(qs[:mid], prefix)
	nd.right = createTree(qs[mid+1:], prefix)
	nd.tree = createTree(q.list, len(q.name))
	return nd
}

// filenameCmp is ngx_filename_cmp on a case-sensitive file system: it
// compares at most n bytes, a NUL (or the end of a string) ends both, and
// "/" sorts below every other byte.
func filenameCmp(a, b string, n int) int {
	if len(a) >= n && len(b) >= n && a[:n] == b[:n] {
		// Equal bytes, compared at once (a location's name that is a
		// prefix of the URI, the common case).
		return 0
	}
	for i := 0; i < n; i++ {
		var c1, c2 int
		if i < len(a) {
			c1 = int(a[i])
		}
		if i < len(b) {
			c2 = int(b[i])
		}
		if c1 == c2 {
			if c1 == 0 {
				return 0
			}
			continue
		}
		if c1 == 0 || c2 == 0 {
			return c1 - c2
		}
		if c1 == '/' {
			c1 = 0
		}
		if c2 == '/' {
			c2 = 0
		}
		return c1 - c2
	}
	return 0
}

// search is the state of one lookup: the location selected so far
// (r->loc_conf) and the captures of the last regex that matched.
type search struct {
	cur   *loc
	regex bool
	caps  Captures
}

// find is ngx_http_core_find_location for one level.
func (lv *level) find(uri string, s *search) int {
	rc := lv.findStatic(uri, s)
	noregex := false
	if rc == rcAgain {
		noregex = s.cur.noregex
		rc = s.cur.nested.find(uri, s)
	}
	if rc == rcOK || rc == rcDone {
		return rc
	}
	if noregex {
		return rc
	}
	for _, l := range lv.regex {
		if !l.exec(uri, s) {
			continue
		}
		s.cur = l
		// A nested result, even an auto redirect, is final as a plain match.
		l.nested.find(uri, s)
		return rcOK
	}
	return rc
}

// exec runs a regex location against uri, recording its groups on a match.
// An expression without groups is matched without allocating.
func (l *loc) exec(uri string, s *search) bool {
	if !l.groups {
		if !l.re.MatchString(uri) {
			return false
		}
		s.regex = true
		s.caps = Captures{}
		return true
	}
	idx := l.re.FindStringSubmatchIndex(uri)
	if idx == nil {
		return false
	}
	s.regex = true
	s.caps = Captures{Subject: uri, Index: idx, Names: l.names}
	return true
}

// findStatic is ngx_http_core_find_static_location.
func (lv *level) findStatic(uri string, s *search) int {
	rv := rcDeclined
	nd := lv.static
	for nd != nil {
		n := min(len(uri), len(nd.name))
		if rc := filenameCmp(uri[:n], nd.name[:n], n); rc != 0 {
			if rc < 0 {
				nd = nd.left
			} else {
				nd = nd.right
			}
			continue
		}
		switch {
		case len(uri) > len(nd.name):
			if nd.inclusive != nil {
				s.cur = nd.inclusive
				rv = rcAgain
				uri = uri[n:]
				nd = nd.tree
				continue
			}
			nd = nd.right // exact only
			continue
		case len(uri) == len(nd.name):
			if nd.exact != nil {
				s.cur = nd.exact
				return rcOK
			}
			s.cur = nd.inclusive
			return rcAgain
		}
		if len(uri)+1 == len(nd.name) && nd.autoRedirect {
			if nd.exact != nil {
				s.cur = nd.exact
			} else {
				s.cur = nd.inclusive
			}
			rv = rcDone
		}
		nd = nd.left
	}
	return rv
}

// Location selects the location for uri, the normalized $uri (decoded,
// dots resolved, slashes merged). Prefix and exact lookups do not
// allocate; a matching regex with groups allocates its offsets.
func (s *Server) Location(uri string) Match {
	var st search
	rc := s.locs.find(uri, &st)
	m := Match{Conf: s.Conf, Regex: st.regex, Captures: st.caps}
	if st.cur != nil {
		m.Location = st.cur.cfg
		m.Conf = &st.cur.cfg.Conf
	}
	m.Redirect = rc == rcDone
	return m
}

// Named returns s's named location name
// ("@fallback", compared byte for byte), the first of that name in the
// file; nil when s has none, which nginx answers 500
// (ngx_http_named_location: "could not find named location"). Named
// locations are never matched against a URI: Location does not see them.
func (s *Server) Named(name string) *config.Location {
	for _, l := range s.Config.Named {
		if l.Path == name {
			return l
		}
	}
	return nil
}

// AppendRedirect appends the Location target nginx sends with the 301 of
// an auto redirect (ngx_http_core_find_config_phase): the location's name
// escaped as NGX_ESCAPE_URI does, then "?" and args when args is not empty.
// nginx makes it absolute with scheme and host; that is the caller's part.
func (m Match) AppendRedirect(dst []byte, args string) []byte {
	if m.Location == nil {
		return dst
	}
	dst = appendEscapedURI(dst, m.Location.Path)
	if args != "" {
		dst = append(dst, '?')
		dst = append(dst, args...)
	}
	return dst
}

// appendEscapedURI escapes as ngx_escape_uri(NGX_ESCAPE_URI): controls,
// space, the bytes " # % < > ? \ ^ ` { | }, DEL and bytes >= 0x80 become
// %XX.
func appendEscapedURI(dst []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"#%<>?\^`+"`{|}", c) >= 0 {
			dst = append(dst, '%', hex[c>>4], hex[c&0xf])
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

// appendNames adds the named groups of the level's regexes, nested ones
// included, and of the static locations' nested levels.
func (lv *level) appendNames(dst []string) []string {
	for _, l := range lv.regex {
		dst = appendNames(dst, l.names)
		dst = l.nested.appendNames(dst)
	}
	lv.static.walk(func(l *loc) { dst = l.nested.appendNames(dst) })
	return dst
}

func (nd *node) walk(f func(*loc)) {
	if nd == nil {
		return
	}
	if nd.exact != nil {
		f(nd.exact)
	}
	if nd.inclusive != nil {
		f(nd.inclusive)
	}
	nd.left.walk(f)
	nd.right.walk(f)
	nd.tree.walk(f)
}
