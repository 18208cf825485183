package proxy_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// TestGateUpstreamRequest checks the bytes the backend gets: the seed's
// defaults (nginx-semantics §9.2), proxy_set_header with variables, map
// results, empty values and inheritance.
func TestGateUpstreamRequest(t *testing.T) {
	b := proxytest.NewRecording(t, "")
	g := startGate(t, `
map $http_upgrade $conn_upgrade { default upgrade; "" close; }
proxy_set_header X-Http http;
server { listen {{listen}};
  location / { proxy_pass http://{{b}}; }
  location /vars/ {
    proxy_set_header X-Real-IP $remote_addr;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_set_header X-Host $host;
    proxy_set_header X-Map $conn_upgrade;
    proxy_set_header X-Empty $http_nothing;
    proxy_set_header Accept "";
    proxy_set_header X-Args $args;
    proxy_pass http://{{b}}/v/;
  }
  location /inh/ { proxy_set_header X-Own own;
    location /inh/in/ { proxy_pass http://{{b}}; } }
}`, map[string]string{"b": b.Addr})

	tests := []struct{ name, req, want string }{
		{"seed GET", "GET / HTTP/1.1\nHost: example.com\nConnection: keep-alive\nUser-Agent: Mozilla/5.0 test\nAccept: text/html\nAccept-Encoding: gzip, deflate, br\nKeep-Alive: 300\nTE: trailers\nProxy-Connection: keep-alive\nX-Forwarded-For: 192.0.2.1\nUpgrade: h2c\nX-Hop: 1\n\n",
			"GET / HTTP/1.0\nX-Http: http\nHost: {{b}}\nConnection: close\nUser-Agent: Mozilla/5.0 test\nAccept: text/html\nAccept-Encoding: gzip, deflate, br\nProxy-Connection: keep-alive\nX-Forwarded-For: 192.0.2.1\nX-Hop: 1"},
		{"seed POST", "POST /p%2Fq/../r?a=%2F HTTP/1.0\nExpect: 100-continue\nContent-Length: 3\n\nabc",
			"POST /p%2Fq/../r?a=%2F HTTP/1.0\nX-Http: http\nHost: {{b}}\nConnection: close\nContent-Length: 3"},
		{"variables", "GET /vars/x?q=1 HTTP/1.1\nHost: Ex.COM:81\nX-Forwarded-For: 10.0.0.1\nAccept: a\nUpgrade: h2c\nConnection: upgrade\nX-After: 1\n\n",
			"GET /v/x?q=1 HTTP/1.0\nX-Real-IP: 127.0.0.1\nX-Forwarded-For: 10.0.0.1, 127.0.0.1\nX-Forwarded-Proto: http\nX-Host: ex.com\nX-Map: upgrade\nX-Args: q=1\nHost: {{b}}\nConnection: close\nX-After: 1"},
		{"map default and no XFF", "GET /vars/y HTTP/1.1\nHost: h\n\n",
			"GET /v/y HTTP/1.0\nX-Real-IP: 127.0.0.1\nX-Forwarded-For: 127.0.0.1\nX-Forwarded-Proto: http\nX-Host: h\nX-Map: close\nHost: {{b}}\nConnection: close"},
		{"inheritance", "GET /inh/in/z HTTP/1.1\nHost: h\n\n",
			"GET /inh/in/z HTTP/1.0\nX-Own: own\nHost: {{b}}\nConnection: close"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b.Reset()
			method := strings.Fields(tt.req)[0]
			if r := g.do(tt.req, method); r.Status != 200 {
				t.Fatalf("got status %d; want 200", r.Status)
			}
			got := waitOne(t, b)
			want := strings.ReplaceAll(tt.want, "{{b}}", b.Addr)
			if got.HeadText() != want {
				t.Errorf("backend got\n%s\nwant\n%s", got.HeadText(), want)
			}
		})
	}
}

