package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"wsgate/internal/proxytest"
	"wsgate/internal/proxytest/gatetest"
)

// checkConf is the configuration of TestOneCheck: http and location
// lines are added to a server that starts as it is.
func checkConf(listen, http, server, loc string) string {
	return fmt.Sprintf(`error_log stderr;
events {}
http {
    access_log off;
%s
    server {
        listen %s;
%s
        location / {
%s
            proxy_pass http://127.0.0.1:9;
        }
    }
}
`, http, listen, server, loc)
}

// emergLines returns the "[emerg]" lines of out without the prefix, sorted.
func emergLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if s, ok := strings.CutPrefix(l, "wsgate: [emerg] "); ok {
			lines = append(lines, s)
		}
	}
	slices.Sort(lines)
	return lines
}

// TestOneCheck runs each bad configuration through -t, a start and a
// reload of a running wsgate, and wants the same errors from all three,
// each at file:line:col: a configuration that -t accepts starts, and one
// it rejects neither starts nor replaces a running one.
func TestOneCheck(t *testing.T) {
	tests := []struct {
		desc           string
		http, srv, loc string
		at             string // the error is at this text's first place in the file
		msg            string
		// noReload: a main-context problem the process meets before the
		// configuration proper; a reload keeps the error log it has.
		noReload bool
	}{
		{desc: "proxy_set_header", loc: "            proxy_set_header X-A $bogus_var;",
			at: "proxy_set_header X-A", msg: `proxy_set_header X-A: unknown "bogus_var" variable`},
		{desc: "proxy_set_header inherited by a location", srv: "        proxy_set_header X-A $bogus_var;",
			at: "proxy_set_header X-A", msg: `proxy_set_header X-A: unknown "bogus_var" variable`},
		{desc: "return", loc: "            return 200 \"id $bogus_var\";",
			at: "return 200", msg: `return: unknown "bogus_var" variable`},
		{desc: "proxy_pass", srv: "        location /p/ { proxy_pass http://$bogus_host:8080; }",
			at: "proxy_pass http://$bogus_host", msg: `proxy_pass: unknown "bogus_host" variable`},
		{desc: "access_log if=", loc: "            access_log stderr combined if=$bogus_var;",
			at: "access_log stderr", msg: `access_log if=: unknown "bogus_var" variable`},
		{desc: "unused log_format", http: "    log_format unused '$remote_addr $bogus_var';",
			at: "log_format unused", msg: `log_format "unused": unknown "bogus_var" variable`},
		{desc: "map value", http: "    map $http_x $m {\n        default $bogus_var;\n        a 1;\n    }",
			at: "map $http_x", msg: `compiling map value "$bogus_var": unknown "bogus_var" variable`},
		{desc: "map source", http: "    map $bogus_src $m {\n        default 0;\n    }",
			at: "map $bogus_src", msg: `compiling map source "$bogus_src": unknown "bogus_src" variable`},
		{desc: "proxy_redirect", loc: "            proxy_redirect http://a/ http://$bogus_var/;",
			at: "proxy_redirect", msg: `proxy_redirect: unknown "bogus_var" variable`},
		{desc: "hash key of an unused upstream", http: "    upstream u {\n        hash $bogus_var;\n        server 127.0.0.1:9;\n    }",
			at: "upstream u", msg: `hash: unknown "bogus_var" variable`},
		{desc: "certificate", srv: "        listen 127.0.0.1:1 ssl;\n        ssl_certificate missing.pem;\n        ssl_certificate_key missing.key;",
			at: "listen 127.0.0.1:1 ssl", msg: `loading certificate "missing.pem"`},
		{desc: "new variables are known; an unknown one is not", loc: "            proxy_set_header X-Id \"$request_id $pid $pipe $binary_remote_addr $request_body $upstream_http_x $upstream_response_length $bogus_var\";",
			at: "proxy_set_header X-Id", msg: `proxy_set_header X-Id: unknown "bogus_var" variable`},
		{desc: "try_files beside proxy_pass", loc: "            try_files $uri/$bogus_var =404;",
			at: "try_files $uri", msg: `try_files "$uri/$bogus_var": unknown "bogus_var" variable`},
		{desc: "root with an unknown variable", srv: "        location /f/ { root /srv/$bogus_var; }",
			at: "root /srv/$bogus_var", msg: `root "/srv/$bogus_var": unknown "bogus_var" variable`},
		{desc: "error_log that cannot be opened", http: "error_log /nonexistent/dir/error.log;",
			msg: `opening error log: open /nonexistent/dir/error.log`, noReload: true},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if tt.noReload {
				dir := t.TempDir()
				conf := filepath.Join(dir, "nginx.conf")
				os.WriteFile(conf, []byte(tt.http+"\n"+checkConf(proxytest.FreeAddr(t), "", "", "")), 0o644)
				code, _, testOut := runArgs(t, "-t", "-c", conf)
				_, _, startOut := runArgs(t, "-c", conf)
				if code != 1 || !strings.Contains(testOut, tt.msg) || !slices.Equal(emergLines(testOut), emergLines(startOut)) {
					t.Errorf("-t: got exit %d; want 1 and %q, as start says\n-t:\n%s\nstart:\n%s", code, tt.msg, testOut, startOut)
				}
				return
			}
			// A running wsgate with the good configuration.
			g := gatetest.Start(t, checkConf("{{listen}}", "", "", ""), gatetest.Options{})
			conf := g.Conf
			text := checkConf(g.Addr, tt.http, tt.srv, tt.loc)
			i := strings.Index(text, tt.at)
			if i < 0 {
				t.Fatalf("%q is not in the configuration", tt.at)
			}
			line := strings.Count(text[:i], "\n") + 1
			col := i - strings.LastIndex(text[:i], "\n")
			want := fmt.Sprintf("%s:%d:%d: %s", conf, line, col, tt.msg)

			g.Write(text)
			code, _, testOut := runArgs(t, "-t", "-c", conf)
			if code != 1 || !strings.Contains(testOut, "test failed") {
				t.Errorf("-t: got exit %d; want 1 and \"test failed\"\n%s", code, testOut)
			}
			code, _, startOut := runArgs(t, "-c", conf)
			if code != 1 {
				t.Errorf("start: got exit %d; want 1\n%s", code, startOut)
			}
			var reloadOut strings.Builder
			if err := g.Server.Reload(); err == nil {
				t.Errorf("reload: got no error")
			} else {
				for _, l := range strings.Split(err.Error(), "\n") {
					if !strings.HasPrefix(l, "\t") {
						fmt.Fprintf(&reloadOut, "wsgate: [emerg] %s\n", l)
					}
				}
			}

			byTest := emergLines(testOut)
			found := false
			for _, l := range byTest {
				found = found || strings.HasPrefix(l, want)
			}
			if !found {
				t.Errorf("-t does not report %q; got:\n%s", want, testOut)
			}
			if got := emergLines(startOut); !slices.Equal(got, byTest) {
				t.Errorf("start reports\n%q\n-t reports\n%q", got, byTest)
			}
			if got := emergLines(reloadOut.String()); !slices.Equal(got, byTest) {
				t.Errorf("reload reports\n%q\n-t reports\n%q", got, byTest)
			}
		})
	}
}
