package config

import "time"

// The TLS settings of a Spec: a server's (ssl_*) and a location's for
// its upstream (proxy_ssl_*). Plain data, as the rest of the Spec.

// TLSConf is the server's TLS settings (ngx_http_ssl_module), merged from
// http into each server. Paths are as written; they are read relative to
// the directory of the main configuration file (nginx's conf_prefix).
type TLSConf struct {
	// Certificates and CertificateKeys are the ssl_certificate and
	// ssl_certificate_key files, paired by position: several pairs (an
	// RSA and an ECDSA one) are chosen by the client's signature
	// algorithms. CertPos are their directives' positions.
	Certificates    []string
	CertificateKeys []string
	CertPos         []Pos
	// PasswordFile is ssl_password_file: passphrases of encrypted keys,
	// one a line, tried in turn.
	PasswordFile string
	// Protocols are the ssl_protocols names (default TLSv1.2 TLSv1.3);
	// MinVersion and MaxVersion the versions served (0 for none).
	Protocols              []string
	ProtocolsPos           Pos
	MinVersion, MaxVersion uint16
	// Ciphers is ssl_ciphers (default HIGH:!aNULL:!MD5); CipherSuites
	// the TLS 1.2 suites it selects (openssl.ParseCiphers).
	Ciphers      string
	CiphersPos   Pos
	CipherSuites []uint16
	// PreferServerCiphers is ssl_prefer_server_ciphers; Go orders the
	// suites itself.
	PreferServerCiphers bool
	// SessionCache is ssl_session_cache as written (default none).
	SessionCache string
	// SessionTimeout is ssl_session_timeout (default 5m): how long a
	// session ticket resumes a session.
	SessionTimeout time.Duration
	// SessionTickets is ssl_session_tickets (default on);
	// SessionTicketKeys the ssl_session_ticket_key files, the first
	// encrypting, all decrypting.
	SessionTickets    bool
	SessionTicketKeys []string
	// Curves is ssl_ecdh_curve (default auto: nil, Go's own list).
	Curves []uint16
	// DHParam is ssl_dhparam (read for a check only: Go serves no DHE).
	DHParam string

	// ClientCertificate is ssl_client_certificate, the CAs client
	// certificates are verified against and whose names the
	// CertificateRequest lists; TrustedCertificate is
	// ssl_trusted_certificate, CAs for verification only (and stapling).
	ClientCertificate  string
	TrustedCertificate string
	// VerifyClient is ssl_verify_client: "off" (default), "on",
	// "optional" or "optional_no_ca"; VerifyClientPos its position.
	VerifyClient    string
	VerifyClientPos Pos
	// VerifyDepth is ssl_verify_depth (default 1): CA certificates
	// allowed above a client certificate before its trust anchor.
	VerifyDepth int
	// CRL is ssl_crl: revocation lists client certificates are checked
	// against.
	CRL string
	// OCSP is ssl_ocsp: "off" (default), "on" (every certificate of a
	// client's chain but the anchor) or "leaf", checked with an OCSP
	// request to OCSPResponder (ssl_ocsp_responder) or the certificate's
	// own responder; OCSPCache is ssl_ocsp_cache ("off" or
	// "shared:NAME:SIZE").
	OCSP          string
	OCSPResponder string
	OCSPCache     string

	// Stapling is ssl_stapling (StaplingPos its position); StaplingFile
	// is ssl_stapling_file, a DER OCSP response stapled as it is;
	// StaplingResponder is ssl_stapling_responder, the URL asked instead
	// of the certificate's; StaplingVerify is ssl_stapling_verify.
	Stapling          bool
	StaplingPos       Pos
	StaplingFile      string
	StaplingResponder string
	StaplingVerify    bool

	// RejectHandshake is ssl_reject_handshake: handshakes that select
	// the server are refused (the server needs no certificate then).
	RejectHandshake bool
}

// ProxySSL is ngx_http_proxy_module's proxy_ssl_* settings, inherited into
// locations as a whole per field.
type ProxySSL struct {
	// Verify is proxy_ssl_verify (default off, as nginx: the upstream's
	// certificate is then not checked); VerifyDepth proxy_ssl_verify_depth
	// (default 1); TrustedCertificate the proxy_ssl_trusted_certificate
	// CA file, required with Verify.
	Verify             bool
	VerifyPos          Pos
	VerifyDepth        int
	TrustedCertificate string
	// ServerName is proxy_ssl_server_name (default off: no SNI); Name is
	// proxy_ssl_name, a string with variables (default "": the host of
	// the proxy_pass URL), the name sent and verified.
	ServerName bool
	Name       string
	// MinVersion and MaxVersion are proxy_ssl_protocols'; CipherSuites
	// proxy_ssl_ciphers' (default DEFAULT).
	MinVersion, MaxVersion uint16
	CipherSuites           []uint16
	// Certificate and CertificateKey are proxy_ssl_certificate and
	// proxy_ssl_certificate_key: the client certificate for the upstream.
	Certificate, CertificateKey string
	// PasswordFile is proxy_ssl_password_file.
	PasswordFile string
	// SessionReuse is proxy_ssl_session_reuse (default on).
	SessionReuse bool
	// CRL is proxy_ssl_crl: revocation lists the upstream's certificate
	// is checked against (with Verify).
	CRL string
}
