package proxy_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"wsgate/internal/proxytest"
)

const wsLogConf = `
log_format ws '$status|$ws_end_reason|$ws_close_code|$ws_close_reason|$ws_messages_in|$ws_messages_out|$ws_subprotocol|$ws_extensions|$ws_ping_rtt|$ws_bytes_in';
server {
    listen {{listen}};
    access_log {{dir}}/ws.log ws;
    location /ws/ {
        proxy_pass http://{{ws}};
        ws_ping_interval 20ms;
        ws_log_interval 20ms;
    }
    location /limited/ {
        proxy_pass http://{{ws}};
        ws_max_message_size 10;
    }
}`

// TestWSSessionLog: the session variables in the access log: "still
// open" lines while a tunnel lasts, with the Pings' round-trip time, and
// the line at its end, for a client's close and for a limit.
func TestWSSessionLog(t *testing.T) {
	ws := proxytest.NewWSEcho(t, proxytest.WSOptions{Subprotocols: []string{"v1"}})
	g := startGate(t, wsLogConf, map[string]string{"ws": ws.Addr})
	logPath := filepath.Join(g.dir, "ws.log")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// waitLine returns the log's lines once one matches re.
	waitLine := func(t *testing.T, re string) []string {
		t.Helper()
		rx := regexp.MustCompile(re)
		for deadline := time.Now().Add(10 * time.Second); ; {
			b, _ := os.ReadFile(logPath)
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			for _, l := range lines {
				if rx.MatchString(l) {
					return lines
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("log:\n%s\nwant a line matching %s", b, re)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	c, _, err := websocket.Dial(ctx, "ws://"+g.addr+"/ws/", &websocket.DialOptions{Subprotocols: []string{"v1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	for _, m := range []string{"one", "two"} {
		c.Write(ctx, websocket.MessageText, []byte(m))
		if _, p, err := c.Read(ctx); err != nil || string(p) != m {
			t.Fatalf("echo of %q: got %q, %v", m, p, err)
		}
	}
	// Reading answers the Pings: an open line with a round-trip time.
	go c.Read(ctx)
	waitLine(t, `^101\|open\|\|\|2\|2\|v1\|\|0\.\d{3}\|\d+$`)
	c.Close(websocket.StatusNormalClosure, "bye")
	waitLine(t, `^101\|close\|1000\|bye\|2\|2\|v1\|\|0\.\d{3}\|\d+$`)

	c2, _, err := websocket.Dial(ctx, "ws://"+g.addr+"/limited/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.CloseNow()
	c2.Write(ctx, websocket.MessageText, []byte("0123456789A"))
	if _, _, err := c2.Read(ctx); websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Fatalf("got %v; want Close 1009", err)
	}
	waitLine(t, `^101\|limit\|1009\|message too big\|0\|0\|\|\|-\|\d+$`)
}
