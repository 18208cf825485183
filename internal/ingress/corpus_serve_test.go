package ingress

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	discoveryv1 "k8s.io/api/discovery/v1"
	netv1 "k8s.io/api/networking/v1"

	"wsgate/internal/proxytest"
	"wsgate/internal/server"
)

// echoService is the one endpoint of a Service in TestServeCorpus: a
// WebSocket echo server, with TLS when an Ingress names the Service with
// backend-protocol HTTPS, that counts the handshakes it answers.
type echoService struct {
	srv   *httptest.Server
	hits  atomic.Int64
	https bool
	last  atomic.Value // http.Header of the last handshake
}

func newEchoService(t *testing.T, https bool) *echoService {
	t.Helper()
	e := &echoService{https: https}
	e.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
		if err != nil {
			return
		}
		e.last.Store(r.Header.Clone())
		e.hits.Add(1)
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, msg); err != nil {
				return
			}
		}
	}))
	if https {
		e.srv.StartTLS()
	} else {
		e.srv.Start()
	}
	t.Cleanup(e.srv.Close)
	return e
}

func (e *echoService) port() int32 {
	return int32(proxytest.PortOf(e.srv.Listener.Addr().String()))
}

// corpusPath is one path of a served Ingress, as a client reaches it.
type corpusPath struct {
	ingress, host, path, service string // service: namespace/name
	allowed                      bool   // the Ingress's allowlist lets 127.0.0.1 in
	clientCA                     string // auth-tls-secret, namespace/name
	signin                       string // auth-url's sign-in page; "-" for auth-url without one
}

// TestServeCorpus serves each file of the ingress corpus on its own, read
// as `wsgate-ingress --manifests DIR` reads it, with an
// echo endpoint per Service (TLS for backend-protocol HTTPS), and opens a
// WebSocket over wss:// (so that no ssl-redirect intervenes) to every path
// of every Ingress the translation serves: the handshake must reach the
// path's Service and a message must come back. A path whose
// allowlist-source-range leaves out the loopback client must answer 403.
// The log says, per file, how many Ingresses were served and left out and
// how many paths passed; the summary is the corpus figure.
func TestServeCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/corpus/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	var mu sync.Mutex
	var refused, partial, served, configMaps []string
	var paths, answered int
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(strings.TrimSuffix(name, ".yaml"), func(t *testing.T) {
			outcome, n, ok := serveCorpusFile(t, name)
			mu.Lock()
			defer mu.Unlock()
			paths += n
			answered += ok
			switch outcome {
			case "configmap":
				configMaps = append(configMaps, name)
			case "refused":
				refused = append(refused, name)
			case "partial":
				partial = append(partial, name)
			default:
				served = append(served, name)
			}
		})
	}
	t.Logf("corpus: %d files with Ingresses: %d served whole, %d with an Ingress left out (%s), %d refused (%s); %d of %d paths answered; %d ConfigMap files translated",
		len(served)+len(partial)+len(refused), len(served), len(partial), strings.Join(partial, " "), len(refused), strings.Join(refused, " "),
		answered, paths, len(configMaps))
}

