package ocsp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	xocsp "golang.org/x/crypto/ocsp"
)

// Schedule of refreshes (ngx_ssl_stapling_ocsp_handler): at most an hour
// after a fetch, five minutes before the response expires, and never
// sooner than five minutes later; after a failure, five minutes later.
const (
	maxAge      = time.Hour
	expiryGrace = 5 * time.Minute
	retryAfter  = 5 * time.Minute
	// fetchTimeout bounds one OCSP request.
	fetchTimeout = 10 * time.Second
	// maxResponse bounds an OCSP response's size.
	maxResponse = 64 << 10
)

// Stapler fetches and refreshes OCSP responses, one entry per
// certificate and responder. Safe for concurrent use; the zero value is
// not usable: see New.
type Stapler struct {
	log    *slog.Logger
	client *http.Client
	now    func() time.Time

	mu      sync.Mutex
	entries map[[32]byte]*entry
	closed  bool
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// New returns a Stapler that logs to log (nil: discard).
func New(log *slog.Logger) *Stapler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Stapler{log: log, client: &http.Client{Timeout: fetchTimeout}, now: time.Now,
		entries: map[[32]byte]*entry{}, ctx: ctx, cancel: cancel}
}

// Close stops every refresh and waits for them.
func (s *Stapler) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// Source is one certificate to staple.
type Source struct {
	Leaf, Issuer *x509.Certificate
	// Responder is the URL asked: ssl_stapling_responder, else the
	// certificate's first OCSP server.
	Responder string
	// Roots, when set (ssl_stapling_verify), must anchor the responder's
	// certificate; otherwise the issuer's signature suffices.
	Roots *x509.CertPool
}

// entry is one certificate's current response.
type entry struct {
	src  Source
	mu   sync.Mutex
	resp []byte // DER of the current good response; nil while none
}

// Staple returns the function a handshake calls for the current response
// of src (nil while none is good), starting its fetches on first use.
func (s *Stapler) Staple(src Source) func() []byte {
	// The entry is the certificate's as asked for: the same leaf with
	// another responder, issuer or verification is another entry.
	h := sha256.New()
	h.Write(src.Leaf.Raw)
	h.Write([]byte{0, byte(len(src.Responder) >> 8), byte(len(src.Responder))})
	h.Write([]byte(src.Responder))
	if src.Issuer != nil {
		h.Write(src.Issuer.Raw)
	}
	if src.Roots != nil {
		h.Write([]byte("verify"))
	}
	var key [32]byte
	h.Sum(key[:0])
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[key]
	if e == nil {
		e = &entry{src: src}
		s.entries[key] = e
		switch {
		case src.Issuer == nil:
			s.log.Warn(`"ssl_stapling" ignored, issuer certificate not found`, "certificate", src.Leaf.Subject.String())
		case src.Responder == "":
			s.log.Warn(`"ssl_stapling" ignored, no OCSP responder URL in the certificate`, "certificate", src.Leaf.Subject.String())
		case !s.closed:
			s.wg.Add(1)
			go s.refresh(e)
		}
	}
	return func() []byte {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.resp
	}
}

