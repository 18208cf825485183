// Package ocsp staples OCSP responses to server certificates, as nginx's
// ssl_stapling does (ngx_event_openssl_stapling.c): a response read from
// a file (ssl_stapling_file) is stapled as it is; otherwise the response
// is fetched from the certificate's OCSP responder (or
// ssl_stapling_responder), checked (a "good" status for the certificate,
// signed by its issuer or a responder the issuer delegated to, and with
// ssl_stapling_verify the responder's chain against
// ssl_trusted_certificate), cached and refreshed in the background:
// before it expires, at most an hour after it was fetched, and five
// minutes after a failure. Until a good response arrives, handshakes get
// none, as with nginx.
//
// A Stapler outlives reloads (one per process): a certificate that stays
// in the configuration keeps its response and its refresh schedule, and
// the first handshake after a reload already carries the staple. It is
// the only place in wsgate that makes OCSP requests.
package ocsp
