package vars

import (
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strconv"
	"strings"
	"time"

	"wsgate/internal/exchange"
	"wsgate/internal/openssl"
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

// sslExtra is the ssl variables of the client's offer, the legacy names
// and the session ID. $ssl_ciphers and $ssl_curves list what the client
// offered (ngx_ssl_get_ciphers, ngx_ssl_get_curves: OpenSSL's names,
// "0x" and the number for others); $ssl_session_id is found and empty:
// crypto/tls keeps no session ID (the README lists this difference). The
// legacy distinguished names are OpenSSL's X509_NAME_oneline form,
// "/C=US/O=Org/CN=name" in the certificate's order.
func sslExtra(cs *tls.ConnectionState, hello *exchange.ClientHello, k kind) (s string, found, ok bool) {
	if cs == nil {
		return "", false, true
	}
	switch k {
	case kSSLCiphers:
		if hello == nil {
			return "", true, true
		}
		return openssl.CipherNames(hello.Ciphers), true, true
	case kSSLCurves:
		if hello == nil {
			return "", true, true
		}
		var b strings.Builder
		for i, c := range hello.Curves {
			if i > 0 {
				b.WriteByte(':')
			}
			if n := openssl.CurveName(uint16(c)); n != "" {
				b.WriteString(n)
			} else {
				fmt.Fprintf(&b, "0x%04x", uint16(c))
			}
		}
		return b.String(), true, true
	case kSSLClientSDNLegacy, kSSLClientIDNLegacy:
		if len(cs.PeerCertificates) == 0 {
			return "", true, true
		}
		c := cs.PeerCertificates[0]
		raw := c.RawSubject
		if k == kSSLClientIDNLegacy {
			raw = c.RawIssuer
		}
		return onelineName(raw), true, true
	}
	return "", true, true
}

// onelineName formats a DER-encoded X.509 name as X509_NAME_oneline:
// "/SN=value" per attribute, OpenSSL's short names, the numeric OID for
// others.
func onelineName(der []byte) string {
	var rdns pkix.RDNSequence
	if _, err := asn1.Unmarshal(der, &rdns); err != nil {
		return ""
	}
	var b strings.Builder
	for _, rdn := range rdns {
		for _, atv := range rdn {
			b.WriteByte('/')
			if sn, ok := oidShortNames[atv.Type.String()]; ok {
				b.WriteString(sn)
			} else {
				b.WriteString(atv.Type.String())
			}
			b.WriteByte('=')
			fmt.Fprint(&b, atv.Value)
		}
	}
	return b.String()
}

// oidShortNames are OpenSSL's short names of the usual name attributes.
var oidShortNames = map[string]string{
	"2.5.4.3": "CN", "2.5.4.4": "SN", "2.5.4.5": "serialNumber", "2.5.4.6": "C",
	"2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.9": "street", "2.5.4.10": "O",
	"2.5.4.11": "OU", "2.5.4.12": "title", "2.5.4.17": "postalCode", "2.5.4.42": "GN",
	"2.5.4.46": "dnQualifier", "1.2.840.113549.1.9.1": "emailAddress",
	"0.9.2342.19200300.100.1.25": "DC", "0.9.2342.19200300.100.1.1": "UID",
}