// TestGateKeepalivePool checks upstream keepalive (nginx-semantics §7.6):
// connections are reused with "keepalive N", HTTP/1.1 and Connection "",
// not reused otherwise, and dropped after the pool's keepalive_timeout.
func TestGateKeepalivePool(t *testing.T) {
	pooled := proxytest.NewRecording(t, "")
	plain := proxytest.NewRecording(t, "")
	g := startGate(t, `
upstream pool { server {{pooled}}; keepalive 4; keepalive_timeout 1s; }
upstream nopool { server {{plain}}; keepalive 4; }
server { listen {{listen}};
  location /pool/ { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://pool; }
  location /nopool/ { proxy_pass http://nopool; }
}`, map[string]string{"pooled": pooled.Addr, "plain": plain.Addr})

	for i := 0; i < 5; i++ {
		if r := g.get("/pool/a"); r.Status != 200 {
			t.Fatalf("got status %d; want 200", r.Status)
		}
		if r := g.get("/nopool/a"); r.Status != 200 {
			t.Fatalf("got status %d; want 200", r.Status)
		}
	}
	if n := pooled.Accepted(); n != 1 {
		t.Errorf("pooled backend accepted %d connections for 5 requests; want 1", n)
	}
	if n := plain.Accepted(); n != 5 {
		t.Errorf("backend without HTTP/1.1 accepted %d connections for 5 requests; want 5", n)
	}
	reqs := pooled.Requests()
	if len(reqs) != 5 || reqs[4].Seq != 5 || header(&reqs[0], "Connection") != "" || !strings.HasSuffix(reqs[0].Line, "HTTP/1.1") {
		t.Errorf("got requests %+v; want 5 HTTP/1.1 requests on one connection without Connection", reqs)
	}
	// After the pool's keepalive_timeout the idle connection is closed.
	if !proxytest.Poll(5*time.Second, func() bool { return pooled.Open() == 0 }) {
		t.Errorf("got %d open idle upstream connections after keepalive_timeout; want 0", pooled.Open())
	}
	g.get("/pool/b")
	if n := pooled.Accepted(); n != 2 {
		t.Errorf("got %d connections after the idle one expired; want 2", n)
	}
}

// named returns a recording backend answering with its name in X-Name.
func named(t *testing.T, name string) *proxytest.Backend {
	return proxytest.NewRecording(t, "HTTP/1.1 200 OK\r\nX-Name: "+name+"\r\nContent-Length: 0\r\n\r\n")
}

// refusedAddr is a loopback address nobody listens on.
func refusedAddr(t *testing.T) string { return proxytest.FreeAddr(t) }

