package snapshot

import (
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	xocsp "golang.org/x/crypto/ocsp"

	"wsgate/internal/config"
)

// TestClientOCSP checks ssl_ocsp against a responder the test runs: a
// good answer passes, a revoked one is "certificate revoked", a responder
// that fails is "certificate status request failed", and ssl_ocsp_cache
// keeps an answer until its next update. The responses embed their
// signer, the issuer (an intermediate), as OpenSSL writes them.
func TestClientOCSP(t *testing.T) {
	root, rootKey := testCert(t, "root", 1, nil, nil)
	inter, interKey := testCert(t, "int", 2, root, rootKey)
	inter = asCA(t, inter, root, rootKey)
	end, _ := testCert(t, "end", 5, inter, interKey)
	var status atomic.Int32 // xocsp.Good, Revoked; -1: HTTP 500
	responder := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(r.URL.Path, "/")); err != nil || r.Method != http.MethodGet {
			http.Error(w, "bad request", 400)
			return
		}
		st := int(status.Load())
		if st < 0 {
			http.Error(w, "down", 500)
			return
		}
		now := time.Now()
		der, err := xocsp.CreateResponse(inter, inter, xocsp.Response{Status: st, SerialNumber: end.SerialNumber,
			ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour), RevokedAt: now.Add(-time.Minute),
			Certificate: inter}, interKey)
		if err != nil {
			t.Error(err)
		}
		w.Write(der)
	}))
	t.Cleanup(responder.Close)
	roots := x509.NewCertPool()
	roots.AddCert(root)
	chain := []*x509.Certificate{end, inter, root}
	now := time.Now()

	plain := newClientOCSP(&config.TLSConf{OCSP: "leaf", OCSPResponder: responder.URL, OCSPCache: "off"})
	cached := newClientOCSP(&config.TLSConf{OCSP: "leaf", OCSPResponder: responder.URL, OCSPCache: "shared:TestClientOCSP:1m"})
	for _, step := range []struct {
		desc   string
		status int
		o      *clientOCSP
		want   string
	}{
		{"good", xocsp.Good, plain, ""},
		{"good, stored in the cache", xocsp.Good, cached, ""},
		{"revoked", xocsp.Revoked, plain, "certificate revoked"},
		{"revoked, the cache's answer", xocsp.Revoked, cached, ""},
		{"responder fails", -1, plain, "certificate status request failed"},
	} {
		status.Store(int32(step.status))
		if got := step.o.check(chain, roots, now); got != step.want {
			t.Errorf("%s: got %q; want %q", step.desc, got, step.want)
		}
	}
	if newClientOCSP(&config.TLSConf{OCSP: "off"}) != nil {
		t.Error("ssl_ocsp off checks")
	}
}
