package proxy_test

import (
	"bufio"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wsgate/internal/netpoll"
	"wsgate/internal/proxytest"
)

// TestGateUnixUpstreams: UNIX-domain sockets as nginx has them, on both
// sides. Upstream "server unix:" lines are balanced and their connections
// kept alive; "proxy_pass http://unix:/path:/uri" sends the URI part and
// "Host: localhost" ($proxy_host), $proxy_port being empty (so a header
// set to it is not sent); a client on
// "listen unix:" has $remote_addr "unix:", no $remote_port, and is what
// "deny unix:" refuses and "set_real_ip_from unix:" trusts; a proxy_pass with variables may name a socket
// too; $upstream_addr names the socket "unix:/path".
func TestGateUnixUpstreams(t *testing.T) {
	dir := t.TempDir()
	a, b := named(t, "a"), named(t, "b")
	aSock := a.ListenUnix(t, filepath.Join(dir, "a.sock"))
	bSock := b.ListenUnix(t, filepath.Join(dir, "b.sock"))
	rec := proxytest.NewRecording(t, "")
	recSock := rec.ListenUnix(t, filepath.Join(dir, "rec.sock"))
	front := filepath.Join(dir, "front.sock")
	logPath := filepath.Join(dir, "access.log")
	g := startGate(t, `
log_format u '$uri|$remote_addr|$remote_port|$server_addr|$server_port|$upstream_addr|$proxy_host|$proxy_port|';
access_log `+logPath+` u;
upstream two { server {{a}}; server {{b}}; keepalive 2; }
server { listen {{listen}}; listen unix:{{front}};
  location /two/ { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://two; }
  location /uri/ { proxy_pass http://{{rec}}:/x/; }
  location /vars/ { proxy_set_header X-Host $proxy_host; proxy_set_header X-Port $proxy_port; proxy_pass http://{{rec}}; }
  location /deny/ { deny unix:; proxy_pass http://{{rec}}; }
  location /realip/ { set_real_ip_from unix:; deny unix:; proxy_set_header X-Client $remote_addr; proxy_pass http://{{rec}}; }
  location /evaluated/ { set $sock {{recpath}}; proxy_pass http://unix:$sock:/e$uri; }
}`, map[string]string{"a": aSock, "b": bSock, "rec": recSock, "recpath": strings.TrimPrefix(recSock, "unix:"), "front": front})

	unixGet := func(path string) *proxytest.Response {
		t.Helper()
		c, err := net.Dial("unix", front)
		if err != nil {
			t.Fatalf("dialing wsgate's unix socket: %v", err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: h\r\nX-Real-IP: 192.0.2.7\r\nConnection: close\r\n\r\n")
		r, err := proxytest.ReadResponse(bufio.NewReader(c), "GET")
		if err != nil {
			t.Fatalf("reading response: %v", err)
		}
		return r
	}

	// Round robin over the two sockets, one kept-alive connection each.
	var names []string
	for range 4 {
		r := g.get("/two/")
		v, _ := r.Get("X-Name")
		names = append(names, v)
	}
	if got := strings.Join(names, ","); got != "a,b,a,b" {
		t.Errorf("got backends %s; want a,b,a,b", got)
	}
	if a.Accepted() != 1 || b.Accepted() != 1 {
		t.Errorf("got %d and %d connections to the sockets for 4 requests; want 1 and 1 (keepalive)", a.Accepted(), b.Accepted())
	}

	tests := []struct {
		name, path string
		unix       bool
		status     int
		head       string // the backend's request line and Host, when it gets one
	}{
		{"uri part", "/uri/q?a=1", false, 200, "GET /x/q?a=1 HTTP/1.0\nHost: localhost"},
		{"proxy host and port", "/vars/", false, 200, "GET /vars/ HTTP/1.0\nX-Host: localhost\nHost: localhost"},
		{"unix client", "/vars/u", true, 200, "GET /vars/u HTTP/1.0\nX-Host: localhost\nHost: localhost"},
		{"variables", "/evaluated/z", false, 200, "GET /e/evaluated/z HTTP/1.0\nHost: localhost"},
		{"deny unix: on tcp", "/deny/", false, 200, "GET /deny/ HTTP/1.0\nHost: localhost"},
		{"deny unix: on unix", "/deny/", true, 403, ""},
		// set_real_ip_from unix: trusts the socket's clients: X-Real-IP
		// gives the address, which "deny unix:" then does not match.
		{"realip on unix", "/realip/", true, 200, "GET /realip/ HTTP/1.0\nX-Client: 192.0.2.7\nHost: localhost"},
		{"realip on tcp", "/realip/", false, 200, "GET /realip/ HTTP/1.0\nX-Client: 127.0.0.1\nHost: localhost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec.Reset()
			var r *proxytest.Response
			if tt.unix {
				r = unixGet(tt.path)
			} else {
				r = g.get(tt.path)
			}
			if r.Status != tt.status {
				t.Fatalf("got status %d; want %d", r.Status, tt.status)
			}
			if tt.head == "" {
				return
			}
			got := waitOne(t, rec)
			lines := strings.SplitN(got.HeadText(), "\nConnection:", 2)[0]
			if lines != tt.head {
				t.Errorf("backend got\n%s\nwant\n%s", lines, tt.head)
			}
		})
	}

	var log string
	proxytest.Eventually(t, 5*time.Second, func() bool {
		b, _ := os.ReadFile(logPath)
		log = string(b)
		return strings.Count(log, "\n") == 12
	}, "access log lines")
	for _, want := range []string{
		"/two/|127.0.0.1|",
		"|" + aSock + "|two|80|",
		"/vars/u|unix:||unix:" + front + "||" + recSock + "|localhost||",
		"/deny/|unix:||unix:" + front + "||-|",
		"/evaluated/z|127.0.0.1|",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("access log\n%s\nhas no %q", log, want)
		}
	}
}