// refresh keeps e's response fresh until the Stapler closes.
func (s *Stapler) refresh(e *entry) {
	defer s.wg.Done()
	for {
		next := s.fetch(e)
		t := time.NewTimer(time.Until(next))
		select {
		case <-s.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// fetch asks e's responder once and returns when to ask again.
func (s *Stapler) fetch(e *entry) time.Time {
	now := s.now()
	der, resp, err := s.ask(e.src)
	if err != nil {
		s.log.Warn("OCSP response not stapled", "responder", e.src.Responder,
			"certificate", e.src.Leaf.Subject.String(), "err", err)
		e.mu.Lock()
		if e.resp != nil && expired(e.resp, now) {
			e.resp = nil
		}
		e.mu.Unlock()
		return now.Add(retryAfter)
	}
	e.mu.Lock()
	e.resp = der
	e.mu.Unlock()
	next := now.Add(maxAge)
	if !resp.NextUpdate.IsZero() && resp.NextUpdate.Add(-expiryGrace).Before(next) {
		next = resp.NextUpdate.Add(-expiryGrace)
	}
	if soonest := now.Add(retryAfter); next.Before(soonest) {
		next = soonest
	}
	return next
}

// expired reports whether a stapled response is past its NextUpdate.
func expired(der []byte, now time.Time) bool {
	r, err := xocsp.ParseResponse(der, nil)
	return err != nil || (!r.NextUpdate.IsZero() && now.After(r.NextUpdate))
}

// ask makes one OCSP request and checks the answer.
func (s *Stapler) ask(src Source) ([]byte, *xocsp.Response, error) {
	ctx, cancel := context.WithTimeout(s.ctx, fetchTimeout)
	defer cancel()
	der, err := Query(ctx, s.client, src.Responder, src.Leaf, src.Issuer)
	if err != nil {
		return nil, nil, err
	}
	resp, err := Check(der, src.Leaf, src.Issuer, src.Roots, s.now())
	if err != nil {
		return nil, nil, err
	}
	return der, resp, nil
}

// Query asks responder about leaf and returns the DER response, not
// checked. The request is a GET (RFC 6960 A.1: the responder's URL, "/",
// the DER request in base64, URL-encoded), as nginx always sends it
// (ngx_ssl_ocsp_create_request); some responders answer GET only.
func Query(ctx context.Context, client *http.Client, responder string, leaf, issuer *x509.Certificate) ([]byte, error) {
	req, err := xocsp.CreateRequest(leaf, issuer, nil)
	if err != nil {
		return nil, fmt.Errorf("making the request: %w", err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, getURL(responder, req), nil)
	if err != nil {
		return nil, err
	}
	res, err := client.Do(hr)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("responder answered %s", res.Status)
	}
	der, err := io.ReadAll(io.LimitReader(res.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("reading the response: %w", err)
	}
	if len(der) > maxResponse {
		return nil, errors.New("response too large")
	}
	return der, nil
}

// ErrRevoked is Check's error for a response that says "revoked".
var ErrRevoked = errors.New(`certificate status "revoked" in the OCSP response`)

// Check parses an OCSP response for leaf and checks it: status good, not
// expired, and, when roots is set (ssl_stapling_verify), signed by issuer
// or by a responder certificate the issuer signed, which roots anchor.
func Check(der []byte, leaf, issuer *x509.Certificate, roots *x509.CertPool, now time.Time) (*xocsp.Response, error) {
	if roots == nil {
		// ssl_stapling_verify off: nginx checks no signer
		// (OCSP_NOVERIFY), only the status of this certificate.
		issuer = nil
	}
	resp, err := xocsp.ParseResponseForCert(der, leaf, nil)
	if err == nil && issuer != nil && (resp.Certificate == nil || !bytes.Equal(resp.Certificate.Raw, issuer.Raw)) {
		// Signed by the issuer, or by a responder the issuer signed.
		// (x/crypto would take an issuer that embeds itself, as OpenSSL
		// writes its responses, for a delegate, and refuse it; parsed
		// without the issuer it is checked against itself above.)
		resp, err = xocsp.ParseResponseForCert(der, leaf, issuer)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing the response: %w", err)
	}
	if roots != nil {
		signer := issuer
		if resp.Certificate != nil {
			signer = resp.Certificate
		}
		if _, err := signer.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			return nil, fmt.Errorf("verifying the responder: %w", err)
		}
	}
	switch resp.Status {
	case xocsp.Good:
	case xocsp.Revoked:
		return nil, ErrRevoked
	default:
		return nil, errors.New(`certificate status "unknown" in the OCSP response`)
	}
	if !resp.NextUpdate.IsZero() && now.After(resp.NextUpdate) {
		return nil, errors.New("OCSP response has expired")
	}
	return resp, nil
}

// getURL is the URL of an OCSP GET request (RFC 6960 A.1) to responder:
// its path, a "/" unless the path ends in one, and req in base64 with
// "+", "/" and "=" percent-encoded (ngx_escape_uri's component escaping
// leaves the other base64 characters alone).
func getURL(responder string, req []byte) string {
	if !strings.HasSuffix(responder, "/") {
		responder += "/"
	}
	return responder + strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(base64.StdEncoding.EncodeToString(req))
}