// TestGateBalancing checks round robin, backup, max_fails and
// proxy_next_upstream through the proxy (nginx-semantics §4, §7.2).
func TestGateBalancing(t *testing.T) {
	a, bb, c, bk := named(t, "a"), named(t, "b"), named(t, "c"), named(t, "backup")
	e502 := proxytest.NewRecording(t, "HTTP/1.1 502 Bad Gateway\r\nX-Name: e502\r\nContent-Length: 0\r\n\r\n")
	cut := proxytest.NewAbrupt(t, proxytest.CloseAfterRequest)
	silent := proxytest.NewSilent(t)
	garbage := proxytest.NewRecording(t, "HTTP/1.1 200 OK\r\nBad Header\r\n\r\n")
	down, down2 := refusedAddr(t), refusedAddr(t)
	logPath := filepath.Join(t.TempDir(), "access.log")
	g := startGate(t, `
log_format up '$request_uri $status $upstream_addr|$upstream_status|$upstream_response_time|$request_time';
access_log `+logPath+` up;
upstream weighted { server {{a}} weight=5; server {{b}}; server {{c}}; }
upstream withbackup { server {{down}}; server {{bk}} backup; }
upstream failing { server {{down}} max_fails=1 fail_timeout=30s; server {{a}}; }
upstream h502 { server {{e502}}; server {{b}}; }
upstream h502off { server {{e502}}; server {{b}}; }
upstream cut { server {{cut}}; server {{c}}; }
upstream cutpost { server {{cut}}; server {{c}}; }
upstream cut1 { server {{cut}}; server {{c}}; }
upstream onlydown { server {{down}}; server {{down2}}; }
upstream slow { server {{silent}}; }
upstream bad { server {{garbage}}; }
server { listen {{listen}};
  location /w { proxy_pass http://weighted; }
  location /backup { proxy_pass http://withbackup; }
  location /failing { proxy_pass http://failing; }
  location /h502 { proxy_next_upstream error timeout http_502; proxy_pass http://h502; }
  location /h502off { proxy_pass http://h502off; }
  location /cut { proxy_pass http://cut; }
  location /cutpost { proxy_pass http://cutpost; }
  location /cut1 { proxy_next_upstream_tries 1; proxy_pass http://cut1; }
  location /nolive { proxy_pass http://onlydown; }
  location /refused { proxy_pass http://{{down}}; }
  location /slow { proxy_read_timeout 300ms; proxy_pass http://slow; }
  location /bad { proxy_pass http://bad; }
}`, map[string]string{"a": a.Addr, "b": bb.Addr, "c": c.Addr, "bk": bk.Addr, "e502": e502.Addr,
		"cut": cut.Addr, "silent": silent.Addr, "garbage": garbage.Addr, "down": down, "down2": down2})

	t.Run("weighted round robin", func(t *testing.T) {
		var got []string
		for i := 0; i < 14; i++ {
			r := g.get("/w")
			v, _ := r.Get("X-Name")
			got = append(got, v)
		}
		want := "a a b a c a a a a b a c a a"
		if strings.Join(got, " ") != want {
			t.Errorf("got sequence %s; want %s", strings.Join(got, " "), want)
		}
	})

	tests := []struct {
		name, method, path string
		status             int
		name_              string // X-Name of the answer, "" for none
		log                string // the access log line's tail after the URI
	}{
		{"backup when primary refuses", "GET", "/backup", 200, "backup", "200 " + down + ", " + bk.Addr + "|502, 200|"},
		{"failed peer retried then skipped", "GET", "/failing", 200, "a", "200 " + down + ", " + a.Addr + "|502, 200|"},
		{"failed peer stays skipped", "GET", "/failing", 200, "a", "200 " + a.Addr + "|200|"},
		{"http_502 retried", "GET", "/h502", 200, "b", "200 " + e502.Addr + ", " + bb.Addr + "|502, 200|"},
		{"502 relayed without http_502", "GET", "/h502off", 502, "e502", "502 " + e502.Addr + "|502|"},
		{"premature close retried", "GET", "/cut", 200, "c", "200 " + cut.Addr + ", " + c.Addr + "|502, 200|"},
		{"POST not retried once sent", "POST", "/cutpost", 502, "", "502 " + cut.Addr + "|502|"},
		{"tries 1", "GET", "/cut1", 502, "", "502 " + cut.Addr + "|502|"},
		{"no live upstreams", "GET", "/nolive", 502, "", "502 " + down + ", " + down2 + "|502, 502|"},
		{"no live after failures", "GET", "/nolive", 502, "", "502 onlydown|502|"},
		{"refused", "GET", "/refused", 502, "", "502 " + down + "|502|"},
		{"read timeout", "GET", "/slow", 504, "", "504 " + silent.Addr + "|504|"},
		{"invalid header", "GET", "/bad", 502, "", "502 " + garbage.Addr + "|502|"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.method + " " + tt.path + " HTTP/1.1\nHost: h\n"
			if tt.method == "POST" {
				req += "Content-Length: 2\n\nhi"
			} else {
				req += "\n"
			}
			before := logLines(logPath)
			r := g.do(req, tt.method)
			if r.Status != tt.status {
				t.Fatalf("got status %d; want %d", r.Status, tt.status)
			}
			if v, _ := r.Get("X-Name"); v != tt.name_ {
				t.Errorf("got answer from %q; want %q", v, tt.name_)
			}
			if tt.status >= 500 && tt.name_ == "" && !strings.Contains(string(r.Body), "<center><h1>"+r.StatusLine[9:]+"</h1></center>") {
				t.Errorf("got body %q; want nginx's error page", r.Body)
			}
			line := newLogLine(t, logPath, before, tt.path+" ")
			if !strings.HasPrefix(line, tt.path+" "+tt.log) {
				t.Errorf("got log line %q; want prefix %q", line, tt.path+" "+tt.log)
			}
		})
	}
}

