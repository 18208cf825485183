package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"

	netv1 "k8s.io/api/networking/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"wsgate/internal/ingress"
	"wsgate/internal/server"
)

// runCluster is the controller: informers on the API server, a debounced
// rebuild per batch of changes, Events on Ingresses left out, and Ingress
// status written by the replica that holds the Lease.
func runCluster(o *options, log *slog.Logger) int {
	cfg, err := restConfig(o.kubeconfig)
	if err != nil {
		log.Error("connecting to the cluster", "err", err, "hint", "use --kubeconfig outside a cluster, or --manifests DIR")
		return 1
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		log.Error("connecting to the cluster", "err", err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var srv atomic.Pointer[server.Server]
	var ctl *ingress.Controller
	w := &ingress.Watcher{Client: client, Namespace: o.translate.Namespace, ConfigMap: o.configMap, Log: log,
		Changed: func() {
			if s := srv.Load(); s != nil {
				ctl.Do(s.Reload)
			}
		}}
	if err := w.Start(ctx); err != nil {
		log.Error("watching the cluster", "err", err)
		return 1
	}
	pod, ns := os.Getenv("POD_NAME"), os.Getenv("POD_NAMESPACE")
	if pod == "" {
		pod, _ = os.Hostname()
	}
	if ns == "" {
		ns = "default"
	}
	status := &ingress.Status{Client: client, PublishService: o.publish, LeaseNamespace: ns, LeaseName: o.electionID, Identity: pod, Log: log}
	events := &ingress.Events{Client: client, Log: log}
	lookup := func(key string) *netv1.Ingress {
		st, _ := w.State()
		for _, i := range st.Ingresses {
			if i.Namespace+"/"+i.Name == key {
				return i
			}
		}
		return nil
	}
	ctl = &ingress.Controller{States: w.State, Options: o.translate, Log: log,
		Report: func(res *ingress.Result) {
			status.Serving(res.ServedIngresses)
			go events.Rejected(ctx, res, lookup)
		}}
	return serve(o, ctl, func(s *server.Server) func() {
		srv.Store(s)
		go func() {
			if err := status.Run(ctx); err != nil {
				log.Error("Ingress status", "err", err)
			}
		}()
		return cancel
	}, log)
}

// restConfig is the in-cluster configuration (the pod's service account)
// or, with --kubeconfig, that file's current context.
func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", kubeconfig, err)
		}
		return cfg, nil
	}
	return rest.InClusterConfig()
}
