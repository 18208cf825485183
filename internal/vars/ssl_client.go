package vars

import (
	"crypto/sha1"
	"crypto/tls"
	"encoding/hex"
	"encoding/pem"
	"strconv"
	"strings"
	"time"
)

// clientCertValue is the $ssl_client_* variables of the client's
// certificate (ngx_ssl_get_*): empty but found on a TLS connection whose
// client sent none, not found on a plain one. Distinguished names are in
// RFC 2253 form (nginx's since 1.11.6), times as OpenSSL prints them.
func clientCertValue(cs *tls.ConnectionState, k kind) (s string, found, ok bool) {
	if cs == nil {
		return "", false, true
	}
	if len(cs.PeerCertificates) == 0 {
		return "", true, true
	}
	c := cs.PeerCertificates[0]
	switch k {
	case kSSLClientSDN:
		return c.Subject.String(), true, true
	case kSSLClientIDN:
		return c.Issuer.String(), true, true
	case kSSLClientSerial:
		return strings.ToUpper(hex.EncodeToString(c.SerialNumber.Bytes())), true, true
	case kSSLClientFingerprint:
		sum := sha1.Sum(c.Raw)
		return hex.EncodeToString(sum[:]), true, true
	case kSSLClientRawCert, kSSLClientEscapedCert, kSSLClientCert:
		p := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
		switch k {
		case kSSLClientEscapedCert:
			return escapeComponent(p), true, true
		case kSSLClientCert:
			// Every line but the first starts with a tab, for a header.
			return strings.ReplaceAll(strings.TrimSuffix(p, "\n"), "\n", "\n\t"), true, true
		}
		return p, true, true
	case kSSLClientVStart:
		return c.NotBefore.UTC().Format(asn1TimeFormat), true, true
	case kSSLClientVEnd:
		return c.NotAfter.UTC().Format(asn1TimeFormat), true, true
	case kSSLClientVRemain:
		days := int64(time.Until(c.NotAfter) / (24 * time.Hour))
		return strconv.FormatInt(max(days, 0), 10), true, true
	}
	return "", false, true
}

// asn1TimeFormat is ASN1_TIME_print's: "Dec  7 04:00:00 2026 GMT".
const asn1TimeFormat = "Jan _2 15:04:05 2006 GMT"

// escapeComponent is ngx_escape_uri(NGX_ESCAPE_URI_COMPONENT): every byte
// but letters, digits and "-._~" as %XX.
func escapeComponent(s string) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '.' || ch == '_' || ch == '~' {
			b.WriteByte(ch)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexd[ch>>4])
		b.WriteByte(hexd[ch&15])
	}
	return b.String()
}
