package openssl

import (
	"fmt"
	"strings"
)

// Protocol versions, as crypto/tls's VersionTLS1x constants.
const (
	VersionTLS10 uint16 = 0x0301
	VersionTLS11 uint16 = 0x0302
	VersionTLS12 uint16 = 0x0303
	VersionTLS13 uint16 = 0x0304
)

// Protocols is what an "ssl_protocols" list allows.
type Protocols struct {
	// Min and Max bound the versions served; both 0 when the list allows
	// no version wsgate serves.
	Min, Max uint16
	// Dropped are the names that are not served: SSLv2 and SSLv3 (Go
	// has neither), TLSv1 and TLSv1.1 (the OpenSSL 3.0 that Debian's
	// nginx runs on refuses them at its default security level, and
	// RFC 8996 retires them).
	Dropped []string
}

var protocolVersion = map[string]uint16{
	"TLSv1.2": VersionTLS12,
	"TLSv1.3": VersionTLS13,
}

// ParseProtocols reads "ssl_protocols" names (SSLv2 SSLv3 TLSv1 TLSv1.1
// TLSv1.2 TLSv1.3, as ngx_http_ssl_protocols); an unknown name is an
// error. nginx serves exactly the versions listed: "TLSv1.2" alone is no
// floor but the only version.
func ParseProtocols(names []string) (Protocols, error) {
	var p Protocols
	var set []uint16
	for _, n := range names {
		switch n {
		case "TLSv1.2", "TLSv1.3":
			set = append(set, protocolVersion[n])
		case "SSLv2", "SSLv3", "TLSv1", "TLSv1.1":
			p.Dropped = append(p.Dropped, n)
		default:
			return p, fmt.Errorf("invalid value %q", n)
		}
	}
	for _, v := range set {
		if p.Min == 0 || v < p.Min {
			p.Min = v
		}
		if v > p.Max {
			p.Max = v
		}
	}
	return p, nil
}

// ProtocolName is OpenSSL's name of a version ($ssl_protocol).
func ProtocolName(v uint16) string {
	switch v {
	case VersionTLS10:
		return "TLSv1"
	case VersionTLS11:
		return "TLSv1.1"
	case VersionTLS12:
		return "TLSv1.2"
	case VersionTLS13:
		return "TLSv1.3"
	}
	return fmt.Sprintf("0x%04x", v)
}

// Curve IDs, as crypto/tls's CurveID constants.
const (
	CurveP256           uint16 = 23
	CurveP384           uint16 = 24
	CurveP521           uint16 = 25
	CurveX25519         uint16 = 29
	CurveX25519MLKEM768 uint16 = 4588
)

var curveIDs = map[string]uint16{
	"prime256v1": CurveP256, "secp256r1": CurveP256, "P-256": CurveP256,
	"secp384r1": CurveP384, "P-384": CurveP384,
	"secp521r1": CurveP521, "P-521": CurveP521,
	"X25519": CurveX25519, "x25519": CurveX25519,
	"X25519MLKEM768": CurveX25519MLKEM768,
}

// otherCurves are groups OpenSSL 3.0 knows that Go does not offer.
var otherCurves = map[string]bool{
	"X448": true, "x448": true, "ffdhe2048": true, "ffdhe3072": true, "ffdhe4096": true, "ffdhe6144": true,
	"ffdhe8192": true, "brainpoolP256r1": true, "brainpoolP384r1": true, "brainpoolP512r1": true,
	"secp224r1": true, "P-224": true, "secp256k1": true, "prime192v1": true, "secp192k1": true,
}

// ParseCurves reads "ssl_ecdh_curve": "auto" (nil: Go's defaults,
// X25519MLKEM768, X25519, P-256, P-384, P-521) or a list separated by ':'
// (SSL_CTX_set1_curves_list). Names OpenSSL knows and Go lacks are
// returned in dropped; an unknown name is an error, as is a list with
// nothing Go offers.
func ParseCurves(s string) (ids []uint16, dropped []string, err error) {
	if s == "auto" {
		return nil, nil, nil
	}
	var unknown []string
	for _, n := range strings.Split(s, ":") {
		if id, ok := curveIDs[n]; ok {
			ids = append(ids, id)
		} else if otherCurves[n] {
			dropped = append(dropped, n)
		} else {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		return nil, nil, fmt.Errorf("unknown curve %s", quoteList(unknown))
	}
	if len(ids) == 0 {
		return nil, dropped, fmt.Errorf("no curve in %q that wsgate offers (X25519, prime256v1, secp384r1, secp521r1, X25519MLKEM768)", s)
	}
	return ids, dropped, nil
}

// CurveName is OpenSSL's name of a group ($ssl_curve), "" for one it
// has no name for.
func CurveName(id uint16) string {
	switch id {
	case CurveP256:
		return "prime256v1"
	case CurveP384:
		return "secp384r1"
	case CurveP521:
		return "secp521r1"
	case CurveX25519:
		return "X25519"
	case CurveX25519MLKEM768:
		return "X25519MLKEM768"
	}
	return ""
}