// serveCorpusFile serves one corpus file and dials its paths; it returns
// "refused" when the file does not decode, "configmap" for a file without
// Ingresses, "partial" when an Ingress was left out, "served" otherwise,
// and how many paths were dialled and answered.
func serveCorpusFile(t *testing.T, name string) (outcome string, paths, answered int) {
	dir, sslDir := t.TempDir(), t.TempDir()
	data, err := os.ReadFile(filepath.Join("testdata", "corpus", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmKey := fixtureConfigMap(t, data)
	st, errs := LoadDir(dir, cmKey)
	if st == nil || len(errs) > 0 {
		t.Logf("refused: %v", errs)
		return "refused", 0, 0
	}
	if st.ConfigMap == nil {
		st.ConfigMap = snippetsOn()
	}
	httpsSvc := map[string]bool{}
	for _, ing := range st.Ingresses {
		if strings.EqualFold(ing.Annotations[nginxPrefix+"backend-protocol"], "HTTPS") {
			for _, p := range ingressPaths(ing) {
				httpsSvc[p.service] = true
			}
		}
	}
	// auth-url goes to a loopback auth service that lets in the
	// requests carrying its session cookie and names the user.
	for _, ing := range st.Ingresses {
		if ing.Annotations[nginxPrefix+"auth-url"] != "" {
			ing.Annotations[nginxPrefix+"auth-url"] = authService(t) + "/oauth2/auth"
		}
	}
	echoes := map[string]*echoService{}
	synthesize(t, st, func(i int, ns, svc string) ([]string, int32) {
		e := newEchoService(t, httpsSvc[ns+"/"+svc])
		echoes[ns+"/"+svc] = e
		return []string{"127.0.0.1"}, e.port()
	})
	// EndpointSlices the file brings (an external Home Assistant, say)
	// point at an echo endpoint on loopback instead.
	for _, es := range st.EndpointSlices {
		svc := es.Namespace + "/" + es.Labels[discoveryv1.LabelServiceName]
		e := echoes[svc]
		if e == nil {
			e = newEchoService(t, httpsSvc[svc])
			echoes[svc] = e
		}
		es.AddressType = discoveryv1.AddressTypeIPv4
		es.Endpoints = []discoveryv1.Endpoint{{Addresses: []string{"127.0.0.1"}}}
		for i := range es.Ports {
			port := e.port()
			es.Ports[i].Port = &port
		}
	}
	g := &gate{dir: dir, sslDir: sslDir, http: proxytest.FreeAddr(t), https: proxytest.FreeAddr(t)}
	g.ctl = &Controller{
		States: func() (*State, []error) { return st, nil },
		Options: Options{HTTPListen: g.http, HTTPSListen: g.https, SSLDir: sslDir, WithoutClass: true, AccessLog: "off",
			Class: fixtureClass[name], NameServers: []string{"127.0.0.1:9"}},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if err := EnsureDefaultCert(sslDir); err != nil {
		t.Fatal(err)
	}
	// Snippets may proxy_pass to cluster DNS names, which this machine
	// cannot resolve: they get an address nothing listens on; only the
	// Ingresses' own paths are dialled.
	resolve := func(ctx context.Context, host string) ([]netip.Addr, error) {
		if !strings.HasSuffix(host, EndpointSuffix) {
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
		}
		return g.ctl.Resolve(ctx, host)
	}
	srv, err := server.Start(server.Options{Source: g.ctl.Source, Resolver: resolve, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("starting: %v", err)
	}
	t.Cleanup(srv.Stop)
	res := g.ctl.Last()
	var all []corpusPath
	for _, ing := range res.ServedIngresses {
		all = append(all, ingressPaths(ing)...)
	}
	owner := map[string]string{} // host+path → the Ingress that has it (the oldest, as ingress-nginx)
	ok := 0
	for _, p := range all {
		if o, dup := owner[p.host+p.path]; dup && o != p.ingress {
			continue
		}
		owner[p.host+p.path] = p.ingress
		if err := dialPath(t, g, p, echoes[p.service]); err != nil {
			t.Errorf("Ingress %s host %q path %s (Service %s): %v", p.ingress, p.host, p.path, p.service, err)
			continue
		}
		ok++
	}
	t.Logf("%d Ingresses served, %d left out; %d of %d paths answered", len(res.ServedIngresses), len(res.Rejected), ok, len(all))
	for _, r := range res.Rejected {
		t.Logf("left out %s: %s", r.Object, strings.Join(r.Reasons, "; "))
	}
	switch {
	case len(st.Ingresses) == 0:
		return "configmap", 0, 0
	case len(res.Rejected) > 0:
		return "partial", len(all), ok
	}
	return "served", len(all), ok
}

// dialPath opens a WebSocket to p over wss:// and checks that it reaches
// p's Service and echoes; or, when p's allowlist leaves out 127.0.0.1,
// that the handshake is refused with 403.
func dialPath(t *testing.T, g *gate, p corpusPath, e *echoService) error {
	if e == nil {
		return errors.New("no endpoint for the Service")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	before := e.hits.Load()
	url := "wss://" + p.host + p.path
	client := g.client(g.https)
	if p.clientCA != "" {
		// Without a certificate the handshake is refused (400, as
		// nginx's 496, or a 302 to auth-tls-error-page); with one the
		// CA signed it passes.
		if c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: client}); err == nil {
			c.CloseNow()
			return errors.New("a client without a certificate got through")
		} else if resp != nil && resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusFound {
			return errors.New("without a client certificate: want 400 or 302, got " + resp.Status)
		}
		ca, ok := clientCAs.Load(p.clientCA)
		if !ok {
			return errors.New("no test CA for " + p.clientCA)
		}
		client = g.client(g.https)
		tr := client.Transport.(*http.Transport)
		tr.TLSClientConfig.Certificates = []tls.Certificate{ca.(*testCA).client(t, "client")}
	}
	var hdr http.Header
	if p.signin != "" {
		// Without the session the auth service answers 401: the
		// client is sent to sign in (302), or refused without a
		// sign-in page; with it the tunnel opens.
		c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: client})
		if err == nil {
			c.CloseNow()
			return errors.New("a client without a session got through auth-url")
		}
		if p.signin == "-" {
			if resp == nil || resp.StatusCode != http.StatusUnauthorized {
				return errors.New("without a session: want 401, got " + errString(resp, err))
			}
		} else if want := p.signin + "?rd=https://" + p.host + p.path; resp == nil || resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != want {
			return errors.New("without a session: want 302 to " + want + ", got " + errString(resp, err) + " " + resp.Header.Get("Location"))
		}
		hdr = http.Header{"Cookie": {"_oauth2_proxy=ok"}}
	}
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: client, HTTPHeader: hdr})
	if !p.allowed {
		if err == nil {
			c.CloseNow()
			return errors.New("the allowlist let 127.0.0.1 in")
		}
		if resp == nil || resp.StatusCode != http.StatusForbidden {
			return errors.New("the allowlist: want 403, got " + errString(resp, err))
		}
		return nil
	}
	if err != nil {
		return errors.New("dialing " + url + ": " + errString(resp, err))
	}
	defer c.CloseNow()
	if err := c.Write(ctx, websocket.MessageText, []byte("ping "+p.path)); err != nil {
		return err
	}
	if _, msg, err := c.Read(ctx); err != nil || string(msg) != "ping "+p.path {
		return errors.New("no echo: " + errString(nil, err))
	}
	if e.hits.Load() == before {
		return errors.New("another Service answered")
	}
	if p.clientCA != "" {
		h := e.last.Load().(http.Header)
		if v, dn := h.Get("Ssl-Client-Verify"), h.Get("Ssl-Client-Subject-Dn"); v != "SUCCESS" || dn != "CN=client" {
			return errors.New("the backend got ssl-client-verify " + v + " and ssl-client-subject-dn " + dn + "; want SUCCESS and CN=client")
		}
	}
	c.Close(websocket.StatusNormalClosure, "")
	return nil
}

