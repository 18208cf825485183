package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"
)

// Cause names what a probe found, for scripts and tests.
type Cause string

// Causes, in the order a probe can meet them.
const (
	CauseOK             Cause = "ok"
	CauseBadURL         Cause = "bad-url"
	CauseDNS            Cause = "dns"
	CauseRefused        Cause = "connection-refused"
	CauseConnectTimeout Cause = "connect-timeout"
	CauseConnect        Cause = "connect-failed"
	CauseTLSCert        Cause = "tls-certificate"
	CauseNotTLS         Cause = "not-tls"   // wss:// to a plain port
	CauseTLSPort        Cause = "tls-port"  // ws:// to a TLS port
	CauseTLS            Cause = "tls-error" // any other TLS failure
	CauseHTTP2Only      Cause = "http2-only"
	CauseNoResponse     Cause = "no-response"
	CauseMalformed      Cause = "malformed-response"
	// CauseNotForwarded is a 400 or 426 from the backend: the Upgrade and
	// Connection headers did not reach it (the seed's first pitfalls).
	CauseNotForwarded  Cause = "headers-not-forwarded"
	CauseNotUpgraded   Cause = "not-upgraded" // 2xx instead of 101
	CauseTrailingSlash Cause = "missing-trailing-slash"
	CauseRedirect      Cause = "redirect"
	CauseForbidden     Cause = "forbidden"
	CauseNotFound      Cause = "not-found"
	CauseBackendDown   Cause = "backend-down"    // 502
	CauseUnavailable   Cause = "unavailable"     // 503
	CauseBackendSlow   Cause = "backend-timeout" // 504
	CauseServerError   Cause = "server-error"
	CauseStatus        Cause = "unexpected-status"
	CauseBadHandshake  Cause = "bad-handshake"
	CauseClosed        Cause = "closed-early"
	CauseNoEcho        Cause = "no-echo"
	CauseNoPong        Cause = "no-pong"
	CauseIdleCut       Cause = "idle-cut"
)

// fixUpgradeHeaders is the seed tutorial's location, the fix for every
// "Upgrade did not reach the backend" finding.
const fixUpgradeHeaders = `in the nginx location that proxies WebSockets add:
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection "upgrade";
(nginx speaks HTTP/1.0 to backends and drops Upgrade and Connection unless told otherwise)`

func (p *prober) dialFailed(err error) {
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		p.fail(CauseDNS, fmt.Sprintf("the host name %q does not resolve: %v", p.u.Hostname(), dnsErr.Err),
			"check the spelling of the host, or use its IP address")
	case errors.Is(err, syscall.ECONNREFUSED):
		p.fail(CauseRefused, fmt.Sprintf("nothing listens on %s (connection refused)", p.res.Addr),
			"start the server, or check the port; for nginx, a listen directive must name this port")
	case isTimeout(err):
		p.fail(CauseConnectTimeout, fmt.Sprintf("no answer from %s within %s: the host is down or a firewall drops the packets", p.res.Addr, p.opts.Timeout),
			"check the address and any firewall between here and the server")
	default:
		p.fail(CauseConnect, fmt.Sprintf("connecting to %s failed: %v", p.res.Addr, err), "check the address")
	}
}

func (p *prober) tlsFailed(ctx context.Context, err error) {
	var (
		verr    *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
		rec     tls.RecordHeaderError
		alert   tls.AlertError
	)
	switch {
	case errors.As(err, &verr), errors.As(err, &unknown), errors.As(err, &host), errors.As(err, &invalid):
		p.fail(CauseTLSCert, "the server's certificate was not accepted: "+err.Error(),
			"fix the certificate (nginx: ssl_certificate must hold the full chain and name this host), or probe with --insecure to look past it")
	case errors.As(err, &rec):
		p.fail(CauseNotTLS, fmt.Sprintf("%s answered the TLS handshake with plain bytes: it does not speak TLS on this port", p.res.Addr),
			"use ws:// for this port, or the port where the server speaks TLS (nginx: listen 443 ssl;)")
	case errors.As(err, &alert) && alert == 120, strings.Contains(err.Error(), "no application protocol"):
		// Alert 120 no_application_protocol (RFC 7301 3.2): the server has
		// no protocol in common with the offered "http/1.1".
		if p.alpnH2Only(ctx) {
			p.fail(CauseHTTP2Only, "the server speaks only HTTP/2 (ALPN h2) on this port and refused http/1.1: "+
				"an HTTP/1.1 WebSocket handshake cannot reach it, and browsers open WebSockets over HTTP/2 only where the server supports RFC 8441",
				"let the server accept http/1.1 on this port as well (nginx does, even with \"http2 on\")")
			return
		}
		p.fail(CauseTLS, "the server refused ALPN http/1.1: "+err.Error(), "let the server accept http/1.1 on this port")
	default:
		p.fail(CauseTLS, "the TLS handshake failed: "+err.Error(), "check the server's TLS configuration (protocols, ciphers, certificate)")
	}
}

