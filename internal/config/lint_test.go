package config

import (
	"strings"
	"testing"
)

// checkText parses and checks an in-memory configuration, failing the test
// on any error.
func checkText(t *testing.T, text string) *Spec {
	t.Helper()
	ast, errs := parse("test.conf", []byte(text), ParseOptions{})
	if len(errs) > 0 {
		t.Fatalf("parsing: %v", errs)
	}
	s, errs := Check(ast)
	if len(errs) > 0 {
		t.Fatalf("checking: %v", errs)
	}
	return s
}

func TestLint(t *testing.T) {
	const wsOK = `proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; proxy_read_timeout 1h;`
	tests := []struct {
		name       string
		bad, fixed string
		msg        string // substring of the warning that must fire on bad only
		fix        string // substring of its Fix
	}{
		{
			name:  "cookies from any origin",
			bad:   `server { location /ws/ { proxy_pass http://127.0.0.1:8080; proxy_set_header X-User $cookie_session; ` + wsOK + ` } }`,
			fixed: `server { location /ws/ { proxy_pass http://127.0.0.1:8080; proxy_set_header X-User $cookie_session; ` + wsOK + ` ws_allow_origins https://app.example.com; } }`,
			msg:   "cross-site WebSocket hijacking",
			fix:   "ws_allow_origins",
		},
		{
			name:  "cookies cleared",
			bad:   `server { location /ws/ { proxy_pass http://127.0.0.1:8080; proxy_set_header X-User $cookie_session; ` + wsOK + ` } }`,
			fixed: `server { location /ws/ { proxy_pass http://127.0.0.1:8080; proxy_set_header X-User $cookie_session; proxy_set_header Cookie ""; ` + wsOK + ` } }`,
			msg:   "cross-site WebSocket hijacking",
			fix:   "ws_allow_origins",
		},
		{
			name:  "basic credentials from any origin",
			bad:   `server { location /ws/ { proxy_pass http://127.0.0.1:8080; auth_basic "x"; auth_basic_user_file /dev/null; ` + wsOK + ` } }`,
			fixed: `server { location /ws/ { proxy_pass http://127.0.0.1:8080; auth_basic "x"; auth_basic_user_file /dev/null; ` + wsOK + ` ws_allow_origins *; } }`,
			msg:   "cross-site WebSocket hijacking",
			fix:   "ws_allow_origins",
		},
		{
			name:  "idle timeout covered by pings",
			bad:   `server { location /ws/ { proxy_pass http://127.0.0.1:8080; proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; } }`,
			fixed: `server { location /ws/ { proxy_pass http://127.0.0.1:8080; proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; ws_ping_interval 20s; } }`,
			msg:   "proxy_read_timeout 60s",
			fix:   "proxy_read_timeout 3600s",
		},
		{
			name:  "http version",
			bad:   `server { location /ws/ { proxy_pass http://127.0.0.1:8080; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; proxy_read_timeout 1h; } }`,
			fixed: `server { location /ws/ { proxy_pass http://127.0.0.1:8080; ` + wsOK + ` } }`,
			msg:   "with proxy_http_version 1.0",
			fix:   "proxy_http_version 1.1;",
		},
		{
			name:  "upgrade headers (seed's wrong example)",
			bad:   `server { location /ws/ { proxy_pass http://127.0.0.1:8080; proxy_http_version 1.1; proxy_read_timeout 1h; } }`,
			fixed: `server { location /ws/ { proxy_pass http://127.0.0.1:8080; ` + wsOK + ` } }`,
			msg:   "without the Upgrade and Connection headers",
			fix:   "proxy_set_header Upgrade $http_upgrade;",
		},
		{
			name:  "websocket by upstream name",
			bad:   `upstream socket_pool { server 127.0.0.1:1; } server { location /live/ { proxy_pass http://socket_pool; proxy_read_timeout 1h; } }`,
			fixed: `upstream socket_pool { server 127.0.0.1:1; } server { location /live/ { proxy_pass http://socket_pool; ` + wsOK + ` } }`,
			msg:   "without the Upgrade and Connection headers",
			fix:   `proxy_set_header Connection "upgrade";`,
		},
		{
			name: "connection upgrade hard-coded",
			bad:  `server { location / { proxy_pass http://127.0.0.1:3000; ` + wsOK + ` } }`,
			fixed: `map $http_upgrade $connection_upgrade { default upgrade; '' close; }
				server { location / { proxy_pass http://127.0.0.1:3000; proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $connection_upgrade; proxy_read_timeout 1h; } }`,
			msg: `sends "Connection: upgrade" on every request`,
			fix: "map $http_upgrade $connection_upgrade { default upgrade; '' close; }",
		},
		{
			name:  "read timeout",
			bad:   `server { location /ws/ { proxy_pass http://127.0.0.1:8080; proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; proxy_read_timeout 60s; } }`,
			fixed: `server { location /ws/ { proxy_pass http://127.0.0.1:8080; ` + wsOK + ` } }`,
			msg:   "proxy_read_timeout 60s",
			fix:   "proxy_read_timeout 3600s;",
		},
		{
			name:  "http2 listener",
			bad:   `server { listen 443 ssl http2; ssl_certificate c; ssl_certificate_key k; location /ws/ { proxy_pass http://127.0.0.1:8080; ` + wsOK + ` } }`,
			fixed: `server { listen 443 ssl; ssl_certificate c; ssl_certificate_key k; location /ws/ { proxy_pass http://127.0.0.1:8080; ` + wsOK + ` } }`,
			msg:   "has http2 and the server proxies WebSockets",
			fix:   "listen 8443 ssl;",
		},
		{
			name:  "error page to a missing named location",
			bad:   `error_page 502 @fallback; server { location / { proxy_pass http://127.0.0.1:3000; } }`,
			fixed: `error_page 502 @fallback; server { location / { proxy_pass http://127.0.0.1:3000; } location @fallback { return 503; } }`,
			msg:   `names the named location "@fallback", which the server at`,
			fix:   "location @fallback { ... }",
		},
		{
			name:  "dropped headers",
			bad:   `server { proxy_set_header X-Real-IP $remote_addr; location / { proxy_pass http://127.0.0.1:3000; proxy_set_header Host $host; } }`,
			fixed: `server { proxy_set_header X-Real-IP $remote_addr; location / { proxy_pass http://127.0.0.1:3000; proxy_set_header Host $host; proxy_set_header X-Real-IP $remote_addr; } }`,
			msg:   "so X-Real-IP set at an outer level is not sent from here",
			fix:   "proxy_set_header X-Real-IP $remote_addr;",
		},
		{
			name:  "keepalive with http 1.0",
			bad:   `upstream app { server 127.0.0.1:1; keepalive 8; } server { location / { proxy_pass http://app; } }`,
			fixed: `upstream app { server 127.0.0.1:1; keepalive 8; } server { location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; } }`,
			msg:   "which has keepalive 8",
			fix:   `proxy_http_version 1.1; proxy_set_header Connection "";`,
		},
		{
			name:  "keepalive without clearing Connection",
			bad:   `upstream app { server 127.0.0.1:1; keepalive 8; } server { location / { proxy_pass http://app; proxy_http_version 1.1; } }`,
			fixed: `upstream app { server 127.0.0.1:1; keepalive 8; } server { location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; } }`,
			msg:   `with "Connection: close"`,
			fix:   `proxy_set_header Connection "";`,
		},
		{
			name: "connection upgrade hard-coded on /socket.io/, where long polling passes too",
			bad:  `server { location /socket.io/ { proxy_pass http://127.0.0.1:3000; ` + wsOK + ` } }`,
			fixed: `map $http_upgrade $connection_upgrade { default upgrade; '' close; }
				server { location /socket.io/ { proxy_pass http://127.0.0.1:3000; proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $connection_upgrade; proxy_read_timeout 1h; } }`,
			msg: `sends "Connection: upgrade" on every request`,
			fix: "map $http_upgrade $connection_upgrade",
		},
		{
			name:  "ws_lint on: a location the user says carries WebSockets",
			bad:   `server { location /api/ { ws_lint on; proxy_pass http://127.0.0.1:3000; } }`,
			fixed: `server { location /api/ { ws_lint on; proxy_pass http://127.0.0.1:3000; ` + wsOK + ` } }`,
			msg:   "without the Upgrade and Connection headers",
			fix:   "proxy_set_header Upgrade $http_upgrade;",
		},
	}
	find := func(ws []Warning, msg string) *Warning {
		for i := range ws {
			if strings.Contains(ws[i].Msg, msg) {
				return &ws[i]
			}
		}
		return nil
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := Lint(checkText(t, tt.bad))
			w := find(bad, tt.msg)
			if w == nil {
				t.Fatalf("bad config: got warnings %v; want one containing %q", bad, tt.msg)
			}
			if !strings.Contains(w.Fix, tt.fix) {
				t.Errorf("fix: got %q; want it to contain %q", w.Fix, tt.fix)
			}
			if w.Pos.File != "test.conf" || w.Pos.Line != 1 {
				t.Errorf("position: got %v; want test.conf:1", w.Pos)
			}
			if got := find(Lint(checkText(t, tt.fixed)), tt.msg); got != nil {
				t.Errorf("fixed config: got warning %q; want none", got.Msg)
			}
		})
	}
}

