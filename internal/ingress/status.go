package ingress

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	netv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// Status writes the address of the controller's Service into the status of
// every Ingress served, as ingress-nginx's --publish-service does. Only
// the replica that holds the Lease writes (leader election on a
// coordination.k8s.io Lease); every replica serves traffic whatever the
// election says.
type Status struct {
	Client kubernetes.Interface
	// PublishService is the controller's Service, "namespace/name":
	// its load balancer's addresses (else its external IPs, else its
	// cluster IP) go into Ingress status. "" writes no status.
	PublishService string
	// LeaseNamespace and LeaseName name the Lease; Identity is this
	// replica's holder identity (the pod name).
	LeaseNamespace, LeaseName, Identity string
	// LeaseDuration, RenewDeadline and RetryPeriod are client-go's
	// leader election timings; zero means 30 s, 20 s and 5 s.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	Log                                       *slog.Logger

	mu      sync.Mutex
	served  []*netv1.Ingress
	leading bool
	kick    chan struct{}
}

func (s *Status) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// Serving records which Ingresses the configuration serves now; the
// leader brings their status up to date.
func (s *Status) Serving(ings []*netv1.Ingress) {
	s.mu.Lock()
	s.served = ings
	s.mu.Unlock()
	s.poke()
}

func (s *Status) poke() {
	s.mu.Lock()
	k := s.kick
	s.mu.Unlock()
	if k == nil {
		return
	}
	select {
	case k <- struct{}{}:
	default:
	}
}

// Leading reports whether this replica holds the Lease.
func (s *Status) Leading() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leading
}

// Run takes part in the election until ctx ends; while leading, it
// writes status after every change of the served Ingresses.
func (s *Status) Run(ctx context.Context) error {
	s.mu.Lock()
	s.kick = make(chan struct{}, 1)
	s.mu.Unlock()
	lock, err := resourcelock.New(resourcelock.LeasesResourceLock, s.LeaseNamespace, s.LeaseName,
		s.Client.CoreV1(), s.Client.CoordinationV1(), resourcelock.ResourceLockConfig{Identity: s.Identity})
	if err != nil {
		return fmt.Errorf("making the status Lease lock: %w", err)
	}
	cfg := leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   orDefault(s.LeaseDuration, 30*time.Second),
		RenewDeadline:   orDefault(s.RenewDeadline, 20*time.Second),
		RetryPeriod:     orDefault(s.RetryPeriod, 5*time.Second),
		ReleaseOnCancel: true,
		Name:            s.LeaseName,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(ctx context.Context) {
				s.setLeading(true)
				s.log().Info("leading: this replica writes Ingress status", "lease", s.LeaseNamespace+"/"+s.LeaseName)
				s.writeLoop(ctx)
			},
			OnStoppedLeading: func() {
				s.setLeading(false)
				s.log().Info("no longer leading: Ingress status is another replica's to write")
			},
		},
	}
	for ctx.Err() == nil {
		le, err := leaderelection.NewLeaderElector(cfg)
		if err != nil {
			return fmt.Errorf("starting leader election: %w", err)
		}
		le.Run(ctx) // returns when leadership is lost or ctx ends
	}
	return nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func (s *Status) setLeading(b bool) {
	s.mu.Lock()
	s.leading = b
	s.mu.Unlock()
}

// writeLoop writes status now and after every change, until ctx ends.
func (s *Status) writeLoop(ctx context.Context) {
	for {
		s.write(ctx)
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		}
	}
}

