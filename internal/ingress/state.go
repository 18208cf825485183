package ingress

import (
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	netv1 "k8s.io/api/networking/v1"

	"wsgate/internal/config"
)

// State is the set of objects a translation reads: everything the
// controller's informers (or a --manifests directory) hold. Slices may be
// in any order; Translate sorts what it needs.
type State struct {
	Ingresses      []*netv1.Ingress
	IngressClasses []*netv1.IngressClass
	Services       []*corev1.Service
	EndpointSlices []*discoveryv1.EndpointSlice
	Secrets        []*corev1.Secret
	// ConfigMap is the controller's ConfigMap (ingress-nginx's
	// --configmap), nil for none.
	ConfigMap *corev1.ConfigMap
}

// Defaults of Options, as ingress-nginx's.
const (
	DefaultController = "k8s.io/ingress-nginx"
	DefaultClass      = "nginx"
)

// Options are the controller's settings that shape a translation.
type Options struct {
	// Controller is the IngressClass spec.controller this controller
	// serves; "" means DefaultController.
	Controller string
	// Class is the class name served even without an IngressClass
	// object (ingress-nginx's --ingress-class), also matched against the
	// kubernetes.io/ingress.class annotation; "" means DefaultClass.
	Class string
	// WithoutClass serves Ingresses that name no class
	// (--watch-ingress-without-class). An IngressClass of ours marked
	// ingressclass.kubernetes.io/is-default-class has the same effect.
	WithoutClass bool
	// Namespace limits the Ingresses served to one namespace; "" is all.
	Namespace string
	// HTTPListen and HTTPSListen are the listen addresses of every
	// server block ("80" and "443" when empty).
	HTTPListen, HTTPSListen string
	// SSLDir is where certificates from Secrets are written, one
	// NAMESPACE-NAME.pem per Secret (certificate chain then key, mode
	// 0600) at a path that stays the same when the Secret changes, so a
	// rotated certificate is a reload that keeps every route key.
	SSLDir string
	// DefaultCertificate is "namespace/name" of the Secret served to
	// hosts without one of their own (--default-ssl-certificate); ""
	// means a self-signed certificate made at start.
	DefaultCertificate string
	// AccessLog is where requests are logged in the log-format-upstream
	// format: "" means /dev/stdout (as ingress-nginx, for kubectl
	// logs), "off" none.
	AccessLog string
	// Resolved writes endpoint addresses into upstream blocks instead of
	// the names the Resolver answers: the form --dump prints.
	Resolved bool
	// NameServers are the cluster's DNS servers (the pod's
	// /etc/resolv.conf), as ingress-nginx writes them into "resolver": an
	// auth-url is then looked up at request time, so that a name that
	// does not resolve costs that Ingress's requests, not the whole
	// configuration. Empty: auth-url is a plain proxy_pass, looked up
	// when the configuration is built.
	NameServers []string
}

func (o *Options) controller() string {
	if o.Controller == "" {
		return DefaultController
	}
	return o.Controller
}

func (o *Options) accessLog() string {
	if o.AccessLog == "" {
		return "/dev/stdout"
	}
	return o.AccessLog
}

func (o *Options) class() string {
	if o.Class == "" {
		return DefaultClass
	}
	return o.Class
}

func (o *Options) listens() (string, string) {
	h, s := o.HTTPListen, o.HTTPSListen
	if h == "" {
		h = "80"
	}
	if s == "" {
		s = "443"
	}
	return h, s
}

// objKey is "namespace/name".
func objKey(ns, name string) string { return ns + "/" + name }

// ourClasses returns the IngressClass names this controller serves and
// whether one of them is the cluster's default class.
func (st *State) ourClasses(o *Options) (map[string]bool, bool) {
	names := map[string]bool{o.class(): true}
	def := false
	for _, c := range st.IngressClasses {
		if c.Spec.Controller != o.controller() {
			continue
		}
		names[c.Name] = true
		if c.Annotations["ingressclass.kubernetes.io/is-default-class"] == "true" {
			def = true
		}
	}
	return names, def
}

// classOf says which class ing asks for, and how: by spec.ingressClassName
// or by the kubernetes.io/ingress.class annotation ("" when neither).
func classOf(ing *netv1.Ingress) string {
	if ing.Spec.IngressClassName != nil {
		return *ing.Spec.IngressClassName
	}
	return ing.Annotations["kubernetes.io/ingress.class"]
}

// Ours reports whether this controller serves ing (its class and
// namespace), and if not, why not.
func (st *State) Ours(ing *netv1.Ingress, o *Options) (bool, string) {
	if o.Namespace != "" && ing.Namespace != o.Namespace {
		return false, "namespace " + ing.Namespace + " is not watched"
	}
	names, def := st.ourClasses(o)
	c := classOf(ing)
	if c == "" {
		if o.WithoutClass || def {
			return true, ""
		}
		return false, "it names no ingress class (serve those with --watch-ingress-without-class)"
	}
	if !names[c] {
		return false, "class " + c + " is another controller's"
	}
	return true, ""
}

// sortedIngresses returns the Ingresses in ingress-nginx's precedence:
// older first (a path two Ingresses claim goes to the older), then by
// namespace and name.
func sortedIngresses(in []*netv1.Ingress) []*netv1.Ingress {
	out := append([]*netv1.Ingress(nil), in...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	return out
}

// AST construction. Every generated statement has a position whose File
// names its origin ("Ingress ns/name", "Ingress ns/name annotation
// nginx.ingress.kubernetes.io/x", "ConfigMap ns/name key k") and Line 0,
// so that an error Check reports leads back to the object.

func word(s string) config.Word {
	return config.Word{Text: s, Quoted: s == "" || strings.ContainsAny(s, " \t\r\n;{}\"'#\\")}
}

func stmt(pos config.Pos, name string, args ...string) *config.Directive {
	d := &config.Directive{Name: name, Pos: pos}
	for _, a := range args {
		w := word(a)
		w.Pos = pos
		d.Args = append(d.Args, w)
	}
	return d
}

func block(pos config.Pos, name string, args []string, body ...*config.Directive) *config.Directive {
	d := stmt(pos, name, args...)
	d.HasBlock = true
	d.Block = body
	if d.Block == nil {
		d.Block = []*config.Directive{}
	}
	return d
}

// origin is the position of statements generated from file.
func origin(file string) config.Pos { return config.Pos{File: file} }
