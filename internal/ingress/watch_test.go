package ingress

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	netv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"wsgate/internal/proxytest"
	"wsgate/internal/server"
)

// namedEcho is a WebSocket backend on addr that answers each message with
// its name, a colon and the message, so a client knows which endpoint it
// reached.
type namedEcho struct {
	name  string
	addr  string
	hands atomic.Int32
}

func startNamedEcho(t *testing.T, name, addr string) *namedEcho {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listening on %s: %v", addr, err)
	}
	e := &namedEcho{name: name, addr: ln.Addr().String()}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
		if err != nil {
			return
		}
		e.hands.Add(1)
		defer c.CloseNow()
		for {
			typ, p, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, append([]byte(e.name+":"), p...)); err != nil {
				return
			}
		}
	})}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return e
}

// cluster is a fake API server with a wsgate-ingress watching it.
type cluster struct {
	client *fake.Clientset
	gate   *gate
	events *Events
	cancel context.CancelFunc
}

const testNS = "apps"

func slice(name, svc string, port int32, addrs ...string) *discoveryv1.EndpointSlice {
	pn, proto := "http", corev1.ProtocolTCP
	es := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: testNS, Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &pn, Port: &port, Protocol: &proto}},
	}
	for _, a := range addrs {
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{a}})
	}
	return es
}

func service(name string) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: name},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}
}

// wsIngress is an Ingress of class nginx sending host's path to Service
// svc's port http.
func wsIngress(name, host, path, svc string, ann map[string]string) *netv1.Ingress {
	in := ing(testNS, name, host, ann)
	typ := netv1.PathTypePrefix
	in.Spec.Rules[0].HTTP.Paths = []netv1.HTTPIngressPath{{Path: path, PathType: &typ,
		Backend: netv1.IngressBackend{Service: &netv1.IngressServiceBackend{Name: svc, Port: netv1.ServiceBackendPort{Name: "http"}}}}}
	in.UID = types.UID("uid-" + name)
	in.ResourceVersion = "1"
	return in
}

// startCluster starts a fake cluster holding objs and a controller on it
// (informers, debounced rebuilds, Events), serving on loopback.
func startCluster(t *testing.T, objs ...any) *cluster {
	t.Helper()
	c := &cluster{client: fake.NewClientset()}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	t.Cleanup(cancel)
	cm := snippetsOn()
	c.create(t, cm)
	for _, o := range objs {
		c.create(t, o)
	}
	g := &gate{dir: t.TempDir(), sslDir: t.TempDir()}
	g.http, g.https = proxytest.FreeAddr(t), proxytest.FreeAddr(t)
	var srv atomic.Pointer[server.Server]
	w := &Watcher{Client: c.client, ConfigMap: objKey(cm.Namespace, cm.Name), Debounce: 50 * time.Millisecond,
		Changed: func() {
			if s := srv.Load(); s != nil {
				g.ctl.Do(s.Reload)
			}
		}}
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	c.events = &Events{Client: c.client}
	g.ctl = &Controller{
		States:  w.State,
		Options: Options{HTTPListen: g.http, HTTPSListen: g.https, SSLDir: g.sslDir, AccessLog: "off"},
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Report: func(res *Result) {
			c.events.Rejected(ctx, res, func(key string) *netv1.Ingress {
				st, _ := w.State()
				for _, i := range st.Ingresses {
					if objKey(i.Namespace, i.Name) == key {
						return i
					}
				}
				return nil
			})
		},
	}
	g.start(t)
	srv.Store(g.srv)
	c.gate = g
	return c
}