// write brings the status of every served Ingress to the published
// addresses.
func (s *Status) write(ctx context.Context) {
	addrs, err := s.addresses(ctx)
	if err != nil {
		s.log().Warn("reading the published Service for Ingress status", "err", err)
		return
	}
	if addrs == nil {
		return
	}
	s.mu.Lock()
	served := s.served
	s.mu.Unlock()
	for _, ing := range served {
		cur, err := s.Client.NetworkingV1().Ingresses(ing.Namespace).Get(ctx, ing.Name, metav1.GetOptions{})
		if err != nil {
			continue
		}
		if reflect.DeepEqual(cur.Status.LoadBalancer.Ingress, addrs) {
			continue
		}
		cur = cur.DeepCopy()
		cur.Status.LoadBalancer.Ingress = addrs
		if _, err := s.Client.NetworkingV1().Ingresses(ing.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{}); err != nil {
			s.log().Warn("writing Ingress status", "ingress", objKey(ing.Namespace, ing.Name), "err", err)
		}
	}
}

// addresses returns the published Service's addresses in Ingress status
// form; nil without a PublishService.
func (s *Status) addresses(ctx context.Context) ([]netv1.IngressLoadBalancerIngress, error) {
	if s.PublishService == "" {
		return nil, nil
	}
	ns, name, ok := strings.Cut(s.PublishService, "/")
	if !ok {
		return nil, fmt.Errorf("--publish-service %q: want namespace/name", s.PublishService)
	}
	svc, err := s.Client.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	out := []netv1.IngressLoadBalancerIngress{}
	for _, lb := range svc.Status.LoadBalancer.Ingress {
		out = append(out, netv1.IngressLoadBalancerIngress{IP: lb.IP, Hostname: lb.Hostname})
	}
	if len(out) == 0 {
		for _, ip := range svc.Spec.ExternalIPs {
			out = append(out, netv1.IngressLoadBalancerIngress{IP: ip})
		}
	}
	if len(out) == 0 && svc.Spec.ClusterIP != "" && svc.Spec.ClusterIP != corev1.ClusterIPNone {
		out = append(out, netv1.IngressLoadBalancerIngress{IP: svc.Spec.ClusterIP})
	}
	return out, nil
}

// Events posts a Warning Event on each Ingress a translation leaves out,
// once per Ingress version and reason, so that `kubectl describe
// ingress` shows why it is not served.
type Events struct {
	Client kubernetes.Interface
	Log    *slog.Logger
	mu     sync.Mutex
	posted map[string]bool
}

// Rejected posts the Events for res's rejections; lookup finds the
// Ingress objects by "namespace/name".
func (e *Events) Rejected(ctx context.Context, res *Result, lookup func(key string) *netv1.Ingress) {
	for _, r := range res.Rejected {
		key, ok := strings.CutPrefix(r.Object, "Ingress ")
		if !ok {
			continue
		}
		ing := lookup(key)
		if ing == nil {
			continue
		}
		msg := strings.Join(r.Reasons, "; ")
		if len(msg) > 1000 {
			msg = msg[:1000] + "..."
		}
		id := string(ing.UID) + "\x00" + ing.ResourceVersion + "\x00" + msg
		e.mu.Lock()
		if e.posted == nil {
			e.posted = map[string]bool{}
		}
		done := e.posted[id]
		e.posted[id] = true
		e.mu.Unlock()
		if done {
			continue
		}
		now := metav1.Now()
		ev := &corev1.Event{
			// Named as client-go's event recorder names them.
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x", ing.Name, now.UnixNano()), Namespace: ing.Namespace},
			InvolvedObject: corev1.ObjectReference{Kind: "Ingress", APIVersion: "networking.k8s.io/v1",
				Namespace: ing.Namespace, Name: ing.Name, UID: ing.UID, ResourceVersion: ing.ResourceVersion},
			Reason: "Rejected", Message: msg, Type: corev1.EventTypeWarning,
			Source:         corev1.EventSource{Component: "wsgate-ingress"},
			FirstTimestamp: now, LastTimestamp: now, Count: 1,
		}
		if _, err := e.Client.CoreV1().Events(ing.Namespace).Create(ctx, ev, metav1.CreateOptions{}); err != nil && e.Log != nil {
			e.Log.Warn("posting an Event", "ingress", key, "err", err)
		}
	}
}