// TestGateUnixTunnels: WebSockets from a client on "listen unix:" to a
// backend on "server unix:", through the event loops: the idle tunnel's
// two directions are parked, and messages still pass both ways after.
func TestGateUnixTunnels(t *testing.T) {
	if !netpoll.Supported {
		t.Skip("no event loop on this system: tunnels keep their goroutines")
	}
	dir := t.TempDir()
	be := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	sock := be.ListenUnix(t, filepath.Join(dir, "ws.sock"))
	front := filepath.Join(dir, "front.sock")
	g := startGate(t, `
upstream ws { least_conn; server {{b}}; }
server { listen {{listen}}; listen unix:{{front}};
  location / {
    proxy_pass http://ws;
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection "upgrade";
  }
}`, map[string]string{"b": sock, "front": front})
	c, err := net.Dial("unix", front)
	if err != nil {
		t.Fatalf("dialing wsgate's unix socket: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	br := upgradeWS(t, c)
	echo := func(payload byte) {
		t.Helper()
		if _, err := c.Write([]byte{0x81, 0x81, 1, 2, 3, 4, payload ^ 1}); err != nil {
			t.Fatalf("writing message: %v", err)
		}
		var f [3]byte
		if _, err := io.ReadFull(br, f[:]); err != nil || f != [3]byte{0x81, 1, payload} {
			t.Fatalf("got % x, %v; want 81 01 %02x", f, err, payload)
		}
	}
	echo('a')
	reg := g.srv.Tunnels()
	if !proxytest.Poll(10*time.Second, func() bool { return reg.Parked() == 2 }) {
		t.Fatalf("got %d parked directions; want 2", reg.Parked())
	}
	echo('b')
	if msgs := be.Messages(); len(msgs) != 2 || string(msgs[1]) != "b" {
		t.Errorf("backend got messages %q; want a, b", msgs)
	}
}
