package ingress

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"sigs.k8s.io/yaml"

	"wsgate/internal/proxytest"
	"wsgate/internal/server"
)

// servedFixtures are the corpus files served together to real clients:
// Socket.IO with upstream-hash-by (007), Socket.IO with cookie affinity
// (010), Home Assistant with F5's annotation (022), Grafana Live (027),
// JupyterHub (031).
var servedFixtures = []string{
	"007-moe-stream.yaml",
	"010-real-time-chat.yaml",
	"022-home-assistant-nginx-org.yaml",
	"027-grafana.yaml",
	"031-jupyterhub.yaml",
}

// gate is a wsgate-ingress serving a directory on loopback.
type gate struct {
	srv         *server.Server
	ctl         *Controller
	http, https string
	backends    map[string]*proxytest.Backend // by "namespace/service"
	dir, sslDir string
}

// startGate writes the fixtures and the cluster objects they need (a
// Service and an EndpointSlice per backend, each Service's endpoint a
// loopback WebSocket echo backend, TLS Secrets) into a directory, and
// serves it as `wsgate-ingress --manifests DIR` does.
func startGate(t *testing.T, fixtures []string) *gate {
	t.Helper()
	g := &gate{backends: map[string]*proxytest.Backend{}, dir: t.TempDir(), sslDir: t.TempDir()}
	for _, f := range fixtures {
		data, err := os.ReadFile(filepath.Join("testdata", "corpus", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(g.dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	st, errs := LoadDir(g.dir, "")
	if len(errs) > 0 {
		t.Fatalf("LoadDir: %v", errs)
	}
	st.ConfigMap = snippetsOn()
	var mu sync.Mutex
	synthesize(t, st, func(i int, ns, svc string) ([]string, int32) {
		b := proxytest.NewWSEcho(t, proxytest.WSOptions{})
		mu.Lock()
		g.backends[ns+"/"+svc] = b
		mu.Unlock()
		return []string{"127.0.0.1"}, int32(proxytest.PortOf(b.Addr))
	})
	writeCluster(t, g.dir, st)
	g.http, g.https = proxytest.FreeAddr(t), proxytest.FreeAddr(t)
	g.ctl = &Controller{
		States:  func() (*State, []error) { return LoadDir(g.dir, "") },
		Options: Options{HTTPListen: g.http, HTTPSListen: g.https, SSLDir: g.sslDir, WithoutClass: true, AccessLog: "off"},
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	g.start(t)
	return g
}

func (g *gate) start(t *testing.T) {
	t.Helper()
	if err := EnsureDefaultCert(g.sslDir); err != nil {
		t.Fatal(err)
	}
	srv, err := server.Start(server.Options{Source: g.ctl.Source, Resolver: g.ctl.Resolve, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("starting: %v", err)
	}
	g.srv = srv
	t.Cleanup(srv.Stop)
}

// writeCluster writes st's Services, EndpointSlices, Secrets and
// ConfigMap into dir/cluster.yaml.
func writeCluster(t *testing.T, dir string, st *State) {
	t.Helper()
	var docs []string
	add := func(apiVersion, kind string, obj any) {
		b, err := yaml.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, "apiVersion: "+apiVersion+"\nkind: "+kind+"\n"+string(b))
	}
	for _, s := range st.Services {
		s := s.DeepCopy()
		s.APIVersion, s.Kind = "", ""
		add("v1", "Service", s)
	}
	for _, es := range st.EndpointSlices {
		add("discovery.k8s.io/v1", "EndpointSlice", es)
	}
	for _, s := range st.Secrets {
		add("v1", "Secret", s)
	}
	if st.ConfigMap != nil {
		add("v1", "ConfigMap", st.ConfigMap)
	}
	if err := os.WriteFile(filepath.Join(dir, "zz-cluster.yaml"), []byte(strings.Join(docs, "---\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}

// dialWS opens a WebSocket to url (ws:// or wss://, with the Ingress's
// host name) through the gate's listener for its scheme.
func (g *gate) dialWS(ctx context.Context, url string, hdr http.Header) (*websocket.Conn, *http.Response, error) {
	addr := g.http
	if strings.HasPrefix(url, "wss://") {
		addr = g.https
	}
	return websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: g.client(addr), HTTPHeader: hdr})
}

// client is an HTTP client whose every connection goes to addr, checking
// no certificate (the test reads the one served itself).
func (g *gate) client(addr string) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, addr)
			},
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// echo sends msg on c and checks that it comes back.
func echo(t *testing.T, ctx context.Context, c *websocket.Conn, msg string) {
	t.Helper()
	if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		t.Fatalf("writing %q: %v", msg, err)
	}
	_, got, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("reading the echo of %q: %v", msg, err)
	}
	if string(got) != msg {
		t.Fatalf("echo: got %q; want %q", got, msg)
	}
}

// TestServeManifests serves real-world WebSocket Ingresses from a
// manifest directory to real WebSocket clients: each host and path
// reaches its Service's endpoint, over ws:// where the Ingress has no TLS
// and over wss:// with the Secret's certificate where it has, with
// ingress-nginx's headers at the backend.
func TestServeManifests(t *testing.T) {
	g := startGate(t, servedFixtures)
	cases := []struct {
		name    string
		url     string
		backend string // namespace/service
		certCN  string // the certificate's CN for wss://
	}{
		{name: "socket.io upstream-hash-by", url: "ws://socket.example.com/socket.io/?EIO=4&transport=websocket", backend: "moestream/moestream-socket"},
		{name: "socket.io app host", url: "ws://example.com/live", backend: "moestream/moestream-app"},
		{name: "socket.io cookie affinity", url: "ws://chat.192.168.49.2.nip.io/socket.io/?EIO=4&transport=websocket", backend: "default/websocket-service"},
		{name: "socket.io exact prefix path", url: "ws://chat.192.168.49.2.nip.io/socket.io", backend: "default/websocket-service"},
		{name: "chat frontend", url: "ws://chat.192.168.49.2.nip.io/other", backend: "default/frontend-service"},
		{name: "home assistant websocket api", url: "wss://home-assistant/api/websocket", backend: "default/cluster-home-assistant"},
		{name: "grafana live", url: "wss://grafana.lab.local/api/live/ws", backend: "monitoring/kube-prometheus-stack-grafana", certCN: "grafana.lab.local"},
		{name: "jupyterhub kernel channel", url: "wss://jupyterhub.lsc-sde.local/user/a/api/kernels/k1/channels", backend: "default/proxy-public", certCN: "jupyterhub.lsc-sde.local"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := g.backends[tc.backend]
			if b == nil {
				t.Fatalf("no backend %s (have %v)", tc.backend, keys(g.backends))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			before := len(b.Requests())
			c, resp, err := g.dialWS(ctx, tc.url, nil)
			if err != nil {
				t.Fatalf("dialing %s: %v (response %v)", tc.url, err, resp)
			}
			defer c.CloseNow()
			echo(t, ctx, c, "hello "+tc.name)
			reqs := b.Requests()
			if len(reqs) <= before {
				t.Fatalf("backend %s saw no handshake", tc.backend)
			}
			r := reqs[len(reqs)-1]
			host := strings.SplitN(strings.SplitN(tc.url, "://", 2)[1], "/", 2)[0]
			for name, want := range map[string]string{"Host": host, "X-Real-IP": "127.0.0.1", "X-Forwarded-For": "127.0.0.1",
				"X-Forwarded-Host": host, "Upgrade": "websocket"} {
				if got, _ := r.Get(name); got != want {
					t.Errorf("backend got %s: %q; want %q", name, got, want)
				}
			}
			proto := "http"
			if strings.HasPrefix(tc.url, "wss") {
				proto = "https"
			}
			if got, _ := r.Get("X-Forwarded-Proto"); got != proto {
				t.Errorf("X-Forwarded-Proto: %q; want %q", got, proto)
			}
			c.Close(websocket.StatusNormalClosure, "")
			if tc.certCN != "" {
				conn, err := tls.Dial("tcp", g.https, &tls.Config{ServerName: host, InsecureSkipVerify: true})
				if err != nil {
					t.Fatal(err)
				}
				cn := conn.ConnectionState().PeerCertificates[0].Subject.CommonName
				conn.Close()
				if cn != tc.certCN {
					t.Errorf("certificate for %s: CN %q; want the Secret's %q", host, cn, tc.certCN)
				}
			}
		})
	}

	t.Run("ssl-redirect on a TLS host", func(t *testing.T) {
		resp, err := g.client(g.http).Get("http://grafana.lab.local/d/x?y=1")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != "https://grafana.lab.local/d/x?y=1" {
			t.Errorf("got %d Location %q; want 308 to https://grafana.lab.local/d/x?y=1", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("unknown host gets the default backend's 404", func(t *testing.T) {
		resp, err := g.client(g.http).Get("http://nobody.example/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("got %d; want 404", resp.StatusCode)
		}
	})
	t.Run("affinity cookie set once and followed", func(t *testing.T) {
		cl := g.client(g.http)
		resp, err := cl.Get("http://chat.192.168.49.2.nip.io/socket.io/?EIO=4&transport=polling")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var cookie string
		for _, c := range resp.Cookies() {
			if c.Name == "chat-sticky" {
				cookie = c.Value
			}
		}
		if len(cookie) != 32 {
			t.Fatalf("Set-Cookie: %q; want chat-sticky with a 32-digit id", resp.Header.Values("Set-Cookie"))
		}
		req, _ := http.NewRequest("GET", "http://chat.192.168.49.2.nip.io/socket.io/?EIO=4&transport=polling", nil)
		req.Header.Set("Cookie", "chat-sticky="+cookie)
		resp, err = cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if v := resp.Header.Values("Set-Cookie"); len(v) != 0 {
			t.Errorf("a request with the cookie got Set-Cookie %q; want none", v)
		}
	})
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
