package config

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Warning is a configuration that works but is a known trap: where it is,
// what is wrong, and the exact lines that fix it.
type Warning struct {
	Pos Pos
	Msg string
	Fix string
}

// Lint finds the seed tutorial's pitfalls and their relatives in s, in
// file order of servers and locations. It never changes s.
func Lint(s *Spec) []Warning {
	if s == nil || s.HTTP == nil {
		return nil
	}
	l := &linter{spec: s, upstreams: map[string]*Upstream{}}
	for _, u := range s.HTTP.Upstreams {
		l.upstreams[strings.ToLower(u.Name)] = u
	}
	for _, srv := range s.HTTP.Servers {
		l.dropped(srv.Pos, "server", &srv.Conf)
		l.filesLint(srv)
		l.namedTargets(srv)
		l.droppedAdd(srv.Pos, "server", &srv.Conf)
		wsLoc := l.locations(srv.Locations)
		if wsLoc != nil {
			for _, ln := range srv.Listens {
				if ln.HTTP2 {
					l.add(ln.Pos,
						fmt.Sprintf("listen %s has http2 and the server proxies WebSockets (location %q): nginx 1.22 cannot carry WebSockets over HTTP/2 (RFC 8441), so clients must open a separate HTTP/1.1 connection for them (wsgate carries them on the HTTP/2 connection)", ln.Addr, wsLoc.Path),
						"serve WebSockets from a listen without http2 if this file must also run under nginx, e.g. a separate server { listen 8443 ssl; } for the WebSocket locations")
				}
				if ln.HTTP3 {
					l.add(ln.Pos,
						fmt.Sprintf("listen %s has quic and the server proxies WebSockets (location %q): nginx cannot carry WebSockets over HTTP/3 (RFC 9220), so its clients open a TCP connection for them (wsgate carries them on the QUIC connection)", strings.TrimPrefix(ln.Addr, QUICPrefix), wsLoc.Path),
						"nothing to change for wsgate; under nginx the WebSockets go over the server's TCP listen")
				}
			}
		}
	}
	return l.out
}

type linter struct {
	spec      *Spec
	upstreams map[string]*Upstream
	out       []Warning
}

func (l *linter) add(pos Pos, msg, fix string) {
	l.out = append(l.out, Warning{Pos: pos, Msg: msg, Fix: fix})
}

// header returns the value of the effective proxy_set_header name, and
// whether it is set.
func header(c *LocConf, name string) (string, bool) {
	for _, h := range c.ProxySetHeaders {
		if strings.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

// The words that say a location expects WebSockets when its path or its
// upstream's name has one of them as a word (split at anything that is not
// a letter or digit: "/socket.io/", "ws_backend", "/api/websocket"), in
// two groups:
//
//   - dedicated, endpoints that carry WebSockets only: "ws", "wss",
//     "cable" (Rails Action Cable), a word with "websocket" in it
//     ("/xmpp-websocket", "mewebsocket"), and a word that starts with
//     "ws" ("/wsapp", "/wschat") but "wsgi" and "wsdl";
//   - shared, transports whose plain HTTP requests use the same path:
//     "socket", "sockets", "socketio" and "socket.io", "sockjs" (long
//     polling and streaming fallbacks), "signalr", "hub", "hubs" (SignalR's
//     negotiate request and fallbacks).
//
// Nothing else in a name counts: "news", "/downloads" or "/jwst" are not
// WebSocket names. ws_lint on|off overrides the guess for a location.
var wsShared = []string{"socket", "sockets", "socketio", "sockjs", "signalr", "hub", "hubs"}

// wsWords reports whether s has a WebSocket word, and whether all that it
// has are dedicated ones.
func wsWords(s string) (any, dedicated bool) {
	dedicated = true
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9')
	}) {
		switch {
		case slices.Contains(wsShared, w):
			any, dedicated = true, false
		case w == "cable" || strings.Contains(w, "websocket") ||
			strings.HasPrefix(w, "ws") && w != "wsgi" && w != "wsdl":
			any = true
		}
	}
	return any, any && dedicated
}

// wsNames reports whether the location's path or upstream name has a
// WebSocket word, and whether the location looks dedicated to WebSockets:
// its path has only dedicated words and its upstream name no shared one.
// An upstream name alone never makes a location dedicated: "location /"
// to a "ws_nodes" upstream still takes the page requests.
func wsNames(loc *Location) (any, dedicated bool) {
	upstream := ""
	if c := &loc.Conf; c.ProxyPass != nil {
		upstream = c.ProxyPass.Upstream
	}
	pa, pd := wsWords(loc.Path)
	ua, ud := wsWords(upstream)
	return pa || ua, pd && (!ua || ud)
}

