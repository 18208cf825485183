package proxy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"wsgate/internal/proxy"
	"wsgate/internal/proxytest"
	"wsgate/internal/tunnel"
)

// endsObserver hands each tunnel's Result over on a channel.
type endsObserver struct{ ends chan tunnel.Result }

func (o *endsObserver) Try(proxy.Try)                                 {}
func (o *endsObserver) TunnelStart(proxy.Tunnel) tunnel.FrameObserver { return nil }
func (o *endsObserver) TunnelEnd(_ proxy.Tunnel, r tunnel.Result)     { o.ends <- r }
func (o *endsObserver) Request(proxy.Request)                         {}

func (o *endsObserver) next(t *testing.T) tunnel.Result {
	t.Helper()
	select {
	case r := <-o.ends:
		return r
	case <-time.After(15 * time.Second):
		t.Fatal("no tunnel ended within 15s")
		return tunnel.Result{}
	}
}

const wsNativeConf = `
server {
    listen {{listen}};
    location /ws/ {
        proxy_pass http://{{ws}};
        proxy_read_timeout 400ms;
        DIRECTIVES
    }
}`

func startWSNative(t *testing.T, directives string) (*observedGate, *endsObserver) {
	t.Helper()
	ws := proxytest.NewWSEcho(t, proxytest.WSOptions{})
	obs := &endsObserver{ends: make(chan tunnel.Result, 16)}
	conf := strings.Replace(wsNativeConf, "DIRECTIVES", directives, 1)
	return startObservedGate(t, conf, map[string]string{"ws": ws.Addr}, obs), obs
}

func dialWS(t *testing.T, addr string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+addr+"/ws/x", nil)
	if err != nil {
		t.Fatalf("dialing: %v", err)
	}
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// TestWSMessageLimit: a message at ws_max_message_size is echoed; one byte
// more gets the client Close 1009, and the tunnel's end says "limit".
func TestWSMessageLimit(t *testing.T) {
	g, obs := startWSNative(t, "ws_max_message_size 1k; ws_max_frame_size 1k;")
	c := dialWS(t, g.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageBinary, make([]byte, 1024)); err != nil {
		t.Fatal(err)
	}
	if _, p, err := c.Read(ctx); err != nil || len(p) != 1024 {
		t.Fatalf("echo of 1024 bytes: got %d, %v", len(p), err)
	}
	c.Write(ctx, websocket.MessageBinary, make([]byte, 1025))
	_, _, err := c.Read(ctx)
	if got := websocket.CloseStatus(err); got != websocket.StatusMessageTooBig {
		t.Fatalf("got %v (%v); want Close 1009", got, err)
	}
	if r := obs.next(t); r.ClosedBy != tunnel.CauseLimit || r.CloseCode != 1009 {
		t.Errorf("got closed by %v %d; want limit 1009", r.ClosedBy, r.CloseCode)
	}
}

// TestWSPingDeadClient: a client that stops reading answers no Ping; its
// tunnel ends as "ping", before proxy_read_timeout would matter (that
// timer is re-armed by nothing: the client sends nothing).
func TestWSPingDeadClient(t *testing.T) {
	g, obs := startWSNative(t, "ws_ping_interval 50ms; ws_pong_timeout 150ms;")
	dialWS(t, g.addr) // never read: coder/websocket answers Pings only while reading
	if r := obs.next(t); r.ClosedBy != tunnel.CausePing || r.CloseCode != 1001 {
		t.Errorf("got closed by %v %d; want ping 1001", r.ClosedBy, r.CloseCode)
	}
}

// TestWSPingKeepsIdleTunnel: with Pings below proxy_read_timeout, an idle
// tunnel whose client answers them outlives the timeout, and its
// round-trip time is measured.
func TestWSPingKeepsIdleTunnel(t *testing.T) {
	g, obs := startWSNative(t, "ws_ping_interval 50ms;")
	c := dialWS(t, g.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := make(chan error, 1)
	go func() {
		// Reading answers the Pings; the echo below ends it.
		_, _, err := c.Read(ctx)
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("the idle tunnel ended: %v", err)
	case <-time.After(1200 * time.Millisecond): // three proxy_read_timeouts
	}
	if err := c.Write(ctx, websocket.MessageText, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("echo after idling: %v", err)
	}
	c.Close(websocket.StatusNormalClosure, "")
	r := obs.next(t)
	if r.ClosedBy != tunnel.CauseClient || r.ClientRTT <= 0 {
		t.Errorf("got closed by %v, client RTT %v; want client, and an RTT", r.ClosedBy, r.ClientRTT)
	}
}
