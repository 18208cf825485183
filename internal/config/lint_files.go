package config

import (
	"fmt"
	"regexp"
	"strings"
)

// The static-file traps the gixy analyser knows, checked per server:
// alias traversal, root inside "location /", and decoded-URI variables in
// header values.

// filesLint lints one server's locations (and nested ones).
func (l *linter) filesLint(srv *Server) {
	var walk func(locs []*Location)
	walk = func(locs []*Location) {
		for _, loc := range locs {
			l.aliasTraversal(loc)
			l.rootInSlash(srv, loc)
			l.splitting(fmt.Sprintf("location %q", loc.Path), &loc.Conf, loc.Rewrite, srv.Conf.ProxySetHeaders)
			walk(loc.Locations)
		}
	}
	l.splitting("server", &srv.Conf, srv.Rewrite, nil)
	walk(srv.Locations)
}

// aliasTraversal: a prefix location without a trailing slash whose own
// alias has one ("location /i { alias /data/i/; }") maps /i../x to
// /data/i/../x, a file outside the alias (gixy alias_traversal).
func (l *linter) aliasTraversal(loc *Location) {
	f := &loc.Conf.Files
	if !f.Alias || f.AliasRegex || f.AliasLocation != loc.Path || loc.Match == MatchExact {
		return
	}
	if strings.HasSuffix(loc.Path, "/") || !strings.HasSuffix(f.Root, "/") {
		return
	}
	l.add(f.RootPos,
		fmt.Sprintf("location %q has no trailing slash and its alias %q has one: nginx maps %s../x to %s../x, outside the alias directory (alias traversal); wsgate refuses such paths with 404", loc.Path, f.Root, loc.Path, f.Root),
		fmt.Sprintf("location %s/ { alias %s; }", loc.Path, f.Root))
}

// rootInSlash: root set only inside "location /" leaves the server's other
// locations with the default root (nginx's pitfalls page, "Root inside
// Location Block").
func (l *linter) rootInSlash(srv *Server, loc *Location) {
	f := &loc.Conf.Files
	if loc.Path != "/" || loc.Match != MatchPrefix || f.Alias || f.Root == srv.Conf.Files.Root {
		return
	}
	for _, other := range srv.Locations {
		oc := &other.Conf
		if other != loc && oc.ProxyPass == nil && !returns(other.Rewrite) && oc.Files.Root == srv.Conf.Files.Root && !oc.Files.Alias {
			l.add(f.RootPos,
				fmt.Sprintf("root %q is set inside location \"/\" only: location %q serves files from the server's root %q instead", f.Root, other.Path, srv.Conf.Files.Root),
				fmt.Sprintf("move \"root %s;\" to the server block", f.Root))
			return
		}
	}
}

// decodedURIVar matches variables whose value is the decoded URI, in
// which %0D%0A becomes a line break.
var decodedURIVar = regexp.MustCompile(`\$(\{)?(uri|document_uri|request_filename)\b`)

// returns reports whether a block's rewrite directives end every request
// with a return (one outside any if): such a location serves no files.
func returns(ops []RewriteOp) bool {
	for _, op := range ops {
		if op.Kind == OpReturn {
			return true
		}
	}
	return false
}

// splitting: a header value made from the decoded URI (proxy_set_header
// X-Path $uri, the URL of "return 301 https://$host$uri") carries a
// client's %0D%0A as a line break: the backend or the client receives
// headers the client chose (gixy http_splitting). $request_uri stays
// encoded. ops are the block's rewrite directives (returns in if blocks
// too); outer is the level above, to report inherited lines once.
func (l *linter) splitting(where string, c *LocConf, ops []RewriteOp, outer []HeaderSet) {
	var returns func([]RewriteOp)
	returns = func(ops []RewriteOp) {
		for _, op := range ops {
			if op.Kind == OpIf {
				returns(op.If.Body)
				continue
			}
			r := op.Return
			if op.Kind != OpReturn || r.Code < 301 || r.Code > 308 || !decodedURIVar.MatchString(r.Text) {
				continue
			}
			l.add(r.Pos,
				fmt.Sprintf("%s: the redirect of \"return %d\" is built from the decoded URI: nginx writes a client's %%0D%%0A into the Location header, which then ends and a header of the client's choosing follows; wsgate drops such a Location", where, r.Code),
				fmt.Sprintf("return %d %s;", r.Code, quoteArg(decodedURIVar.ReplaceAllString(r.Text, "$$request_uri"))))
		}
	}
	returns(ops)
	for _, h := range c.ProxySetHeaders {
		if !decodedURIVar.MatchString(h.Value) || c.SetHeadersInherited && containsHeader(outer, h) {
			continue
		}
		l.add(h.Pos,
			fmt.Sprintf("%s: proxy_set_header %s uses the decoded URI: a request for /x%%0D%%0AX-Injected:%%20y sends the backend a header line of the client's choosing, in nginx and in wsgate alike", where, h.Name),
			fmt.Sprintf("proxy_set_header %s %s;", h.Name, quoteArg(decodedURIVar.ReplaceAllString(h.Value, "$$request_uri"))))
	}
}

func containsHeader(list []HeaderSet, h HeaderSet) bool {
	for _, o := range list {
		if o.Pos.File == h.Pos.File && o.Pos.Line == h.Pos.Line && o.Pos.Col == h.Pos.Col {
			return true
		}
	}
	return false
}