// logLines returns the number of lines in the log at path.
func logLines(path string) int {
	data, _ := os.ReadFile(path)
	return strings.Count(string(data), "\n")
}

// newLogLine waits for a line after the first n lines of the log at path
// that starts with prefix, and returns the first such line: the line of a
// request is written after its response, so the client can see the
// response before the line exists.
func newLogLine(t *testing.T, path string, n int, prefix string) string {
	t.Helper()
	var got []string
	var found string
	if proxytest.Poll(5*time.Second, func() bool {
		data, _ := os.ReadFile(path)
		lines := strings.SplitAfter(string(data), "\n")
		if len(lines) > n {
			got = lines[n:]
		}
		for _, l := range got {
			if strings.HasPrefix(l, prefix) && strings.HasSuffix(l, "\n") {
				found = strings.TrimSuffix(l, "\n")
				return true
			}
		}
		return false
	}) {
		return found
	}
	t.Errorf("no line starting with %q after line %d of the log; new lines: %q", prefix, n, got)
	return ""
}

// lastLogLine waits for the access log's last line that starts with
// prefix.
func lastLogLine(t *testing.T, path, prefix string) string {
	t.Helper()
	var last string
	proxytest.Poll(2*time.Second, func() bool {
		data, _ := os.ReadFile(path)
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		last = lines[len(lines)-1]
		return strings.HasPrefix(last, prefix)
	})
	return last
}

// TestGateAccessLog checks the combined format and a client that gives up
// while the upstream is thinking: 499, nothing sent (nginx-semantics §4.1).
func TestGateAccessLog(t *testing.T) {
	slow := proxytest.NewSlow(t, 3*time.Second, "")
	b := proxytest.NewRecording(t, "")
	dir := t.TempDir()
	combined := filepath.Join(dir, "combined.log")
	custom := filepath.Join(dir, "custom.log")
	g := startGate(t, `
log_format mine '$remote_addr "$request" $status $body_bytes_sent $upstream_addr $upstream_status $request_method $uri $args';
server { listen {{listen}};
  access_log `+combined+`;
  access_log `+custom+` mine;
  location / { proxy_pass http://{{b}}; }
  location /slow { proxy_pass http://{{slow}}; }
}`, map[string]string{"b": b.Addr, "slow": slow.Addr})

	g.do("GET /a?x=1 HTTP/1.1\nHost: h\nReferer: http://r/\nUser-Agent: ua 1\n\n", "GET")
	line := lastLogLine(t, combined, "127.0.0.1 ")
	// 127.0.0.1 - - [27/Nov/2026:04:18:25 +0000] "GET /a?x=1 HTTP/1.1" 200 6 "http://r/" "ua 1"
	if !strings.HasPrefix(line, "127.0.0.1 - - [") || !strings.HasSuffix(line, `] "GET /a?x=1 HTTP/1.1" 200 6 "http://r/" "ua 1"`) {
		t.Errorf("got combined line %q; want nginx's combined format", line)
	}
	want := `127.0.0.1 "GET /a?x=1 HTTP/1.1" 200 6 ` + b.Addr + ` 200 GET /a x=1`
	if line := lastLogLine(t, custom, "127.0.0.1 "); line != want {
		t.Errorf("got custom line %q; want %q", line, want)
	}

	c := g.dial()
	c.send("GET /slow HTTP/1.1\nHost: h\n\n")
	if !slow.WaitAccepted(1, 5*time.Second) {
		t.Fatal("slow backend got no connection")
	}
	slow.WaitRequests(1, 5*time.Second)
	c.c.Close()
	line = lastLogLine(t, custom, `127.0.0.1 "GET /slow`)
	if want := `127.0.0.1 "GET /slow HTTP/1.1" 499 0 ` + slow.Addr + ` - GET /slow -`; line != want {
		t.Errorf("got %q; want %q", line, want)
	}
}
