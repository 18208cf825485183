package proxy_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"wsgate/internal/proxytest"
)

// TestGateAddedVariables sends real requests through the proxy and reads
// the variables wsgate has from nginx 1.22 beside the older ones, where
// they are used: in proxy_set_header (what the backend gets) and in an
// access log line (what the request ended with).
func TestGateAddedVariables(t *testing.T) {
	b := proxytest.NewRecording(t, "HTTP/1.1 200 OK\r\nX-Backend: b1\r\nContent-Length: 5\r\n\r\nhello")
	ws := proxytest.NewRecording(t, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"+
		"Sec-WebSocket-Accept: "+proxytest.AcceptKey("dGhlIHNhbXBsZSBub25jZQ==")+"\r\nX-Backend: ws1\r\n\r\n")
	logPath := filepath.Join(t.TempDir(), "vars.log")
	g := startGate(t, `
log_format v '$uri|$request_id|$pid|$pipe|$binary_remote_addr|$upstream_http_x_backend|$upstream_response_length|$request_body';
access_log `+logPath+` v;
server { listen {{listen}};
  location / {
    proxy_set_header X-Request-ID $request_id;
    proxy_set_header X-Body $request_body;
    proxy_pass http://{{b}};
  }
  location /h11 {
    proxy_http_version 1.1;
    proxy_set_header X-Body $request_body;
    proxy_pass http://{{b}};
  }
  location /ws { proxy_pass http://{{ws}}; }
}`, map[string]string{"b": b.Addr, "ws": ws.Addr})
	pid := strconv.Itoa(os.Getpid())
	hexID := regexp.MustCompile(`^[0-9a-f]{32}$`)

	t.Run("request_id sent and logged, one per request", func(t *testing.T) {
		var ids []string
		for _, path := range []string{"/id1", "/id2"} {
			before := logLines(logPath)
			if r := g.get(path); r.Status != 200 {
				t.Fatalf("got status %d; want 200", r.Status)
			}
			sent := header(ptr(waitOne(t, b)), "X-Request-ID")
			if !hexID.MatchString(sent) {
				t.Fatalf("backend got X-Request-ID %q; want 32 hex digits", sent)
			}
			line := newLogLine(t, logPath, before, path+"|")
			want := path + "|" + sent + "|" + pid + "|.|\\x7F\\x00\\x00\\x01|b1|5|-"
			if line != want {
				t.Errorf("got log line %q; want %q", line, want)
			}
			ids = append(ids, sent)
		}
		if ids[0] == ids[1] {
			t.Errorf("two requests got the same $request_id %s", ids[0])
		}
	})

	t.Run("pipe", func(t *testing.T) {
		before := logLines(logPath)
		c := g.dial()
		c.send("GET /pipe1 HTTP/1.1\nHost: h\n\nGET /pipe2 HTTP/1.1\nHost: h\n\n")
		c.read("GET")
		c.read("GET")
		if line := newLogLine(t, logPath, before, "/pipe1|"); !strings.Contains(line, "|"+pid+"|.|") {
			t.Errorf("first request: got %q; want $pipe \".\"", line)
		}
		if line := newLogLine(t, logPath, before, "/pipe2|"); !strings.Contains(line, "|"+pid+"|p|") {
			t.Errorf("pipelined request: got %q; want $pipe \"p\"", line)
		}
	})

	t.Run("request_body of a body read whole", func(t *testing.T) {
		before := logLines(logPath)
		g.do("POST /body HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n3\nabc\n2\nde\n0\n\n", "POST")
		if got := header(ptr(waitOne(t, b)), "X-Body"); got != "abcde" {
			t.Errorf("backend got X-Body %q; want %q", got, "abcde")
		}
		if line := newLogLine(t, logPath, before, "/body|"); !strings.HasSuffix(line, "|b1|5|abcde") {
			t.Errorf("got log line %q; want $request_body abcde", line)
		}
	})

	t.Run("request_body of a streamed body only after it went", func(t *testing.T) {
		// The head goes before the body: no X-Body; the log line, written
		// after, has the body (16 KiB at most).
		before := logLines(logPath)
		g.do("POST /h11 HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n", "POST")
		if got, ok := ptr(waitOne(t, b)).Get("X-Body"); ok {
			t.Errorf("backend got X-Body %q; want none", got)
		}
		if line := newLogLine(t, logPath, before, "/h11|"); !strings.HasSuffix(line, "|b1|5|abc") {
			t.Errorf("got log line %q; want $request_body \"abc\"", line)
		}
	})

	t.Run("upstream_http of a 101 in the tunnel's line", func(t *testing.T) {
		before := logLines(logPath)
		c := g.dial()
		c.send("GET /ws HTTP/1.1\nHost: h\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Version: 13\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\n\n")
		if r := c.read("GET"); r.Status != 101 {
			t.Fatalf("got status %d; want 101", r.Status)
		}
		c.c.Close()
		if line := newLogLine(t, logPath, before, "/ws|"); !strings.HasSuffix(line, "|ws1|0|-") {
			t.Errorf("got log line %q; want $upstream_http_x_backend ws1", line)
		}
	})
}