// authService starts an auth-url service on loopback, as oauth2-proxy's
// /oauth2/auth answers: 202 with X-Auth-Request-User for a request with
// its session cookie, 401 otherwise. It returns its base URL.
func authService(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("_oauth2_proxy"); err != nil || c.Value != "ok" || r.Header.Get("X-Original-URL") == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("X-Auth-Request-User", "alice")
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func errString(resp *http.Response, err error) string {
	s := ""
	if resp != nil {
		s = resp.Status + " "
	}
	if err != nil {
		s += err.Error()
	}
	return s
}

// regexMeta is where a path written as a regex (use-regex,
// rewrite-target) stops being literal text.
// ("." is left: it matches itself too).
var regexMeta = regexp.MustCompile(`[(\[*+?{|\\^$]`)

// ingressPaths lists the paths of ing with a concrete request path each:
// a regex path up to its first metacharacter, a wildcard host with "x"
// for its "*", an empty host as a name no rule has.
func ingressPaths(ing *netv1.Ingress) []corpusPath {
	key := objKey(ing.Namespace, ing.Name)
	allowed := true
	allow := ing.Annotations[nginxPrefix+"allowlist-source-range"]
	if allow == "" {
		allow = ing.Annotations[nginxPrefix+"whitelist-source-range"]
	}
	if allow != "" {
		allowed = false
		for _, s := range strings.Split(allow, ",") {
			s = strings.TrimSpace(s)
			if pfx, err := netip.ParsePrefix(s); err == nil && pfx.Contains(netip.MustParseAddr("127.0.0.1")) {
				allowed = true
			}
			if s == "127.0.0.1" {
				allowed = true
			}
		}
	}
	clientCA := ing.Annotations[nginxPrefix+"auth-tls-secret"]
	if clientCA != "" && !strings.Contains(clientCA, "/") {
		clientCA = ing.Namespace + "/" + clientCA
	}
	signin := ""
	if ing.Annotations[nginxPrefix+"auth-url"] != "" {
		signin = ing.Annotations[nginxPrefix+"auth-signin"]
		if signin == "" {
			signin = "-"
		}
	}
	var out []corpusPath
	for _, r := range ing.Spec.Rules {
		if r.HTTP == nil {
			continue
		}
		host := strings.Replace(r.Host, "*", "x", 1)
		if host == "" {
			host = "any-host.invalid"
		}
		for _, p := range r.HTTP.Paths {
			if p.Backend.Service == nil {
				continue
			}
			pth := p.Path
			if pth == "" {
				pth = "/"
			}
			if loc := regexMeta.FindStringIndex(pth); loc != nil {
				pth = pth[:loc[0]]
			}
			if !strings.HasPrefix(pth, "/") {
				pth = "/" + pth
			}
			out = append(out, corpusPath{ingress: key, host: host, path: pth, service: ing.Namespace + "/" + p.Backend.Service.Name,
				allowed: allowed, clientCA: clientCA, signin: signin})
		}
	}
	return out
}