func (p *prober) ioFailed(step string, err error) {
	if isTimeout(err) {
		p.fail(CauseNoResponse, fmt.Sprintf("%s timed out after %s", step, p.opts.Timeout), "check that the server is not overloaded")
		return
	}
	p.fail(CauseClosed, fmt.Sprintf("%s failed: %v", step, err), "the server or a proxy closed the connection; see its error log")
}

// responseFailed explains why no HTTP response head could be read.
func (p *prober) responseFailed(head []byte, err error) {
	switch {
	case len(head) >= 2 && (head[0] == 0x15 || head[0] == 0x16) && head[1] == 0x03:
		p.fail(CauseTLSPort, "the server answered with TLS bytes: this port speaks TLS",
			"use wss:// (or https://) for this port")
	case looksLikeHTTP2(head) && p.tls:
		p.fail(CauseHTTP2Only, "the server answered with an HTTP/2 frame although ALPN http/1.1 was offered: it speaks only HTTP/2 on this port, "+
			"where an HTTP/1.1 WebSocket handshake cannot be made",
			"let the server accept http/1.1 on this port as well (nginx does, even with \"http2 on\")")
	case looksLikeHTTP2(head):
		p.fail(CauseHTTP2Only, "the server answered with an HTTP/2 frame: it speaks only HTTP/2 without TLS (h2c prior knowledge) on this port, "+
			"where an HTTP/1.1 WebSocket handshake cannot be made",
			"let the server accept HTTP/1.1 on this port (nginx: a listen without http2)")
	case len(head) == 0 && isTimeout(err):
		p.fail(CauseNoResponse, fmt.Sprintf("no answer to the handshake within %s: the server, or a backend behind a proxy, is slow or does not speak HTTP", p.opts.Timeout),
			"check the backend; behind nginx, a backend that never answers ends in 504 after proxy_read_timeout")
	case len(head) == 0 && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isReset(err)):
		p.fail(CauseNoResponse, "the server closed the connection without answering the handshake",
			"look at the server's error log; a TLS-only port also does this to plain requests (then use wss://)")
	default:
		p.fail(CauseMalformed, fmt.Sprintf("the answer is not HTTP/1.1: %v (first bytes %q)", err, truncate(head, 80)),
			"check that the URL's port is the server's HTTP port")
	}
}

// looksLikeHTTP2 reports whether b starts with an HTTP/2 frame header of
// type SETTINGS or GOAWAY on stream 0 (RFC 9113 4.1), which is how an
// h2c-only server answers an HTTP/1.1 request.
func looksLikeHTTP2(b []byte) bool {
	if len(b) < 9 {
		return false
	}
	typ := b[3]
	stream := uint32(b[5]&0x7F)<<24 | uint32(b[6])<<16 | uint32(b[7])<<8 | uint32(b[8])
	return (typ == 0x4 || typ == 0x7) && stream == 0
}

// statusFailed explains a non-101 answer to the handshake.
func (p *prober) statusFailed(resp *http.Response) {
	code := resp.StatusCode
	server := resp.Header.Get("Server")
	via := ""
	if server != "" {
		via = " (Server: " + server + ")"
	}
	body := strings.ToLower(p.res.Body)
	switch {
	case code == 400 && (strings.Contains(body, "plain http request was sent to https port") || strings.Contains(body, "http request to an https server")):
		p.fail(CauseTLSPort, "the server speaks TLS on this port and refused a plain request", "use wss:// (or https://) for this port")
	case code == 400 || code == 426:
		p.fail(CauseNotForwarded, fmt.Sprintf("the handshake was refused with %d%s: the server did not see a WebSocket upgrade. "+
			"Behind a proxy this almost always means the Upgrade and Connection headers were not forwarded, "+
			"or were forwarded over HTTP/1.0, and the backend answered an ordinary request", code, via),
			fixUpgradeHeaders)
	case code >= 200 && code < 300:
		kind := resp.Header.Get("Content-Type")
		if kind != "" {
			kind = " (" + kind + ")"
		}
		p.fail(CauseNotUpgraded, fmt.Sprintf("the server answered %d with an ordinary response%s instead of 101 Switching Protocols: "+
			"the request was not upgraded. Either the path matched a location that does not proxy WebSockets "+
			"(for example the app at location /), or the Upgrade header never reached the backend", code, kind),
			"check that the URL's path is under the WebSocket location (location /ws/ matches /ws/... only), and "+fixUpgradeHeaders)
	case code == 301 || code == 302 || code == 303 || code == 307 || code == 308:
		p.redirected(resp)
	case code == 401 || code == 403:
		p.fail(CauseForbidden, fmt.Sprintf("the server refused the handshake with %d%s: it wants authentication, or it checks the Origin header", code, via),
			"pass credentials with --header, or the page's origin with --origin https://your.site (servers often reject a missing or foreign Origin)")
	case code == 404:
		p.fail(CauseNotFound, fmt.Sprintf("nothing is served at %s (404)%s", p.u.Path, via),
			"check the path: it must fall under the location that proxies WebSockets (location /ws/ covers /ws/anything), and the backend must serve it")
	case code == 502:
		p.fail(CauseBackendDown, fmt.Sprintf("the proxy could not reach the backend (502 Bad Gateway)%s: it is down, or proxy_pass names the wrong address", via),
			"start the backend, or fix the address in proxy_pass; nginx's error log says which address was refused")
	case code == 503:
		p.fail(CauseUnavailable, fmt.Sprintf("the server is unavailable (503)%s: no live backend, or a limit was hit", via),
			"check that the upstream has live servers and what limits apply")
	case code == 504:
		p.fail(CauseBackendSlow, fmt.Sprintf("the backend did not answer in time (504 Gateway Timeout)%s", via),
			"check that the backend is running and answers the handshake; proxy_connect_timeout and proxy_read_timeout bound the wait")
	case code >= 500:
		p.fail(CauseServerError, fmt.Sprintf("the server failed with %d%s", code, via), "look at the server's error log")
	default:
		p.fail(CauseStatus, fmt.Sprintf("the server answered %d instead of 101 Switching Protocols%s", code, via),
			"the URL does not lead to a WebSocket endpoint")
	}
}

