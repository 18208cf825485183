package ingress

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// DefaultDebounce is how long a Watcher gathers changes before one
// rebuild: a rolling update that moves ten endpoints is one reload, not
// ten.
const DefaultDebounce = 300 * time.Millisecond

// Watcher keeps the State of a cluster with client-go informers (Ingress
// v1, IngressClass, Service, EndpointSlice, Secret and the controller's
// ConfigMap) and calls Changed, debounced, after they change.
type Watcher struct {
	Client kubernetes.Interface
	// Namespace limits Ingresses, Services, EndpointSlices and Secrets
	// to one namespace; "" watches all.
	Namespace string
	// ConfigMap is the controller's ConfigMap, "namespace/name"; ""
	// for none.
	ConfigMap string
	// Debounce gathers changes into one rebuild; 0 means
	// DefaultDebounce.
	Debounce time.Duration
	// Changed is called, from one goroutine, after each batch of
	// changes (the server's Reload).
	Changed func()
	Log     *slog.Logger

	factory, cmFactory informers.SharedInformerFactory
	kick               chan struct{}
	once               sync.Once
}

// Start starts the informers and waits until their caches are filled (or
// ctx ends); the rebuild loop runs until ctx ends.
func (w *Watcher) Start(ctx context.Context) error {
	w.kick = make(chan struct{}, 1)
	opts := []informers.SharedInformerOption{}
	if w.Namespace != "" {
		opts = append(opts, informers.WithNamespace(w.Namespace))
	}
	w.factory = informers.NewSharedInformerFactoryWithOptions(w.Client, 0, opts...)
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { w.changed() },
		UpdateFunc: func(any, any) { w.changed() },
		DeleteFunc: func(any) { w.changed() },
	}
	infs := []cache.SharedIndexInformer{
		w.factory.Networking().V1().Ingresses().Informer(),
		w.factory.Networking().V1().IngressClasses().Informer(),
		w.factory.Core().V1().Services().Informer(),
		w.factory.Discovery().V1().EndpointSlices().Informer(),
		w.factory.Core().V1().Secrets().Informer(),
	}
	if w.ConfigMap != "" {
		ns, name, ok := strings.Cut(w.ConfigMap, "/")
		if !ok {
			return fmt.Errorf("--configmap %q: want namespace/name", w.ConfigMap)
		}
		w.cmFactory = informers.NewSharedInformerFactoryWithOptions(w.Client, 0, informers.WithNamespace(ns),
			informers.WithTweakListOptions(func(o *metav1.ListOptions) {
				o.FieldSelector = fields.OneTermEqualSelector("metadata.name", name).String()
			}))
		infs = append(infs, w.cmFactory.Core().V1().ConfigMaps().Informer())
	}
	for _, inf := range infs {
		if _, err := inf.AddEventHandler(handler); err != nil {
			return err
		}
	}
	w.factory.Start(ctx.Done())
	if w.cmFactory != nil {
		w.cmFactory.Start(ctx.Done())
	}
	for _, inf := range infs {
		if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
			return fmt.Errorf("watching the cluster: %w", context.Cause(ctx))
		}
	}
	// The changes seen while the caches filled are the first build's.
	select {
	case <-w.kick:
	default:
	}
	go w.loop(ctx)
	return nil
}

func (w *Watcher) changed() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// loop calls Changed once per batch: after a change, it waits Debounce
// for more, then rebuilds.
func (w *Watcher) loop(ctx context.Context) {
	d := w.Debounce
	if d <= 0 {
		d = DefaultDebounce
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.kick:
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		select {
		case <-w.kick: // folded into this rebuild
		default:
		}
		if w.Changed != nil {
			w.Changed()
		}
	}
}

// State returns the objects the informers hold now.
func (w *Watcher) State() (*State, []error) {
	st := &State{}
	var errs []error
	var err error
	if st.Ingresses, err = w.factory.Networking().V1().Ingresses().Lister().List(labels.Everything()); err != nil {
		errs = append(errs, err)
	}
	if st.IngressClasses, err = w.factory.Networking().V1().IngressClasses().Lister().List(labels.Everything()); err != nil {
		errs = append(errs, err)
	}
	if st.Services, err = w.factory.Core().V1().Services().Lister().List(labels.Everything()); err != nil {
		errs = append(errs, err)
	}
	if st.EndpointSlices, err = w.factory.Discovery().V1().EndpointSlices().Lister().List(labels.Everything()); err != nil {
		errs = append(errs, err)
	}
	if st.Secrets, err = w.factory.Core().V1().Secrets().Lister().List(labels.Everything()); err != nil {
		errs = append(errs, err)
	}
	if w.cmFactory != nil {
		cms, err := w.cmFactory.Core().V1().ConfigMaps().Lister().List(labels.Everything())
		if err != nil {
			errs = append(errs, err)
		}
		for _, cm := range cms {
			if objKey(cm.Namespace, cm.Name) == w.ConfigMap {
				st.ConfigMap = cm
			}
		}
	}
	return st, errs
}
