package config

import (
	"fmt"
	"strings"
)

// namedTargets warns about the error pages of srv that name a named
// location srv does not have: nginx accepts them, and answers the error
// 500 when it happens ("could not find named location"). Inherited pages
// are checked in every server that inherits them, each place once.
func (l *linter) namedTargets(srv *Server) {
	names := map[string]bool{}
	for _, n := range srv.Named {
		names[n.Path] = true
	}
	seen := map[string]bool{}
	check := func(c *LocConf) {
		for _, p := range c.ErrorPages {
			if !strings.HasPrefix(p.Target, "@") || strings.Contains(p.Target, "$") || names[p.Target] || seen[p.Pos.String()] {
				continue
			}
			seen[p.Pos.String()] = true
			l.add(p.Pos,
				fmt.Sprintf("error_page %d names the named location %q, which the server at %s does not have: the error is answered 500 (\"could not find named location\")", p.Status, p.Target, srv.Pos),
				fmt.Sprintf("location %s { ... } in that server, or a target it has", p.Target))
		}
	}
	var walk func(locs []*Location)
	walk = func(locs []*Location) {
		for _, loc := range locs {
			check(&loc.Conf)
			walk(loc.Locations)
		}
	}
	check(&srv.Conf)
	walk(srv.Locations)
	walk(srv.Named)
}
