package openssl

import (
	"fmt"
	"strings"
)

// suite is a TLS 1.2 (and below) cipher suite that wsgate serves: Go's
// crypto/tls implements it and OpenSSL 3.0 has it.
type suite struct {
	id   uint16
	name string // OpenSSL's name
	// tags are the OpenSSL aliases the suite belongs to (ssl_ciph.c's
	// cipher_aliases), checked against "openssl ciphers" by the tests.
	tags []string
}

// Tag groups shared by many suites.
var (
	ecdheTags = []string{"kECDHE", "kEECDH", "ECDH", "ECDHE", "EECDH"}
	rsaKxTags = []string{"kRSA", "RSA"}
	common    = []string{"ALL", "DEFAULT", "HIGH"}
)

func tags(groups ...[]string) []string {
	var out []string
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

var (
	aRSA   = []string{"aRSA"}
	aECDSA = []string{"aECDSA", "ECDSA"}
	gcm128 = []string{"AES", "AES128", "AESGCM", "TLSv1.2"}
	gcm256 = []string{"AES", "AES256", "AESGCM", "TLSv1.2"}
	chacha = []string{"CHACHA20", "TLSv1.2"}
	// OpenSSL names a suite's protocol by the first version that has it:
	// the ECDHE ones came with TLS 1.0 (RFC 4492), the others with SSLv3.
	cbc128 = []string{"AES", "AES128", "SHA1", "SHA", "TLSv1", "TLSv1.0"}
	cbc256 = []string{"AES", "AES256", "SHA1", "SHA", "TLSv1", "TLSv1.0"}
	ssl3   = []string{"SSLv3"}
	sha256 = []string{"AES", "AES128", "SHA256", "TLSv1.2"}
)

// suites are in OpenSSL 3.0's default order (strongest first); Go orders
// them itself at a handshake.
var suites = []suite{
	{0xc02c, "ECDHE-ECDSA-AES256-GCM-SHA384", tags(common, ecdheTags, aECDSA, gcm256)},
	{0xc030, "ECDHE-RSA-AES256-GCM-SHA384", tags(common, ecdheTags, aRSA, gcm256)},
	{0xcca9, "ECDHE-ECDSA-CHACHA20-POLY1305", tags(common, ecdheTags, aECDSA, chacha)},
	{0xcca8, "ECDHE-RSA-CHACHA20-POLY1305", tags(common, ecdheTags, aRSA, chacha)},
	{0xc02b, "ECDHE-ECDSA-AES128-GCM-SHA256", tags(common, ecdheTags, aECDSA, gcm128)},
	{0xc02f, "ECDHE-RSA-AES128-GCM-SHA256", tags(common, ecdheTags, aRSA, gcm128)},
	{0xc023, "ECDHE-ECDSA-AES128-SHA256", tags(common, ecdheTags, aECDSA, sha256)},
	{0xc027, "ECDHE-RSA-AES128-SHA256", tags(common, ecdheTags, aRSA, sha256)},
	{0xc00a, "ECDHE-ECDSA-AES256-SHA", tags(common, ecdheTags, aECDSA, cbc256)},
	{0xc014, "ECDHE-RSA-AES256-SHA", tags(common, ecdheTags, aRSA, cbc256)},
	{0xc009, "ECDHE-ECDSA-AES128-SHA", tags(common, ecdheTags, aECDSA, cbc128)},
	{0xc013, "ECDHE-RSA-AES128-SHA", tags(common, ecdheTags, aRSA, cbc128)},
	{0x009d, "AES256-GCM-SHA384", tags(common, rsaKxTags, aRSA, gcm256)},
	{0x009c, "AES128-GCM-SHA256", tags(common, rsaKxTags, aRSA, gcm128)},
	{0x003c, "AES128-SHA256", tags(common, rsaKxTags, aRSA, sha256)},
	{0x0035, "AES256-SHA", tags(common, rsaKxTags, aRSA, cbc256[:4], ssl3)},
	{0x002f, "AES128-SHA", tags(common, rsaKxTags, aRSA, cbc128[:4], ssl3)},
}

// tls13Names are the TLS 1.3 suites, which Go always offers (crypto/tls
// has no setting for them) under the names OpenSSL prints for them.
var tls13Names = map[uint16]string{
	0x1301: "TLS_AES_128_GCM_SHA256",
	0x1302: "TLS_AES_256_GCM_SHA384",
	0x1303: "TLS_CHACHA20_POLY1305_SHA256",
}

// otherAliases are OpenSSL aliases (and special words) that match no
// suite wsgate serves: a cipher string may name them, to add nothing or to
// remove nothing. EXPORT, KRB5 and their kin are gone from OpenSSL 3.0,
// which ignores them; configurations still carry "!EXPORT".
var otherAliases = map[string]bool{
	"COMPLEMENTOFALL": true, "COMPLEMENTOFDEFAULT": true, "MEDIUM": true, "LOW": true,
	"eNULL": true, "NULL": true, "aNULL": true, "ADH": true, "AECDH": true,
	"kEDH": true, "kDHE": true, "EDH": true, "DHE": true, "DH": true, "kDH": true, "kDHr": true, "kDHd": true,
	"kECDH": true, "kECDHr": true, "kECDHe": true, "aECDH": true, "aDH": true,
	"aDSS": true, "DSS": true, "PSK": true, "kPSK": true, "aPSK": true, "kRSAPSK": true,
	"kECDHEPSK": true, "kDHEPSK": true, "SRP": true, "kSRP": true, "aSRP": true,
	"CAMELLIA": true, "CAMELLIA128": true, "CAMELLIA256": true, "ARIA": true, "ARIA128": true,
	"ARIA256": true, "ARIAGCM": true, "AESCCM": true, "AESCCM8": true,
	"3DES": true, "DES": true, "RC4": true, "RC2": true, "IDEA": true, "SEED": true, "MD5": true,
	"SHA384": true, "GOST89": true, "GOST89MAC": true, "GOST94": true, "GOST12": true, "kGOST": true, "aGOST": true,
	"aGOST01": true, "aGOST12": true, "EXPORT": true, "EXP": true, "EXPORT40": true, "EXPORT56": true,
	"EXPORT1024": true, "KRB5": true, "kKRB5": true, "aKRB5": true, "FZA": true, "kFZA": true,
	"aFZA": true, "eFZA": true, "SSLv2": true, "SUITEB128": true, "SUITEB128ONLY": true,
	"SUITEB128C2": true, "SUITEB192": true, "ECCdraft": true,
}

var known = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range knownNames {
		m[n] = true
	}
	return m
}()