// TestLintSeed: the seed tutorial's own config is clean.
func TestLintSeed(t *testing.T) {
	s, errs := Load(goldenDir+"/seed.conf", ParseOptions{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if ws := Lint(s); len(ws) != 0 {
		t.Errorf("got %d warnings on the seed (%v); want 0", len(ws), ws)
	}
}

// TestLintPlainLocations: the WebSocket pitfalls are not reported where no
// WebSocket is expected: names with "ws" or "socket" inside a word, a plain
// location beside a Socket.IO one, and a location the user marked with
// ws_lint off.
func TestLintPlainLocations(t *testing.T) {
	tests := []struct{ name, conf string }{
		{"ws inside a word", `upstream news_app { server 127.0.0.1:1; } server { location /downloads/ { proxy_pass http://news_app; } location /jwst { proxy_pass http://127.0.0.1:2; } }`},
		{"beside a Socket.IO location", `server { location / { proxy_pass http://127.0.0.1:5000; }
			location /socket.io { proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $http_connection; proxy_read_timeout 1h; proxy_pass http://127.0.0.1:5000/socket.io; } }`},
		{"ws_lint off", `server { location /ws/ { ws_lint off; proxy_pass http://127.0.0.1:8080; proxy_set_header Connection "upgrade"; } }`},
		{"a WebSocket-only path may hard-code Connection", `server { location /ws/ { proxy_pass http://127.0.0.1:8080; proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; proxy_read_timeout 1h; } }`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ws := Lint(checkText(t, tt.conf)); len(ws) != 0 {
				t.Errorf("got warnings %v; want none", ws)
			}
		})
	}
}

func TestWSWords(t *testing.T) {
	tests := []struct {
		s              string
		any, dedicated bool
	}{
		{"/ws/", true, true},
		{"/api/websocket", true, true},
		{"websocketserver", true, true},
		{"/cable", true, true},
		{"/wsapp", true, true},
		{"/colibri-ws/default-id/(.*)", true, true},
		{"/wsgi/", false, false},
		{"/socket.io/", true, false},
		{"/sockjs-node", true, false},
		{"/hubs/chat", true, false},
		{"ws_socketio", true, false},
		{"/news/", false, false},
		{"/downloads", false, false},
		{"/", false, false},
	}
	for _, tt := range tests {
		if any, ded := wsWords(tt.s); any != tt.any || ded != tt.dedicated {
			t.Errorf("wsWords(%q): got %v, %v; want %v, %v", tt.s, any, ded, tt.any, tt.dedicated)
		}
	}
}
