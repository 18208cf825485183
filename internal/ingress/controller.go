package ingress

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	netv1 "k8s.io/api/networking/v1"

	"wsgate/internal/config"
)

// Controller turns the objects of a cluster (or of a manifest directory)
// into configurations for the server: Source is the server's config
// source, Resolve its upstream resolver. Every call of Source translates
// the State that States returns at that moment; Resolve answers from the
// endpoints of the last successful translation, so that a configuration
// and the peers its names resolve to come from one view of the cluster.
type Controller struct {
	// States returns the objects to translate (required). It may
	// return errors for objects that could not be read (a manifest
	// document); they are logged, and the rest is translated.
	States func() (*State, []error)
	// Options shape the translation.
	Options Options
	// Log receives the reports: objects left out, notices (each once
	// per process), Ingresses of other classes; nil means slog.Default().
	Log *slog.Logger
	// Report, when set, is called with every successful translation
	// (for Events and Ingress status).
	Report func(*Result)
	// WriteCerts writes certificates; nil means WriteCerts (files under
	// Options.SSLDir).
	WriteCerts func(map[string][]byte) error

	mu        sync.Mutex
	endpoints map[string][]netip.Addr
	last      *Result
	logged    map[string]bool
	// good is the last version of each Ingress that was served: an
	// edit that breaks an Ingress leaves its previous version serving
	// (as ingress-nginx's admission webhook refuses such an edit), so
	// its tunnels stay open.
	good map[string]*netv1.Ingress
	// lastGood is good before the last translation, what an Ingress
	// goes back to when the server cannot build its new version.
	lastGood map[string]*netv1.Ingress
	// buildRejects are the Ingresses the server could not build, by
	// key: left out at that version (see Retry).
	buildRejects map[string]*buildReject
}

// buildReject is an Ingress version the server could not build.
type buildReject struct {
	version string
	reasons []string
}

func (c *Controller) log() *slog.Logger {
	if c.Log == nil {
		return slog.Default()
	}
	return c.Log
}

// Source translates the current objects into a checked configuration
// (the server's config source). Objects that are broken are reported and
// left out; an error means nothing could be made of the objects, and the
// running configuration keeps serving.
func (c *Controller) Source() (*config.Spec, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, errs := c.States()
	for _, err := range errs {
		c.once("object", "object refused", "err", err.Error())
	}
	if st == nil {
		return nil, fmt.Errorf("reading the cluster's objects: %v", errs)
	}
	st, built := c.withoutBuildRejects(st)
	res, err := Translate(st, c.Options)
	if err == nil {
		if prev := c.previous(st, res); prev != nil {
			if res2, err2 := Translate(prev, c.Options); err2 == nil {
				// The edits stay reported as refused.
				seen := map[string]bool{}
				for _, r := range res2.Rejected {
					seen[r.Object] = true
				}
				for _, r := range res.Rejected {
					if !seen[r.Object] {
						res2.Rejected = append(res2.Rejected, r)
					}
				}
				res = res2
			}
		}
	}
	res.Rejected = append(res.Rejected, built...)
	for _, r := range res.Rejected {
		c.once("rejected", "object left out", "object", r.Object, "reasons", strings.Join(r.Reasons, "; "))
	}
	for _, n := range res.Notices {
		c.once("notice", n)
	}
	for _, s := range res.Skipped {
		c.once("skipped", "not served", "why", s)
	}
	if err != nil {
		return nil, err
	}
	write := c.WriteCerts
	if write == nil {
		write = WriteCerts
	}
	if err := write(res.Certs); err != nil {
		return nil, err
	}
	c.endpoints = res.Endpoints
	c.last = res
	c.lastGood = c.good
	c.good = map[string]*netv1.Ingress{}
	for _, ing := range res.ServedIngresses {
		c.good[objKey(ing.Namespace, ing.Name)] = ing
	}
	if c.Report != nil {
		c.Report(res)
	}
	return res.Spec, nil
}

// previous returns st with each rejected Ingress that was served before
// in its last served version, or nil when there is none to bring back.
func (c *Controller) previous(st *State, res *Result) *State {
	back := map[string]*netv1.Ingress{}
	for _, r := range res.Rejected {
		key, ok := strings.CutPrefix(r.Object, "Ingress ")
		if !ok {
			continue
		}
		if g := c.good[key]; g != nil {
			back[key] = g
		}
	}
	if len(back) == 0 {
		return nil
	}
	out := *st
	out.Ingresses = make([]*netv1.Ingress, len(st.Ingresses))
	for i, ing := range st.Ingresses {
		out.Ingresses[i] = ing
		if g := back[objKey(ing.Namespace, ing.Name)]; g != nil {
			out.Ingresses[i] = g
			c.once("previous", "serving the previous version of an Ingress whose edit was refused", "ingress", objKey(ing.Namespace, ing.Name), "resourceVersion", g.ResourceVersion)
		}
	}
	return &out
}

// once logs a message the first time it is seen in this process:
// unknown annotations, notices and the same rejection are listed once,
// not at every rebuild.
func (c *Controller) once(kind, msg string, args ...any) {
	key := kind + "\x00" + msg + "\x00" + fmt.Sprint(args...)
	if c.logged == nil {
		c.logged = map[string]bool{}
	}
	if c.logged[key] {
		return
	}
	c.logged[key] = true
	switch kind {
	case "rejected", "object":
		c.log().Error(msg, args...)
	default:
		c.log().Info(msg, args...)
	}
}

// Last returns the last successful translation, nil before the first.
func (c *Controller) Last() *Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// Resolve is the server's upstream resolver: names ending in
// EndpointSuffix are answered from the EndpointSlices of the last
// translation, other names (ExternalName Services, proxy_pass to a
// cluster DNS name in a snippet) by the system's resolver.
func (c *Controller) Resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if !strings.HasSuffix(host, EndpointSuffix) {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	}
	c.mu.Lock()
	addrs := c.endpoints[host]
	c.mu.Unlock()
	if len(addrs) == 0 {
		return nil, fmt.Errorf("no ready endpoints for %s", strings.TrimSuffix(host, EndpointSuffix))
	}
	return addrs, nil
}
