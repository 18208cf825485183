// Package ingress translates Kubernetes objects written for ingress-nginx
// (Ingress v1, IngressClass, Service, EndpointSlice, Secret and the
// controller's ConfigMap) into wsgate's configuration: a config.AST built
// directly, statement by statement, then checked by config.Check into the
// Spec the server serves. No nginx.conf is written or read back: the AST
// is the configuration, and Print renders it in nginx syntax for --dump
// (so that wsgate -t can check what the controller serves).
//
// The translation follows ingress-nginx's template (v1.15): one server
// block per host, listening on the HTTP and HTTPS ports; one location per
// path (a Prefix path /p becomes "location /p/" and "location = /p"; a
// host with use-regex or rewrite-target gets case-insensitive regex
// locations for every path, as ingress-nginx does); one upstream block per
// Service port, whose peers are the ready endpoints of its EndpointSlices.
//
// Endpoints are not written into the configuration the controller serves:
// an upstream lists a name per Service port (NAME.endpoints.invalid, RFC
// 2606's reserved top-level domain) that the Resolver answers from the
// EndpointSlices, so an endpoint change rebuilds the upstream's peers
// while the configuration, and therefore every route key and every open
// tunnel, stays as it was. --dump writes the addresses instead.
//
// A broken object is reported and left out; the rest is served. Each
// generated statement carries a position naming the object (and the
// annotation or ConfigMap key) it came from, and a statement that
// config.Check refuses takes out that Ingress (or that ConfigMap key)
// alone, with Check's message as the reason.
//
// This package and cmd/wsgate-ingress are the only ones that import
// k8s.io modules; the wsgate binary links none of them.
package ingress
