package demo

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"wsgate/internal/probe"
	"wsgate/internal/proxytest"
)

// seedServerBlock is the tutorial's server block as published.
const seedServerBlock = `server {
listen 80;
server_name example.com;
location /ws/ {
proxy_pass http://localhost:8080;
proxy_http_version 1.1;
proxy_set_header Upgrade $http_upgrade;
proxy_set_header Connection "upgrade";
proxy_set_header Host $host;
proxy_read_timeout 86400;
}
location / {
proxy_pass http://localhost:3000;
}
}`

func TestTutorialConfIsTheSeed(t *testing.T) {
	want := strings.Replace(seedServerBlock, "server_name example.com;", "server_name localhost;", 1)
	if !strings.Contains(tutorialConf, want) {
		t.Errorf("tutorial.conf: got\n%s\nwant it to hold the seed's server block\n%s", tutorialConf, want)
	}
	if got := render(TutorialListen, TutorialWSBackend, TutorialApp); got != tutorialConf {
		t.Errorf("render with the tutorial's addresses: got\n%s\nwant tutorial.conf unchanged", got)
	}
}

func TestRenderSubstitutes(t *testing.T) {
	got := render("127.0.0.1:8000", "127.0.0.1:9001", "localhost:9002")
	for _, want := range []string{
		"listen 127.0.0.1:8000;  # the tutorial: listen 80;\n",
		"proxy_pass http://127.0.0.1:9001;  # the tutorial: proxy_pass http://localhost:8080;\n",
		"proxy_pass http://localhost:9002;  # the tutorial: proxy_pass http://localhost:3000;\n",
		"proxy_read_timeout 86400;\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("render: got\n%s\nwant a line %q", got, want)
		}
	}
}

func TestPortFallback(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyAddr := busy.Addr().String()
	t.Run("default taken falls back and says so", func(t *testing.T) {
		lns, conf, note, err := bindBackend("-app", "", busyAddr, "app")
		if err != nil {
			t.Fatalf("bindBackend: got %v; want a fallback", err)
		}
		defer closeAll(lns)
		if conf == busyAddr || !strings.HasPrefix(conf, "127.0.0.1:") {
			t.Errorf("address: got %q; want another 127.0.0.1 port", conf)
		}
		for _, w := range []string{"already in use", "-app", busyAddr, conf} {
			if !strings.Contains(note, w) {
				t.Errorf("note: got %q; want it to mention %q", note, w)
			}
		}
	})
	t.Run("explicit taken is an error", func(t *testing.T) {
		_, _, _, err := bindBackend("-app", busyAddr, TutorialApp, "app")
		if err == nil || !strings.Contains(err.Error(), "already in use") || !strings.Contains(err.Error(), "-app") {
			t.Errorf("bindBackend: got %v; want an error naming -app and the busy port", err)
		}
		_, _, err = pickListen(busyAddr)
		if err == nil || !strings.Contains(err.Error(), "already in use") {
			t.Errorf("pickListen: got %v; want an error saying the port is in use", err)
		}
	})
	t.Run("default is loopback", func(t *testing.T) {
		addr, _, err := pickListen("")
		if err != nil {
			t.Fatalf("pickListen: %v", err)
		}
		host, _, err := net.SplitHostPort(addr)
		if err != nil || host != DefaultListenHost {
			t.Errorf("pickListen(\"\"): got %q; want an address on %s", addr, DefaultListenHost)
		}
	})
	t.Run("a bare port is every address", func(t *testing.T) {
		// A port free on every address (one free on 127.0.0.1 alone may
		// be taken on another loopback address or on ::1); another
		// program may still take it before pickListen looks, hence the
		// few tries.
		var addr, want string
		var err error
		for try := 0; try < 3; try++ {
			ln, lerr := net.Listen("tcp", ":0")
			if lerr != nil {
				t.Fatal(lerr)
			}
			want = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
			ln.Close()
			if addr, _, err = pickListen(want); err == nil {
				break
			}
		}
		if err != nil || addr != want {
			t.Errorf("pickListen(%q): got %q, %v; want %q (listen PORT: every address)", want, addr, err, want)
		}
	})
	t.Run("port 0 picks a free port", func(t *testing.T) {
		addr, note, err := pickListen("127.0.0.1:0")
		if err != nil || note != "" || strings.HasSuffix(addr, ":0") {
			t.Errorf("pickListen: got %q, %q, %v; want a free 127.0.0.1 port", addr, note, err)
		}
	})
}

