package pipeline

import (
	"strings"

	"wsgate/internal/exchange"
	"wsgate/internal/route"
	"wsgate/internal/snapshot"
)

// Codes nginx answers a request with when ssl_verify_client refuses it
// (NGX_HTTPS_CERT_ERROR, NGX_HTTPS_NO_CERT): sent as 400 with their own
// pages (http1.StatusSSLCertError, http1.StatusSSLNoCert).
const (
	statusSSLCertError = 495
	statusSSLNoCert    = 496
	statusToHTTPS      = 497 // plain HTTP on an ssl address
)

// checkClientCert is what nginx does with plain HTTP on an ssl address
// (497) and with client certificates once the
// request's server is known (ngx_http_set_virtual_server,
// ngx_http_process_request): a Host other than the TLS SNI, when the
// server it names verifies clients, is 421 Misdirected Request (the
// certificate was checked by the SNI server's CAs); then
// under "ssl_verify_client on|optional" a failed check is 495, and under
// "on" no certificate is 496. "optional_no_ca" lets a certificate of an
// unknown CA through. It returns 0 to go on.
func (pc *Conn) checkClientCert(srv *route.Server, r *exchange.Request) int {
	c := pc.c
	if c.PlainOnTLS {
		pc.p.Log.Info("client sent plain HTTP request to HTTPS port while reading client request headers", "client", c.RemoteAddr)
		return statusToHTTPS
	}
	t := srv.Config.TLS
	if c.TLSState == nil || t == nil || t.VerifyClient == "off" {
		return 0
	}
	if sni := c.TLSState.ServerName; sni != "" && !strings.EqualFold(sni, string(r.Host)) {
		pc.p.Log.Info("client attempted to request the server name different from the one that was negotiated", "client", c.RemoteAddr)
		return 421
	}
	switch v := c.ClientVerify; {
	case v == snapshot.ClientVerifySuccess:
	case v == snapshot.ClientVerifyNone:
		if t.VerifyClient == "on" {
			pc.p.Log.Info("client sent no required SSL certificate while reading client request headers", "client", c.RemoteAddr)
			return statusSSLNoCert
		}
	case t.VerifyClient == "optional_no_ca" && snapshot.ClientVerifyTolerated(v):
	default:
		pc.p.Log.Info("client SSL certificate verify error", "reason", strings.TrimPrefix(v, "FAILED:"), "client", c.RemoteAddr)
		return statusSSLCertError
	}
	return 0
}
