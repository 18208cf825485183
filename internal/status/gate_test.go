package status_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"wsgate/internal/proxytest"
	"wsgate/internal/proxytest/gatetest"
	"wsgate/internal/status"
)

const statusConf = `
access_log off;
upstream echo { server %s; }
server {
	listen {{listen}};
	location /ws/ { proxy_pass http://echo; }
	location /status { ws_status; }
}`

func get(t *testing.T, addr, path string) *proxytest.Response {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", path)
	r, err := proxytest.ReadResponse(bufio.NewReader(c), "GET")
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return r
}

// TestStatusFeed: the location serves the page, and its WebSocket, which
// wsgate answers itself, sends views in which a tunnel opened through
// wsgate appears with its messages, then goes when it closes; a stop
// sends Close 1001.
func TestStatusFeed(t *testing.T) {
	echo := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	g := gatetest.Start(t, gatetest.HTTP(fmt.Sprintf(statusConf, echo.Addr)), gatetest.Options{Graceful: true})

	r := get(t, g.Addr, "/status")
	if ct, _ := r.Get("Content-Type"); r.Status != 200 || ct != "text/html; charset=utf-8" || !strings.Contains(string(r.Body), "<title>wsgate status</title>") {
		t.Fatalf("the page: status %d, Content-Type %q, body %.100q", r.Status, ct, r.Body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	feed, resp, err := websocket.Dial(ctx, "ws://"+g.Addr+"/status", nil)
	if err != nil {
		t.Fatalf("dialing the feed: %v", err)
	}
	if s := resp.Header.Get("Server"); !strings.HasPrefix(s, "wsgate") {
		t.Errorf("the feed's 101 came from %q; want wsgate itself", s)
	}
	if got := len(echo.Requests()); got != 0 {
		t.Errorf("the backend saw %d requests; want none for the feed", got)
	}
	next := func() status.View {
		t.Helper()
		_, p, err := feed.Read(ctx)
		if err != nil {
			t.Fatalf("reading a view: %v", err)
		}
		var v status.View
		if err := json.Unmarshal(p, &v); err != nil {
			t.Fatalf("decoding a view: %v\n%s", err, p)
		}
		return v
	}
	v := next()
	if len(v.Upstreams) != 1 || v.Upstreams[0].Peer != echo.Addr || v.Upstreams[0].State != "up" || v.Open != 0 {
		t.Fatalf("first view: %+v; want echo's one peer, up, no tunnel", v)
	}

	c, _, err := websocket.Dial(ctx, "ws://"+g.Addr+"/ws/chat?token=secret", nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		c.Write(ctx, websocket.MessageText, []byte("hello"))
		c.Read(ctx)
	}
	var seen status.Tunnel
	for range 20 {
		v = next()
		if len(v.Tunnels) == 1 && v.Tunnels[0].MsgIn == 3 && v.Tunnels[0].MsgOut == 3 {
			seen = v.Tunnels[0]
			break
		}
	}
	want := status.Tunnel{Location: "location /ws/", Upstream: "echo", Peer: echo.Addr, Path: "/ws/chat", WS: true, MsgIn: 3, MsgOut: 3, BytesIn: 15, BytesOut: 15}
	seen.Client, seen.Age, seen.Server = "", 0, ""
	if seen != want {
		t.Fatalf("the tunnel in the view: got %+v; want %+v", seen, want)
	}
	if p := v.Upstreams[0]; p.Tunnels != 1 || p.Active != 1 {
		t.Errorf("the peer with a tunnel: %+v; want 1 tunnel, load 1", p)
	}
	c.Close(websocket.StatusNormalClosure, "")
	for range 20 {
		if v = next(); v.Open == 0 {
			break
		}
	}
	if v.Open != 0 || len(v.Tunnels) != 0 {
		t.Errorf("after the tunnel closed: %+v; want none open", v)
	}

	go g.Stop()
	for {
		if _, _, err = feed.Read(ctx); err != nil {
			break
		}
	}
	if got := websocket.CloseStatus(err); got != websocket.StatusGoingAway {
		t.Errorf("on stop: got %v (%v); want Close 1001", got, err)
	}
}

// TestStatusPingRTT: a tunnel whose location has wsgate ping both sides
// shows the round-trip times of their latest answers in the view.
func TestStatusPingRTT(t *testing.T) {
	echo := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	conf := strings.Replace(fmt.Sprintf(statusConf, echo.Addr), "proxy_pass http://echo;", "proxy_pass http://echo; ws_ping_interval 50ms both;", 1)
	g := gatetest.Start(t, gatetest.HTTP(conf), gatetest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	feed, _, err := websocket.Dial(ctx, "ws://"+g.Addr+"/status", nil)
	if err != nil {
		t.Fatalf("dialing the feed: %v", err)
	}
	defer feed.CloseNow()
	c, _, err := websocket.Dial(ctx, "ws://"+g.Addr+"/ws/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.CloseRead(ctx) // reads, and so answers wsgate's Pings
	var last status.View
	for range 30 {
		_, p, err := feed.Read(ctx)
		if err != nil {
			t.Fatalf("reading a view: %v", err)
		}
		if err := json.Unmarshal(p, &last); err != nil {
			t.Fatalf("decoding a view: %v\n%s", err, p)
		}
		if len(last.Tunnels) == 1 && last.Tunnels[0].RTTClient > 0 && last.Tunnels[0].RTTUpstream > 0 {
			return
		}
	}
	t.Errorf("no view showed both round-trip times; the last: %+v", last)
}

// TestStatusPeerStates: the view gives each peer's state: up, unhealthy
// with its ws_health_check record (checks, fails in a row, the last
// error), and, after a reload that removed a peer with an open tunnel,
// draining with that tunnel until it closes.
func TestStatusPeerStates(t *testing.T) {
	a := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	b := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	dead := fmt.Sprintf("127.0.0.1:%d", proxytest.FreePort(t))
	conf := func(servers ...string) string {
		lines := ""
		for _, s := range servers {
			lines += "server " + s + "; "
		}
		return gatetest.HTTP(`
access_log off;
upstream u { ` + lines + `ws_health_check interval=100ms timeout=1s type=websocket uri=/ws/; }
server {
	listen {{listen}};
	location /ws/ { proxy_pass http://u; }
	location /status { ws_status; }
}`)
	}
	g := gatetest.Start(t, conf(b.Addr, dead), gatetest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	feed, _, err := websocket.Dial(ctx, "ws://"+g.Addr+"/status", nil)
	if err != nil {
		t.Fatalf("dialing the feed: %v", err)
	}
	defer feed.CloseNow()
	var last status.View
	until := func(what string, ok func(peers map[string]status.Peer) bool) {
		t.Helper()
		for range 100 {
			_, p, err := feed.Read(ctx)
			if err != nil {
				t.Fatalf("%s: reading a view: %v", what, err)
			}
			last = status.View{}
			if err := json.Unmarshal(p, &last); err != nil {
				t.Fatalf("decoding a view: %v\n%s", err, p)
			}
			peers := map[string]status.Peer{}
			for _, p := range last.Upstreams {
				peers[p.Peer+" "+p.State] = p
			}
			if ok(peers) {
				return
			}
		}
		t.Fatalf("%s: no view showed it; the last: %+v", what, last.Upstreams)
	}
	until("a healthy and an unhealthy peer", func(peers map[string]status.Peer) bool {
		up, bad := peers[b.Addr+" up"], peers[dead+" unhealthy"]
		return len(peers) == 2 && up.Check != nil && up.Check.Passes > 0 && up.Check.LastError == "" && up.Weight == 1 &&
			bad.Check != nil && bad.Check.Fails > 0 && bad.Check.Checks > 0 && bad.Check.Last != nil &&
			strings.Contains(bad.Check.LastError, "refused")
	})

	c, _, err := websocket.Dial(ctx, "ws://"+g.Addr+"/ws/chat", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.Write(ctx, websocket.MessageText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Read(ctx); err != nil {
		t.Fatal(err)
	}
	g.Write(conf(a.Addr, dead))
	if err := g.Server.Reload(); err != nil {
		t.Fatalf("reload: %v", err)
	}
	until("the removed peer draining with its tunnel", func(peers map[string]status.Peer) bool {
		d, ok := peers[b.Addr+" draining"]
		return ok && d.Tunnels == 1 && d.Check == nil && peers[a.Addr+" up"].Peer != ""
	})
	c.Close(websocket.StatusNormalClosure, "")
	until("the drained peer gone", func(peers map[string]status.Peer) bool {
		_, draining := peers[b.Addr+" draining"]
		return !draining && len(peers) == 2
	})
}