func (p *prober) redirected(resp *http.Response) {
	loc := resp.Header.Get("Location")
	target, err := p.u.Parse(loc)
	if err != nil || loc == "" {
		p.fail(CauseRedirect, fmt.Sprintf("the server redirected (%d) without a usable Location (%q)", resp.StatusCode, loc),
			"WebSocket clients do not follow redirects: use the final URL")
		return
	}
	switch {
	case target.Path == p.u.Path+"/":
		p.fail(CauseTrailingSlash, fmt.Sprintf("the server redirected %s to %s (%d): the trailing slash is missing. "+
			"nginx does this for a request to /ws when only location /ws/ exists, and WebSocket clients do not follow redirects",
			p.u.Path, target.Path, resp.StatusCode),
			fmt.Sprintf("use the URL with the slash (%s), or add an exact \"location = %s\" with the same proxy settings", withScheme(p.u, target), p.u.Path))
	case (target.Scheme == "https" || target.Scheme == "wss") && !p.tls:
		p.fail(CauseRedirect, fmt.Sprintf("the server redirects to %s (%d): it wants TLS", loc, resp.StatusCode),
			"use wss:// (WebSocket clients do not follow redirects)")
	default:
		p.fail(CauseRedirect, fmt.Sprintf("the server redirected to %s (%d); WebSocket clients do not follow redirects", loc, resp.StatusCode),
			"probe the final URL")
	}
}

func withScheme(orig, target *url.URL) string {
	t := *target
	switch t.Scheme {
	case "http":
		t.Scheme = "ws"
	case "https":
		t.Scheme = "wss"
	}
	if orig.Scheme == "ws" || orig.Scheme == "wss" {
		return t.String()
	}
	return target.String()
}

func (p *prober) afterUpgradeFailed(step string, fc *frameConn, err error) {
	var ce *closeError
	switch {
	case errors.As(err, &ce):
		p.fail(CauseClosed, fmt.Sprintf("the WebSocket opened, but the server %s while %s", ce.Error(), step),
			"look at the server's logs for why it closed")
	case isTimeout(err):
		p.fail(CauseNoResponse, fmt.Sprintf("timed out after %s while %s", p.opts.Timeout, step), "check that the server is not overloaded")
	default:
		p.fail(CauseClosed, fmt.Sprintf("the WebSocket opened, but the connection was cut while %s: %v", step, err),
			"look at the server's and the proxy's error logs")
	}
}

// idleCut explains a connection cut while held idle.
func (p *prober) idleCut(h *HoldResult, idle time.Duration) {
	how := "the connection was closed (no Close frame)"
	switch h.How {
	case "reset":
		how = "the connection was reset"
	case "close frame":
		how = fmt.Sprintf("the server sent Close %d", h.CloseCode)
		if h.CloseReason != "" {
			how += " (" + h.CloseReason + ")"
		}
	}
	secs := idle.Seconds()
	fix := "in the nginx location that proxies WebSockets raise the idle timeout, as the tutorial does:\n" +
		"    proxy_read_timeout 86400s;\n    proxy_send_timeout 86400s;\n" +
		"or have the client or the server send pings more often than the timeout"
	if secs >= 55 && secs <= 65 {
		p.fail(CauseIdleCut, fmt.Sprintf("cut after %.1fs idle: %s. That is nginx's default proxy_read_timeout (60s); raise it", secs, how), fix)
		return
	}
	p.fail(CauseIdleCut, fmt.Sprintf("cut after %.1fs idle: %s. Something on the path has an idle timeout of about %.0fs "+
		"(nginx: proxy_read_timeout or proxy_send_timeout in the location; or a load balancer's idle timeout)", secs, how, secs), fix)
}

func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
