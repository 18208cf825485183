package snapshot

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/ocsp"
)

// clientOCSP checks client certificates with OCSP (ssl_ocsp,
// ssl_ocsp_responder, ssl_ocsp_cache) once their chain verified, as
// nginx does during the handshake (ngx_ssl_ocsp_validate): each
// certificate but the anchor ("on") or the leaf alone ("leaf") is asked
// about at ssl_ocsp_responder, else at its own responder (AIA), and the
// response must be signed by its issuer or a responder the issuer
// delegated to, anchored in the trusted CAs. A revoked certificate is
// "certificate revoked", any other failure "certificate status request
// failed", as nginx reports them in $ssl_client_verify. The question is
// asked on the connection's own goroutine, once per connection, bounded
// by ocspTimeout. Unlike nginx, a responder named by host is resolved
// with the system's resolver: nginx needs a "resolver" for it.
type clientOCSP struct {
	leafOnly  bool
	responder string
	cache     *ocspCache // nil: none (ssl_ocsp_cache off)
	client    *http.Client
}

// ocspTimeout bounds one OCSP question (nginx's resolver and responder
// timeouts are its ssl_ocsp defaults: 30 s and 60 s; a client waits).
const ocspTimeout = 10 * time.Second

// newClientOCSP is t's OCSP check, nil when ssl_ocsp is off.
func newClientOCSP(t *config.TLSConf) *clientOCSP {
	if t.OCSP == "" || t.OCSP == "off" {
		return nil
	}
	o := &clientOCSP{leafOnly: t.OCSP == "leaf", responder: t.OCSPResponder,
		client: &http.Client{Timeout: ocspTimeout, Transport: &http.Transport{Proxy: nil}}}
	if strings.HasPrefix(t.OCSPCache, "shared:") {
		o.cache = sharedOCSPCache(t.OCSPCache)
	}
	return o
}

// check returns "" when chain (leaf first, anchor last) passes, else
// the reason for $ssl_client_verify.
func (o *clientOCSP) check(chain []*x509.Certificate, roots *x509.CertPool, now time.Time) string {
	n := len(chain) - 1
	if o.leafOnly {
		n = min(n, 1)
	}
	for i := 0; i < n; i++ {
		cert, issuer := chain[i], chain[i+1]
		key := string(issuer.RawSubject) + "\x00" + string(cert.SerialNumber.Bytes())
		if o.cache != nil {
			if r, ok := o.cache.get(key, now); ok {
				if r != "" {
					return r
				}
				continue
			}
		}
		r, next := o.ask(cert, issuer, roots, now)
		if o.cache != nil && (r == "" || r == "certificate revoked") {
			o.cache.put(key, r, next)
		}
		if r != "" {
			return r
		}
	}
	return ""
}

// ask makes one OCSP question and returns its reason ("" for good) and
// until when the answer holds.
func (o *clientOCSP) ask(cert, issuer *x509.Certificate, roots *x509.CertPool, now time.Time) (string, time.Time) {
	const failed = "certificate status request failed"
	responder := o.responder
	if responder == "" && len(cert.OCSPServer) > 0 {
		responder = cert.OCSPServer[0]
	}
	if responder == "" {
		return failed, time.Time{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), ocspTimeout)
	defer cancel()
	der, err := ocsp.Query(ctx, o.client, responder, cert, issuer)
	if err != nil {
		return failed, time.Time{}
	}
	resp, err := ocsp.Check(der, cert, issuer, roots, now)
	switch {
	case errors.Is(err, ocsp.ErrRevoked):
		return "certificate revoked", now.Add(time.Hour)
	case err != nil:
		return failed, time.Time{}
	}
	next := resp.NextUpdate
	if next.IsZero() {
		next = now.Add(time.Hour)
	}
	return "", next
}

// ocspCache is ssl_ocsp_cache: answers by issuer and serial until their
// next update, at most max of them.
type ocspCache struct {
	mu  sync.Mutex
	max int
	m   map[string]ocspAnswer
}

type ocspAnswer struct {
	reason string
	until  time.Time
}

// sharedOCSPCaches are the caches by name; like nginx's shared zones
// they outlive a reload.
var sharedOCSPCaches struct {
	sync.Mutex
	m map[string]*ocspCache
}

// sharedOCSPCache is the cache "shared:NAME:SIZE" names, about 4000
// answers a MiB.
func sharedOCSPCache(spec string) *ocspCache {
	name, size, _ := strings.Cut(strings.TrimPrefix(spec, "shared:"), ":")
	n, _ := config.ParseSize(size)
	sharedOCSPCaches.Lock()
	defer sharedOCSPCaches.Unlock()
	if sharedOCSPCaches.m == nil {
		sharedOCSPCaches.m = map[string]*ocspCache{}
	}
	c := sharedOCSPCaches.m[name]
	if c == nil {
		c = &ocspCache{m: map[string]ocspAnswer{}}
		sharedOCSPCaches.m[name] = c
	}
	c.mu.Lock()
	c.max = max(int(n*sessionsPerMiB/(1<<20)), 1)
	c.mu.Unlock()
	return c
}

func (c *ocspCache) get(key string, now time.Time) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.m[key]
	if !ok || !now.Before(a.until) {
		delete(c.m, key)
		return "", false
	}
	return a.reason, true
}

func (c *ocspCache) put(key, reason string, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		// Full: drop what has expired, else any one.
		now := time.Now()
		for k, a := range c.m {
			if !now.Before(a.until) {
				delete(c.m, k)
			}
		}
		for k := range c.m {
			if len(c.m) < c.max {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[key] = ocspAnswer{reason: reason, until: until}
}