func startDemo(t *testing.T) *Demo {
	t.Helper()
	d, err := Start(Options{Listen: "127.0.0.1:0", WSBackend: "127.0.0.1:0", App: "127.0.0.1:0", Version: "test"})
	if err != nil {
		t.Fatalf("starting the demo: %v", err)
	}
	t.Cleanup(func() { d.close() })
	return d
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestDemoThroughWsgate(t *testing.T) {
	d := startDemo(t)
	wsBase := "ws" + strings.TrimPrefix(d.URL, "http")

	t.Run("page", func(t *testing.T) {
		status, body := get(t, d.URL)
		if status != 200 || !strings.Contains(body, "<title>wsgate demo</title>") || strings.Contains(body, "https://") {
			t.Errorf("GET /: got %d, %d bytes; want 200 with the self-contained page", status, len(body))
		}
		status, body = get(t, d.URL+"demo/config")
		if status != 200 || body != d.Config {
			t.Errorf("GET /demo/config: got %d %q; want 200 with the configuration", status, body)
		}
	})

	t.Run("probe echo", func(t *testing.T) {
		r := probe.Run(context.Background(), probe.Options{URL: wsBase + "ws/echo", Count: 3, Timeout: 5 * time.Second})
		if !r.OK {
			t.Fatalf("probe: got %s (%s); want ok", r.Cause, r.Explanation)
		}
		if len(r.Other) != 1 || !strings.HasPrefix(r.Other[0], `{"type":"hello"`) {
			t.Fatalf("messages besides the echoes: got %q; want the hello", r.Other)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var h Hello
		if err := json.Unmarshal(readJSON(t, ctx, dialWS(t, ctx, wsBase+"ws/echo")), &h); err != nil {
			t.Fatalf("hello: %v", err)
		}
		// The tutorial's proxy_set_header lines: Upgrade $http_upgrade,
		// Connection "upgrade", Host $host (no port).
		if h.Type != "hello" || h.Proto != "HTTP/1.1" || h.Headers["Upgrade"] != "websocket" ||
			h.Headers["Connection"] != "upgrade" || h.Headers["Host"] != "127.0.0.1" {
			t.Errorf("hello: got %+v; want HTTP/1.1 with Upgrade: websocket, Connection: upgrade, Host: 127.0.0.1", h)
		}
	})

	t.Run("observed", func(t *testing.T) {
		var list []Observed
		proxytest.Poll(5*time.Second, func() bool {
			_, body := get(t, d.URL+"demo/observed")
			list = nil
			json.Unmarshal([]byte(body), &list)
			return hasTunnel(list)
		})
		if !hasTunnel(list) {
			t.Fatalf("observed: got %+v; want a tunnel through location /ws/ with status 101, its URI, who closed it and the code", list)
		}
		for _, o := range list {
			if o.Location == "location /ws/" && !strings.HasSuffix(o.Upstream, d.WSBackend[0][strings.LastIndex(d.WSBackend[0], ":"):]) {
				t.Errorf("upstream of /ws/: got %q; want the backend %v", o.Upstream, d.WSBackend)
			}
		}
	})

	t.Run("chat broadcasts", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a := dialWS(t, ctx, wsBase+"ws/chat")
		b := dialWS(t, ctx, wsBase+"ws/chat")
		readJSON(t, ctx, a) // hello
		readJSON(t, ctx, b)
		if err := a.Write(ctx, websocket.MessageText, []byte("hi from a")); err != nil {
			t.Fatal(err)
		}
		for _, c := range []*websocket.Conn{a, b} {
			var m ChatMessage
			json.Unmarshal(readJSON(t, ctx, c), &m)
			if m.Type != "chat" || m.Text != "hi from a" || m.Clients != 2 {
				t.Errorf("chat message: got %+v; want \"hi from a\" to 2 clients", m)
			}
		}
	})

	t.Run("shutdown sends Close 1001", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c := dialWS(t, ctx, wsBase+"ws/echo")
		readJSON(t, ctx, c)
		errc := make(chan error, 1)
		go func() { _, _, err := c.Read(ctx); errc <- err }()
		if err := d.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: got %v; want nil", err)
		}
		err := <-errc
		if code := websocket.CloseStatus(err); code != websocket.StatusGoingAway {
			t.Errorf("client read after shutdown: got %v (code %d); want Close 1001", err, code)
		}
		if _, err := net.DialTimeout("tcp", d.Listen, time.Second); err == nil {
			t.Errorf("dialing %s after shutdown: got a connection; want refused", d.Listen)
		}
	})
}

// hasTunnel reports whether list has a WebSocket row with what its
// tunnel's end told: the request URI, who closed it and with which code.
func hasTunnel(list []Observed) bool {
	for _, o := range list {
		if o.Location == "location /ws/" && o.Tunnel && o.Status == 101 &&
			strings.HasPrefix(o.URI, "/ws/") && o.ClosedBy != "" && o.CloseCode != 0 {
			return true
		}
	}
	return false
}

func dialWS(t *testing.T, ctx context.Context, url string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("dialing %s: %v", url, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func readJSON(t *testing.T, ctx context.Context, c *websocket.Conn) []byte {
	t.Helper()
	_, p, err := c.Read(ctx)
	if err != nil {
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			t.Fatalf("reading: closed with %d %q", ce.Code, ce.Reason)
		}
		t.Fatalf("reading: %v", err)
	}
	return p
}