// isWebSocket reports whether a proxied location is meant for WebSockets,
// where the WebSocket pitfalls are worth a warning: ws_lint on says so,
// ws_lint off says not; otherwise a location that forwards Upgrade, or
// whose path or upstream name has a WebSocket word (wsWords).
func isWebSocket(loc *Location) bool {
	c := &loc.Conf
	if c.ProxyPass == nil {
		return false
	}
	switch c.WS.Lint {
	case "on":
		return true
	case "off":
		return false
	}
	if _, ok := header(c, "Upgrade"); ok {
		return true
	}
	any, _ := wsNames(loc)
	return any
}

// wsOnly reports whether the location looks dedicated to WebSockets, so
// that plain requests are not expected there: its names have only
// dedicated words. A Socket.IO, SockJS or SignalR path is not: their
// long-polling requests share it.
func wsOnly(loc *Location) bool {
	_, dedicated := wsNames(loc)
	return dedicated
}

// locations lints a location list recursively and returns the first
// WebSocket location found (for the http2 check).
func (l *linter) locations(locs []*Location) *Location {
	var first *Location
	for _, loc := range locs {
		if l.location(loc) && first == nil {
			first = loc
		}
		if f := l.locations(loc.Locations); f != nil && first == nil {
			first = f
		}
	}
	return first
}

func (l *linter) location(loc *Location) (ws bool) {
	c := &loc.Conf
	l.dropped(loc.Pos, fmt.Sprintf("location %q", loc.Path), c)
	l.droppedAdd(loc.Pos, fmt.Sprintf("location %q", loc.Path), c)
	if c.ProxyPass == nil {
		return false
	}
	l.keepalive(loc)
	conn, hasConn := header(c, "Connection")
	if hasConn && strings.EqualFold(conn, "upgrade") && !wsOnly(loc) && c.WS.Lint != "off" {
		l.add(loc.Pos,
			fmt.Sprintf("location %q sends \"Connection: upgrade\" on every request, also on plain HTTP ones that pass here; backends may then keep or upgrade connections they should close", loc.Path),
			"in http { }: map $http_upgrade $connection_upgrade { default upgrade; '' close; }\n\tin this location: proxy_set_header Connection $connection_upgrade;")
	}
	if !isWebSocket(loc) {
		return false
	}
	if c.ProxyHTTPVersion != "1.1" {
		l.add(loc.Pos,
			fmt.Sprintf("location %q proxies WebSockets with proxy_http_version %s: nginx would send the handshake as HTTP/1.0 and the backend cannot upgrade (wsgate upgrades anyway)", loc.Path, c.ProxyHTTPVersion),
			"proxy_http_version 1.1;")
	}
	_, hasUp := header(c, "Upgrade")
	if !hasUp || !hasConn {
		var fix []string
		if !hasUp {
			fix = append(fix, "proxy_set_header Upgrade $http_upgrade;")
		}
		if !hasConn {
			fix = append(fix, `proxy_set_header Connection "upgrade";`)
		}
		l.add(loc.Pos,
			fmt.Sprintf("location %q proxies WebSockets without the Upgrade and Connection headers: nginx drops the client's Upgrade and sends \"Connection: close\", so the handshake never reaches the backend (wsgate upgrades anyway)", loc.Path),
			strings.Join(fix, " "))
	}
	if c.ProxyReadTimeout <= 60*time.Second && (c.WS.PingInterval == 0 || c.WS.PingInterval >= c.ProxyReadTimeout) {
		l.add(loc.Pos,
			fmt.Sprintf("location %q proxies WebSockets with proxy_read_timeout %s: an idle WebSocket is closed after that long with no Close frame", loc.Path, formatDuration(c.ProxyReadTimeout)),
			"proxy_read_timeout 3600s;")
	}
	if why := ambientCredentials(c); why != "" && c.WS.AllowOrigins == nil {
		l.add(loc.Pos,
			fmt.Sprintf("location %q takes WebSocket handshakes from any Origin, and %s: a browser sends them with a handshake that a page on any other site opens, so unless the backend checks Origin itself that page can use this WebSocket in the visitor's name (cross-site WebSocket hijacking)", loc.Path, why),
			"ws_allow_origins https://your.site.example; (or ws_allow_origins *; where any site may connect)")
	}
	return true
}