func (c *cluster) create(t *testing.T, o any) {
	t.Helper()
	ctx := context.Background()
	var err error
	switch o := o.(type) {
	case *corev1.ConfigMap:
		_, err = c.client.CoreV1().ConfigMaps(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
	case *corev1.Service:
		_, err = c.client.CoreV1().Services(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
	case *discoveryv1.EndpointSlice:
		_, err = c.client.DiscoveryV1().EndpointSlices(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
	case *netv1.Ingress:
		_, err = c.client.NetworkingV1().Ingresses(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
	case *corev1.Secret:
		_, err = c.client.CoreV1().Secrets(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
	default:
		t.Fatalf("cannot create %T", o)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func (c *cluster) update(t *testing.T, o any) {
	t.Helper()
	ctx := context.Background()
	var err error
	switch o := o.(type) {
	case *discoveryv1.EndpointSlice:
		_, err = c.client.DiscoveryV1().EndpointSlices(o.Namespace).Update(ctx, o, metav1.UpdateOptions{})
	case *netv1.Ingress:
		_, err = c.client.NetworkingV1().Ingresses(o.Namespace).Update(ctx, o, metav1.UpdateOptions{})
	default:
		t.Fatalf("cannot update %T", o)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// waitReload waits until the server publishes a configuration other than
// old.
func (c *cluster) waitReload(t *testing.T, old any) {
	t.Helper()
	proxytest.Eventually(t, 10*time.Second, func() bool { return any(c.gate.srv.Current()) != old }, "no reload after the change")
}

// tunnel is an open WebSocket through the gate.
type tunnel struct {
	c   *websocket.Conn
	ctx context.Context
}

func (c *cluster) open(t *testing.T, url string) *tunnel {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	conn, resp, err := c.gate.dialWS(ctx, url, nil)
	if err != nil {
		t.Fatalf("dialing %s: %v (%v)", url, err, resp)
	}
	t.Cleanup(func() { conn.CloseNow() })
	return &tunnel{c: conn, ctx: ctx}
}

// say sends msg and returns the answer.
func (tu *tunnel) say(msg string) (string, error) {
	if err := tu.c.Write(tu.ctx, websocket.MessageText, []byte(msg)); err != nil {
		return "", err
	}
	_, p, err := tu.c.Read(tu.ctx)
	return string(p), err
}

func mustSay(t *testing.T, tu *tunnel, msg, want string) {
	t.Helper()
	got, err := tu.say(msg)
	if err != nil || got != want {
		t.Fatalf("sent %q: got %q, %v; want %q", msg, got, err, want)
	}
}

// TestWatchEndpointsMoveNewConnections changes a Service's EndpointSlice
// under an open tunnel: new connections go to the new endpoint, the open
// tunnel stays on the old one and keeps working (the configuration, and
// so the route key, is unchanged: only the resolver's answer is new).
func TestWatchEndpointsMoveNewConnections(t *testing.T) {
	a := startNamedEcho(t, "a", "127.0.0.1:0")
	port := proxytest.PortOf(a.addr)
	b := startNamedEcho(t, "b", "127.0.0.2:"+strconv.Itoa(port))
	es := slice("chat-1", "chat", int32(port), "127.0.0.1")
	c := startCluster(t, service("chat"), es, wsIngress("chat", "chat.example.com", "/ws", "chat", nil))

	old := c.open(t, "ws://chat.example.com/ws")
	mustSay(t, old, "1", "a:1")
	before := c.gate.srv.Current()

	es.Endpoints = []discoveryv1.Endpoint{{Addresses: []string{"127.0.0.2"}}}
	c.update(t, es)
	c.waitReload(t, before)

	fresh := c.open(t, "ws://chat.example.com/ws")
	mustSay(t, fresh, "2", "b:2")
	mustSay(t, old, "3", "a:3")
	if n := b.hands.Load(); n != 1 {
		t.Errorf("new endpoint got %d handshakes; want 1", n)
	}

	// A rolling update: both endpoints, then only the first again.
	es.Endpoints = []discoveryv1.Endpoint{{Addresses: []string{"127.0.0.1"}}}
	before = c.gate.srv.Current()
	c.update(t, es)
	c.waitReload(t, before)
	mustSay(t, fresh, "4", "b:4")
	mustSay(t, old, "5", "a:5")
	third := c.open(t, "ws://chat.example.com/ws")
	mustSay(t, third, "6", "a:6")
}

// TestWatchIngressEditKeepsOtherRoutes edits one Ingress: the tunnels of
// the other Ingress's route stay open, the edited route's tunnel gets a
// Close frame, and new connections see the edit.
func TestWatchIngressEditKeepsOtherRoutes(t *testing.T) {
	a := startNamedEcho(t, "chat", "127.0.0.1:0")
	o := startNamedEcho(t, "other", "127.0.0.1:0")
	other := wsIngress("other", "other.example.com", "/", "other", nil)
	c := startCluster(t,
		service("chat"), slice("chat-1", "chat", int32(proxytest.PortOf(a.addr)), "127.0.0.1"),
		service("other"), slice("other-1", "other", int32(proxytest.PortOf(o.addr)), "127.0.0.1"),
		wsIngress("chat", "chat.example.com", "/ws", "chat", nil), other)

	kept := c.open(t, "ws://chat.example.com/ws")
	mustSay(t, kept, "1", "chat:1")
	edited := c.open(t, "ws://other.example.com/")
	mustSay(t, edited, "1", "other:1")

	before := c.gate.srv.Current()
	other = other.DeepCopy()
	other.Annotations = map[string]string{nginxPrefix + "proxy-read-timeout": "3600"}
	other.ResourceVersion = "2"
	c.update(t, other)
	c.waitReload(t, before)

	// The reload asks the edited route's tunnel to close; the request
	// may reach it after "2" did, whose echo then comes before the Close.
	got, err := edited.say("2")
	if err == nil && got == "other:2" {
		_, _, err = edited.c.Read(edited.ctx)
	}
	var ce websocket.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("the edited route's tunnel: got %q, %v; want a Close frame", got, err)
	}
	mustSay(t, kept, "2", "chat:2")
	again := c.open(t, "ws://other.example.com/")
	mustSay(t, again, "3", "other:3")
}

// TestWatchBadSnippet adds an Ingress whose snippet has a directive wsgate
// refuses, then breaks an Ingress that is served: the new one is left out
// with a Warning Event, the others keep serving, and the broken edit
// leaves the previous version serving with its tunnels.
func TestWatchBadSnippet(t *testing.T) {
	a := startNamedEcho(t, "chat", "127.0.0.1:0")
	chat := wsIngress("chat", "chat.example.com", "/ws", "chat", nil)
	c := startCluster(t, service("chat"), slice("chat-1", "chat", int32(proxytest.PortOf(a.addr)), "127.0.0.1"), chat)
	open := c.open(t, "ws://chat.example.com/ws")
	mustSay(t, open, "1", "chat:1")

	before := c.gate.srv.Current()
	c.create(t, wsIngress("bad", "bad.example.com", "/", "chat", map[string]string{nginxPrefix + "configuration-snippet": "perl Hello::handler;"}))
	c.waitReload(t, before)
	c.waitEvent(t, "bad", `"perl" directive is not supported by wsgate`)
	resp, err := c.gate.client(c.gate.http).Get("http://bad.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("the rejected Ingress's host: %d; want 404 (not served)", resp.StatusCode)
	}
	mustSay(t, open, "2", "chat:2")

	// Breaking the served Ingress keeps its previous version.
	broken := chat.DeepCopy()
	broken.Annotations = map[string]string{nginxPrefix + "configuration-snippet": "perl Hello::handler;", nginxPrefix + "proxy-read-timeout": "5"}
	broken.ResourceVersion = "2"
	c.update(t, broken)
	c.waitEvent(t, "chat", `"perl" directive is not supported by wsgate`)
	mustSay(t, open, "3", "chat:3")
	fresh := c.open(t, "ws://chat.example.com/ws")
	mustSay(t, fresh, "4", "chat:4")
}

// waitEvent waits for a Warning Event on Ingress name whose message holds
// msg.
func (c *cluster) waitEvent(t *testing.T, name, msg string) {
	t.Helper()
	proxytest.Eventually(t, 10*time.Second, func() bool {
		evs, err := c.client.CoreV1().Events(testNS).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return false
		}
		for _, e := range evs.Items {
			if e.InvolvedObject.Name == name && e.Type == corev1.EventTypeWarning && e.Reason == "Rejected" && strings.Contains(e.Message, msg) {
				return true
			}
		}
		return false
	}, "no Rejected Event on Ingress %s with %q", name, msg)
}

// TestStatusLeaderElection runs two replicas' status writers on one
// Lease: one leads and writes the published Service's load balancer
// address into the served Ingresses' status; the other does not lead.
func TestStatusLeaderElection(t *testing.T) {
	client := fake.NewClientset()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pub := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ingress", Name: "wsgate-ingress"},
		Spec:   corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ClusterIP: "10.96.0.10"},
		Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "203.0.113.7"}}}}}
	if _, err := client.CoreV1().Services("ingress").Create(ctx, pub, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	in := wsIngress("chat", "chat.example.com", "/ws", "chat", nil)
	if _, err := client.NetworkingV1().Ingresses(testNS).Create(ctx, in, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var replicas []*Status
	var wg sync.WaitGroup
	for _, id := range []string{"pod-a", "pod-b"} {
		s := &Status{Client: client, PublishService: "ingress/wsgate-ingress", LeaseNamespace: "ingress", LeaseName: "wsgate-ingress-leader",
			Identity: id, LeaseDuration: 2 * time.Second, RenewDeadline: time.Second, RetryPeriod: 100 * time.Millisecond,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		replicas = append(replicas, s)
		wg.Add(1)
		go func() { defer wg.Done(); s.Run(ctx) }()
		s.Serving([]*netv1.Ingress{in})
	}
	proxytest.Eventually(t, 10*time.Second, func() bool { return replicas[0].Leading() || replicas[1].Leading() }, "no replica leads")
	if replicas[0].Leading() && replicas[1].Leading() {
		t.Fatal("both replicas lead")
	}
	proxytest.Eventually(t, 10*time.Second, func() bool {
		got, err := client.NetworkingV1().Ingresses(testNS).Get(ctx, "chat", metav1.GetOptions{})
		return err == nil && len(got.Status.LoadBalancer.Ingress) == 1 && got.Status.LoadBalancer.Ingress[0].IP == "203.0.113.7"
	}, "Ingress status not written")
	lease, err := client.CoordinationV1().Leases("ingress").Get(ctx, "wsgate-ingress-leader", metav1.GetOptions{})
	if err != nil || lease.Spec.HolderIdentity == nil {
		t.Fatalf("Lease: %v %v", lease, err)
	}
	leader := replicas[0]
	if *lease.Spec.HolderIdentity == "pod-b" {
		leader = replicas[1]
	}
	if !leader.Leading() {
		t.Errorf("the Lease names %s, which does not lead", *lease.Spec.HolderIdentity)
	}
	cancel()
	wg.Wait()
}
