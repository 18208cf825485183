package snapshot

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"wsgate/internal/config"
)

// crls are certificate revocation lists (ssl_crl, proxy_ssl_crl), as
// nginx checks them (X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL):
// every certificate of a verified chain below its trust anchor needs a
// current CRL from its issuer that does not list it.
type crls []*crl

// crl is one revocation list, v2 or the v1 that "openssl ca -gencrl"
// writes without crl_extensions (which x509.ParseRevocationList refuses).
type crl struct {
	rawIssuer []byte
	next      time.Time
	revoked   []*big.Int
	signedBy  func(issuer *x509.Certificate) error
}

// parseCRL reads one DER list.
func parseCRL(der []byte) (*crl, error) {
	if l, err := x509.ParseRevocationList(der); err == nil {
		c := &crl{rawIssuer: l.RawIssuer, next: l.NextUpdate, signedBy: l.CheckSignatureFrom}
		for _, r := range l.RevokedCertificateEntries {
			c.revoked = append(c.revoked, r.SerialNumber)
		}
		return c, nil
	}
	// A v1 list: the deprecated parser reads any version, and
	// CheckCRLSignature checks it.
	l, err := x509.ParseDERCRL(der)
	if err != nil {
		return nil, err
	}
	c := &crl{next: l.TBSCertList.NextUpdate, signedBy: func(iss *x509.Certificate) error { return iss.CheckCRLSignature(l) }}
	if c.rawIssuer, err = tbsIssuer(l.TBSCertList.Raw); err != nil {
		return nil, err
	}
	for _, r := range l.TBSCertList.RevokedCertificates {
		c.revoked = append(c.revoked, r.SerialNumber)
	}
	return c, nil
}

// tbsIssuer is the issuer Name of a TBSCertList, as encoded (RFC 5280
// 5.1: version OPTIONAL, signature, issuer, ...).
func tbsIssuer(tbs []byte) ([]byte, error) {
	in := cryptobyte.String(tbs)
	var body cryptobyte.String
	if !in.ReadASN1(&body, cbasn1.SEQUENCE) {
		return nil, errors.New("malformed CRL")
	}
	if body.PeekASN1Tag(cbasn1.INTEGER) && !body.SkipASN1(cbasn1.INTEGER) {
		return nil, errors.New("malformed CRL version")
	}
	var issuer cryptobyte.String
	if !body.SkipASN1(cbasn1.SEQUENCE) || !body.ReadASN1Element(&issuer, cbasn1.SEQUENCE) {
		return nil, errors.New("malformed CRL issuer")
	}
	return issuer, nil
}

// readCRLs reads the PEM "X509 CRL" blocks of file.
func readCRLs(file string) (crls, error) {
	b, err := config.ReadFile(file, maxPEMSize)
	if err != nil {
		return nil, err
	}
	var out crls
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "X509 CRL" {
			continue
		}
		l, err := parseCRL(blk.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM CRL in it")
	}
	return out, nil
}

// check returns OpenSSL's reason when chain (leaf first, trust anchor
// last) fails the lists, "" when it passes.
// Every certificate is checked and the last error found is the one
// reported: nginx's verify callback (ngx_ssl_verify_callback) lets
// OpenSSL go on after each, and X509_STORE_CTX keeps the last.
func (l crls) check(chain []*x509.Certificate, now time.Time) string {
	last := ""
	for i := 0; i+1 < len(chain); i++ {
		cert, issuer := chain[i], chain[i+1]
		var list *crl
		for _, c := range l {
			if bytes.Equal(c.rawIssuer, cert.RawIssuer) && c.signedBy(issuer) == nil {
				list = c
				break
			}
		}
		if list == nil {
			last = "unable to get certificate CRL"
			continue
		}
		if !list.next.IsZero() && now.After(list.next) {
			last = "CRL has expired"
		}
		for _, r := range list.revoked {
			if r.Cmp(cert.SerialNumber) == 0 {
				last = "certificate revoked"
				break
			}
		}
	}
	return last
}

// crlError wraps a failed CRL check of an upstream's chain.
func crlError(reason string) error { return fmt.Errorf("%w: %s", errVerify, reason) }