// ambientCredentials says which credentials a browser attaches to a
// handshake on its own are used at this location, "" when the
// configuration shows none: the client's cookies passed to the backend
// where a proxy_set_header line reads them ($cookie_NAME, $http_cookie),
// or auth_basic. A backend that reads the Cookie header itself is not
// visible here, so a location without these signs gets no warning.
func ambientCredentials(c *LocConf) string {
	if c.AuthBasic != nil {
		return "auth_basic checks it with the Basic credentials the browser keeps"
	}
	if !c.ProxyPassRequestHeaders {
		return ""
	}
	if _, set := header(c, "Cookie"); set {
		return ""
	}
	for _, h := range c.ProxySetHeaders {
		if strings.Contains(h.Value, "$cookie_") || strings.Contains(h.Value, "${cookie_") || strings.Contains(h.Value, "$http_cookie") {
			return fmt.Sprintf("its backend is told who the visitor is from the cookies (proxy_set_header %s %s)", h.Name, h.Value)
		}
	}
	return ""
}

// dropped warns where a level's own proxy_set_header discarded headers
// set at an outer level (nginx's all-or-nothing inheritance, §1.4).
func (l *linter) dropped(pos Pos, where string, c *LocConf) {
	if len(c.SetHeadersDropped) == 0 {
		return
	}
	var names, fix []string
	for _, h := range c.SetHeadersDropped {
		if _, ok := header(c, h.Name); ok {
			continue // set again here
		}
		names = append(names, h.Name)
		fix = append(fix, fmt.Sprintf("proxy_set_header %s %s;", h.Name, quoteArg(h.Value)))
	}
	if len(names) == 0 {
		return
	}
	l.add(pos,
		fmt.Sprintf("%s has its own proxy_set_header, so %s set at an outer level %s not sent from here (proxy_set_header is inherited only by levels with none of their own)",
			where, strings.Join(names, ", "), map[bool]string{true: "is", false: "are"}[len(names) == 1]),
		strings.Join(fix, " "))
}

// droppedAdd warns where a level's own add_header discarded headers
// added at an outer level (ngx_http_headers_merge_conf: the same
// all-or-nothing inheritance as proxy_set_header). The classic case is a
// server-wide Strict-Transport-Security lost in a location that adds a
// Cache-Control.
func (l *linter) droppedAdd(pos Pos, where string, c *LocConf) {
	var names, fix []string
	for _, h := range c.Headers.AddDropped {
		again := false
		for _, o := range c.Headers.Add {
			again = again || strings.EqualFold(o.Name, h.Name)
		}
		if again {
			continue
		}
		names = append(names, h.Name)
		line := "add_header " + h.Name + " " + quoteArg(h.Value)
		if h.Always {
			line += " always"
		}
		fix = append(fix, line+";")
	}
	if len(names) == 0 {
		return
	}
	l.add(pos,
		fmt.Sprintf("%s has its own add_header, so %s added at an outer level %s not sent from here (add_header is inherited only by levels with none of their own)",
			where, strings.Join(names, ", "), map[bool]string{true: "is", false: "are"}[len(names) == 1]),
		strings.Join(fix, " "))
}

// keepalive warns when a location proxies to an upstream with keepalive
// but its requests make the backend close: HTTP/1.0, or nginx's default
// "Connection: close" not cleared (§7.6).
func (l *linter) keepalive(loc *Location) {
	c := &loc.Conf
	if c.ProxyPass.Upstream == "" {
		return
	}
	u := l.upstreams[strings.ToLower(c.ProxyPass.Upstream)]
	if u == nil || u.Keepalive == 0 {
		return
	}
	conn, hasConn := header(c, "Connection")
	cleared := hasConn && (conn == "" || strings.Contains(conn, "$"))
	if c.ProxyHTTPVersion == "1.1" && cleared {
		return
	}
	var fix []string
	if c.ProxyHTTPVersion != "1.1" {
		fix = append(fix, "proxy_http_version 1.1;")
	}
	if !cleared {
		fix = append(fix, `proxy_set_header Connection "";`)
	}
	l.add(loc.Pos,
		fmt.Sprintf("location %q proxies to upstream %q, which has keepalive %d, but sends proxy_http_version %s with \"Connection: %s\": the backend closes every connection and none is reused",
			loc.Path, u.Name, u.Keepalive, c.ProxyHTTPVersion, map[bool]string{true: conn, false: "close"}[hasConn]),
		strings.Join(fix, " "))
}

// quoteArg writes a value as an nginx argument: quoted when it is empty or
// holds spaces, quotes or semicolons.
func quoteArg(v string) string {
	if v == "" || strings.ContainsAny(v, " \t\"';{}") {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
	}
	return v
}
