// Package route reproduces nginx's choice of server and location for a
// request: the servers on each listen address with their default
// (ngx_http_add_addresses), server_name lookup (ngx_http_find_virtual_server)
// and the location tree (ngx_http_core_find_location). Build compiles a
// config.HTTP once; lookups are read-only and safe for concurrent use.
package route

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"wsgate/internal/config"
)

// Table is the compiled routing of one configuration.
type Table struct {
	addrs map[string]*addrConf // by config.Listen.Addr
	order []string             // listen addresses, first seen first

	captureNames []string
	// wild4 and wild6 are the wildcard addresses ("0.0.0.0:P", "[::]:P")
	// by port, for lookups by a connection's local address.
	wild4, wild6 map[string]*addrConf
}

// addrConf is one listen address:port with its servers
// (ngx_http_conf_addr_t and its virtual names).
type addrConf struct {
	addr     string
	def      *Server
	servers  []*Server
	exact    map[string]*Server // exact names; ".x" forms also as "x"
	wcHead   map[string]*Server // "*.x" and ".x" keyed ".x"
	wcTail   map[string]*Server // "x.*" keyed "x."
	regex    []regexName        // in file order
	hasWC    bool
	explicit bool // def came from default_server
}

type regexName struct {
	re     *regexp.Regexp
	names  []string
	groups bool
	srv    *Server
}

// Server is one compiled server{} block.
type Server struct {
	// Config is the server block as checked.
	Config *config.Server
	// Conf is the server-level configuration: what a request that matches
	// no location gets. It points into Config.
	Conf *config.LocConf
	// Name is $server_name: the first server_name as written ("" when
	// none; a leading "." dropped; a regex as "~pattern"), lower-cased
	// (ngx_http_core_merge_srv_conf).
	Name string

	locs level
}