// TestGateUpstreamTimesAndBytes checks the per-try variables nginx 1.22
// has beside $upstream_response_time: in add_header, which runs before
// the body is relayed, the response time is "-" and the header time is
// taken (nginx-tests proxy.t); in the log line every one has its value,
// the bytes counting the heads as they went over the wire, and
// $sent_http_NAME the head the client got, a tunnel's 101 too.
func TestGateUpstreamTimesAndBytes(t *testing.T) {
	const answer = "HTTP/1.1 200 OK\r\nX-Backend: b1\r\nContent-Length: 5\r\n\r\nhello"
	b := proxytest.NewRecording(t, answer)
	ws := proxytest.NewRecording(t, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"+
		"Sec-WebSocket-Accept: "+proxytest.AcceptKey("dGhlIHNhbXBsZSBub25jZQ==")+"\r\nX-Backend: ws1\r\n\r\n")
	logPath := filepath.Join(t.TempDir(), "times.log")
	g := startGate(t, `
log_format t '$uri|$upstream_bytes_sent|$upstream_bytes_received|$sent_http_x_backend|$upstream_status|$sent_http_connection';
access_log `+logPath+` t;
server { listen {{listen}};
  location / {
    add_header X-Times "$upstream_header_time|$upstream_response_time";
    proxy_pass http://{{b}};
  }
  location /ws { proxy_pass http://{{ws}}; }
}`, map[string]string{"b": b.Addr, "ws": ws.Addr})
	before := logLines(logPath)
	r := g.get("/t")
	if r.Status != 200 {
		t.Fatalf("got status %d; want 200", r.Status)
	}
	times, _ := r.Get("X-Times")
	if !regexp.MustCompile(`^\d+\.\d{3}\|-$`).MatchString(times) {
		t.Errorf("X-Times %q; want a header time and no response time yet", times)
	}
	sent := len(waitOne(t, b).Raw)
	line := newLogLine(t, logPath, before, "/t|")
	if want := "/t|" + strconv.Itoa(sent) + "|" + strconv.Itoa(len(answer)) + "|b1|200|keep-alive"; line != want {
		t.Errorf("got log line %q; want %q", line, want)
	}

	// A tunnel's line reads the 101's head as it went out.
	before = logLines(logPath)
	c := g.dial()
	c.send("GET /ws HTTP/1.1\nHost: h\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Version: 13\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\n\n")
	if r := c.read("GET"); r.Status != 101 {
		t.Fatalf("got status %d; want 101", r.Status)
	}
	c.c.Close()
	if line := newLogLine(t, logPath, before, "/ws|"); !strings.HasSuffix(line, "|ws1|101|upgrade") {
		t.Errorf("got log line %q; want $sent_http_x_backend ws1 and $sent_http_connection upgrade", line)
	}
}