// Ciphers is what a cipher string selects for TLS 1.2 and below.
type Ciphers struct {
	// IDs are the suites wsgate serves, in the order the string added
	// them (Go orders them itself at a handshake).
	IDs []uint16
	// Unserved are suites the string names that OpenSSL knows and Go
	// (or OpenSSL 3.0) does not serve, in the string's order.
	Unserved []string
	// TLS13 are TLS 1.3 suites the string names: OpenSSL's cipher lists
	// ignore them (its TLS 1.3 suites are set apart), and Go's are fixed.
	TLS13 []string
}

// ParseCiphers reads an OpenSSL cipher list (ciphers(1)): elements
// separated by ':', ' ', ',' or ';', each a suite name or alias, or
// several joined by '+' (all of them), prefixed with '!' (removed for
// good), '-' (removed, may be added again) or '+' (moved to the end, a
// change of order only), or "@STRENGTH" / "@SECLEVEL=n". An element that
// is neither a suite nor an alias OpenSSL has known is an error that
// names it, unless it removes (removing what does not exist changes
// nothing, as OpenSSL ignores it).
func ParseCiphers(s string) (Ciphers, error) {
	var out Ciphers
	active := map[uint16]bool{}
	killed := map[uint16]bool{}
	var order []uint16
	unserved := map[string]bool{}
	var unknown []string
	for _, elem := range strings.FieldsFunc(s, func(r rune) bool { return r == ':' || r == ' ' || r == ',' || r == ';' }) {
		op := byte(0)
		if elem[0] == '!' || elem[0] == '-' || elem[0] == '+' {
			op, elem = elem[0], elem[1:]
		}
		if strings.HasPrefix(elem, "@") {
			if elem == "@STRENGTH" || strings.HasPrefix(elem, "@SECLEVEL=") {
				continue
			}
			unknown = append(unknown, elem)
			continue
		}
		if isTLS13(elem) {
			out.TLS13 = append(out.TLS13, elem)
			continue
		}
		match, ok := matchElement(elem)
		if !ok {
			if op != '!' && op != '-' {
				unknown = append(unknown, elem)
			}
			continue
		}
		if op == 0 && !strings.Contains(elem, "+") && known[elem] && !isServed(elem) && !unserved[elem] {
			unserved[elem] = true
			out.Unserved = append(out.Unserved, elem)
		}
		for _, su := range suites {
			if !match(su) {
				continue
			}
			switch op {
			case '!':
				killed[su.id] = true
				delete(active, su.id)
			case '-':
				delete(active, su.id)
			case '+':
				// order only
			default:
				if !killed[su.id] && !active[su.id] {
					active[su.id] = true
					order = append(order, su.id)
				}
			}
		}
	}
	if len(unknown) > 0 {
		return out, fmt.Errorf("unknown cipher %s: neither OpenSSL nor wsgate knows it (see \"openssl ciphers\")", quoteList(unknown))
	}
	for _, id := range order {
		if active[id] {
			out.IDs = append(out.IDs, id)
			delete(active, id) // added again after a '-': once
		}
	}
	return out, nil
}

// matchElement returns the predicate of one element ("ECDHE+AESGCM",
// "HIGH", "AES128-SHA"); ok is false when a part is unknown.
func matchElement(elem string) (func(suite) bool, bool) {
	parts := strings.Split(elem, "+")
	for _, p := range parts {
		if p == "" || !(isServed(p) || known[p] || isTag(p) || otherAliases[p]) {
			return nil, false
		}
	}
	return func(su suite) bool {
		for _, p := range parts {
			if p != su.name && !hasTag(su, p) {
				return false
			}
		}
		return true
	}, true
}

func isTLS13(name string) bool {
	for _, n := range tls13Names {
		if n == name {
			return true
		}
	}
	return false
}

func isServed(name string) bool {
	for _, su := range suites {
		if su.name == name {
			return true
		}
	}
	return false
}

func isTag(t string) bool {
	for _, su := range suites {
		if hasTag(su, t) {
			return true
		}
	}
	return false
}

func hasTag(su suite, t string) bool {
	for _, x := range su.tags {
		if x == t {
			return true
		}
	}
	return false
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// CipherName is OpenSSL's name of a suite ($ssl_cipher): the TLS 1.3
// names for 0x1301-0x1303, the OpenSSL name of a suite wsgate serves, else
// "" (the caller prints Go's name).
func CipherName(id uint16) string {
	if n, ok := tls13Names[id]; ok {
		return n
	}
	for _, su := range suites {
		if su.id == id {
			return su.name
		}
	}
	return ""
}

// CipherNames is the names of ids, joined by ':' ($ssl_ciphers' form).
func CipherNames(ids []uint16) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(':')
		}
		if n := CipherName(id); n != "" {
			b.WriteString(n)
		} else {
			fmt.Fprintf(&b, "0x%04x", id)
		}
	}
	return b.String()
}
