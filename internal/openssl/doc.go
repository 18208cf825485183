// Package openssl translates the OpenSSL vocabulary of nginx's ssl_*
// directives into what Go's crypto/tls is configured with: cipher strings
// ("ssl_ciphers", "proxy_ssl_ciphers") into TLS 1.2 cipher suite IDs,
// protocol names ("ssl_protocols") into a version range, curve names
// ("ssl_ecdh_curve") into curve IDs, and back again for the $ssl_protocol
// and $ssl_cipher variables, which print OpenSSL's names.
//
// It is pure: no sockets, no files, and it does not import crypto/tls, so
// that internal/config can check these directives at -t. Values are the
// IANA code points crypto/tls uses (tls.VersionTLS12 is 0x0303,
// tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 is 0xc02f, tls.X25519 is 29);
// the tests hold the two in step.
//
// What Go cannot honour exactly is said, not hidden: TLS 1.3 suites are
// fixed in Go (OpenSSL configures them apart, and nginx 1.22 leaves them at
// OpenSSL's defaults too); Go serves no DHE, CAMELLIA, ARIA, CCM, PSK or SRP
// suite, and, like the OpenSSL 3.0 that Debian's nginx runs on, no RC4 or
// 3DES one; Go orders suites itself, by what the hardware does fast, so the
// order of a cipher string and "ssl_prefer_server_ciphers" change nothing.
package openssl