// Build compiles the servers of h. Errors (bad regexes, duplicate
// locations, two default servers on one address) are all reported, each
// at its position, as a config.ErrorList.
func Build(h *config.HTTP) (*Table, error) {
	t := &Table{
		addrs: make(map[string]*addrConf),
		wild4: make(map[string]*addrConf),
		wild6: make(map[string]*addrConf),
	}
	if h == nil {
		return t, nil
	}
	var errs config.ErrorList
	var order []*addrConf
	for _, cs := range h.Servers {
		s := &Server{Config: cs, Conf: &cs.Conf, Name: primaryName(cs)}
		s.locs = buildLevel(cs.Locations, false, &errs)
		listens := cs.Listens
		if len(listens) == 0 {
			listens = []config.Listen{{Pos: cs.Pos, Addr: "0.0.0.0:80", Wildcard: true}}
		}
		for _, l := range listens {
			a := t.addrs[l.Addr]
			if a == nil {
				a = &addrConf{
					addr:   l.Addr,
					exact:  make(map[string]*Server),
					wcHead: make(map[string]*Server),
					wcTail: make(map[string]*Server),
				}
				t.addrs[l.Addr] = a
				t.order = append(t.order, l.Addr)
				order = append(order, a)
			}
			if containsServer(a.servers, s) {
				continue // the same server listening twice on one address
			}
			a.servers = append(a.servers, s)
			if l.DefaultServer {
				if a.explicit {
					errs.Add(l.Pos, "a duplicate default server for %s", l.Addr)
					continue
				}
				a.def, a.explicit = s, true
			}
		}
	}
	for _, a := range order {
		if a.def == nil {
			a.def = a.servers[0]
		}
		for _, s := range a.servers {
			a.addNames(s, &errs)
		}
		if host, port, ok := splitHostPort(a.addr); ok {
			switch host {
			case "0.0.0.0", "*", "":
				t.wild4[port] = a
			case "[::]":
				t.wild6[port] = a
			}
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	seen := make(map[*Server]bool)
	for _, a := range order {
		for _, r := range a.regex {
			t.captureNames = appendNames(t.captureNames, r.names)
		}
		for _, s := range a.servers {
			if !seen[s] {
				seen[s] = true
				t.captureNames = s.locs.appendNames(t.captureNames)
			}
		}
	}
	return t, nil
}

// appendNames adds the non-empty names not yet in dst.
func appendNames(dst, names []string) []string {
	for _, n := range names {
		if n != "" && !slices.Contains(dst, n) {
			dst = append(dst, n)
		}
	}
	return dst
}

func containsServer(ss []*Server, s *Server) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// ServerName is the $server_name requests to cs get (Server.Name).
func ServerName(cs *config.Server) string { return primaryName(cs) }

// primaryName is cscf->server_name: the first name as written.
func primaryName(cs *config.Server) string {
	if len(cs.Names) == 0 {
		return ""
	}
	n := cs.Names[0]
	switch n.Kind {
	case config.NameWildStart:
		if n.Dot {
			return strings.TrimPrefix(n.Name, ".")
		}
		return "*" + n.Name
	case config.NameWildEnd:
		return n.Name + "*"
	case config.NameRegex:
		return "~" + n.Name
	}
	return n.Name
}

// addNames enters s's names into a's lookup tables. A name already taken
// by an earlier server keeps that server (nginx warns "conflicting server
// name" and ignores the later one).
func (a *addrConf) addNames(s *Server, errs *config.ErrorList) {
	names := s.Config.Names
	if len(names) == 0 {
		// ngx_http_core_merge_srv_conf: no server_name is server_name "".
		names = []config.ServerName{{Kind: config.NameExact}}
	}
	for _, n := range names {
		switch n.Kind {
		case config.NameExact:
			putFirst(a.exact, asciiLower(n.Name), s)
		case config.NameWildStart:
			suffix := asciiLower(n.Name) // ".example.com"
			if n.Dot {
				putFirst(a.exact, suffix[1:], s)
			}
			putFirst(a.wcHead, suffix, s)
			a.hasWC = true
		case config.NameWildEnd:
			putFirst(a.wcTail, asciiLower(n.Name), s)
			a.hasWC = true
		case config.NameRegex:
			pat := n.Name
			// ngx_http_core_server_name: a pattern with an upper-case
			// letter is compiled caseless.
			if strings.ContainsFunc(pat, func(r rune) bool { return r >= 'A' && r <= 'Z' }) {
				pat = "(?i)" + pat
			}
			re, err := regexp.Compile(pat)
			if err != nil {
				errs.Add(n.Pos, "compiling server name regex %q: %v", n.Name, err)
				continue
			}
			a.regex = append(a.regex, regexName{re: re, names: re.SubexpNames(), groups: re.NumSubexp() > 0, srv: s})
		}
	}
}

func putFirst(m map[string]*Server, k string, s *Server) {
	if _, ok := m[k]; !ok {
		m[k] = s
	}
}

// Server returns the server for a request that arrived on listenAddr with
// the given host ($host before its fallback: the validated Host or
// absolute-URI host; "" when the request had none). listenAddr is a
// config.Listen.Addr, or the connection's local "ip:port", which falls
// back to the wildcard address of its port as nginx's per-address tables
// do. The host is compared lower-cased with one trailing dot removed.
//
// Lookup order is ngx_http_find_virtual_server's: exact, longest leading
// wildcard, longest trailing wildcard, regexes in file order (their groups
// are returned), else the address's default server. The result is nil only
// when nothing listens on listenAddr.
func (t *Table) Server(listenAddr, host string) (*Server, Captures) {
	a := t.addr(listenAddr)
	if a == nil {
		return nil, Captures{}
	}
	host = normalizeHost(host)
	if s := a.exact[host]; s != nil {
		return s, Captures{}
	}
	if host == "" {
		return a.def, Captures{}
	}
	if a.hasWC {
		// ngx_hash_find_wc_head: the longest suffix starting at a dot.
		for i := 0; i < len(host); i++ {
			if host[i] == '.' {
				if s := a.wcHead[host[i:]]; s != nil {
					return s, Captures{}
				}
			}
		}
		// ngx_hash_find_wc_tail: the longest prefix ending at a dot,
		// with at least one byte after it.
		for i := len(host) - 2; i >= 0; i-- {
			if host[i] == '.' {
				if s := a.wcTail[host[:i+1]]; s != nil {
					return s, Captures{}
				}
			}
		}
	}
	for _, r := range a.regex {
		if !r.groups {
			if r.re.MatchString(host) {
				return r.srv, Captures{}
			}
			continue
		}
		if idx := r.re.FindStringSubmatchIndex(host); idx != nil {
			return r.srv, Captures{Subject: host, Index: idx, Names: r.names}
		}
	}
	return a.def, Captures{}
}

// Default returns the default server of listenAddr (nil when nothing
// listens there): the one with default_server, else the first.
func (t *Table) Default(listenAddr string) *Server {
	if a := t.addr(listenAddr); a != nil {
		return a.def
	}
	return nil
}

// CaptureNames lists the named groups of every server_name and location
// regex, so that a variables compiler can accept them as $name.
func (t *Table) CaptureNames() []string { return t.captureNames }

// Addrs lists the listen addresses (config.Listen.Addr) in the order
// first seen. The caller must not modify the result.
func (t *Table) Addrs() []string { return t.order }

func (t *Table) addr(listenAddr string) *addrConf {
	if a := t.addrs[listenAddr]; a != nil {
		return a
	}
	host, port, ok := splitHostPort(listenAddr)
	if !ok {
		return nil
	}
	if strings.HasPrefix(host, "[") {
		return t.wild6[port]
	}
	return t.wild4[port]
}

// splitHostPort splits "h:p" or "[v6]:p" without allocating; host keeps
// its brackets.
func splitHostPort(s string) (host, port string, ok bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 || i == len(s)-1 {
		return "", "", false
	}
	if strings.HasPrefix(s, "[") && s[i-1] != ']' {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// normalizeHost lower-cases host and drops one trailing dot, allocating
// only when a letter must change.
func normalizeHost(h string) string {
	if n := len(h); n > 0 && h[n-1] == '.' {
		h = h[:n-1]
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; c >= 'A' && c <= 'Z' {
			return asciiLower(h)
		}
	}
	return h
}

func (s *Server) String() string {
	return fmt.Sprintf("server %q at %s", s.Name, s.Config.Pos)
}

// asciiLower is ngx_strlow: only A-Z change, other bytes (UTF-8 or not)
// are kept as they are.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}
