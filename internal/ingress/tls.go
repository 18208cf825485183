package ingress

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// DefaultSSLDir is where certificates are written when Options.SSLDir is
// empty: the deploy/kubernetes Deployment mounts an emptyDir there.
const DefaultSSLDir = "/var/run/wsgate-ingress/ssl"

// DefaultCertFile is the self-signed certificate's file in the SSL
// directory, served to hosts without one of their own.
const DefaultCertFile = "default.pem"

func (o *Options) sslDir() string {
	if o.SSLDir == "" {
		return DefaultSSLDir
	}
	return o.SSLDir
}

// secretCert returns the path of Secret ns/name's certificate and key
// (queued in t.certs), or "" when the Secret is missing or does not hold
// a valid pair: the host then gets the default certificate, as with
// ingress-nginx, and a notice says why.
func (t *translation) secretCert(ns, name, who string) string {
	if name == "" {
		return ""
	}
	var sec *corev1.Secret
	for _, s := range t.st.Secrets {
		if s.Namespace == ns && s.Name == name {
			sec = s
			break
		}
	}
	if sec == nil {
		t.notices = append(t.notices, fmt.Sprintf("Ingress %s: TLS Secret %s/%s not found: its hosts get the default certificate", who, ns, name))
		return ""
	}
	pemData, err := secretPEM(sec)
	if err != nil {
		t.notices = append(t.notices, fmt.Sprintf("Ingress %s: TLS Secret %s/%s: %v: its hosts get the default certificate", who, ns, name, err))
		return ""
	}
	p := filepath.Join(t.o.sslDir(), ns+"-"+name+".pem")
	t.certs[p] = pemData
	return p
}

// secretPEM returns the certificate chain and key of a kubernetes.io/tls
// Secret as one PEM file, after checking that they are a pair.
func secretPEM(sec *corev1.Secret) ([]byte, error) {
	crt, key := sec.Data[corev1.TLSCertKey], sec.Data[corev1.TLSPrivateKeyKey]
	if len(crt) == 0 && len(key) == 0 {
		crt, key = []byte(sec.StringData[corev1.TLSCertKey]), []byte(sec.StringData[corev1.TLSPrivateKeyKey])
	}
	if len(crt) == 0 || len(key) == 0 {
		return nil, fmt.Errorf("no %s and %s", corev1.TLSCertKey, corev1.TLSPrivateKeyKey)
	}
	if _, err := tls.X509KeyPair(crt, key); err != nil {
		return nil, fmt.Errorf("not a certificate and key pair: %w", err)
	}
	var b bytes.Buffer
	b.Write(bytes.TrimSpace(crt))
	b.WriteByte('\n')
	b.Write(bytes.TrimSpace(key))
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// defaultCert returns the default certificate's path: the Secret named by
// Options.DefaultCertificate when it holds a pair, else DefaultCertFile.
func (t *translation) defaultCert() string {
	if dc := t.o.DefaultCertificate; dc != "" {
		for _, s := range t.st.Secrets {
			if objKey(s.Namespace, s.Name) == dc {
				if p := t.secretCert(s.Namespace, s.Name, "--default-ssl-certificate"); p != "" {
					return p
				}
			}
		}
	}
	return filepath.Join(t.o.sslDir(), DefaultCertFile)
}

// WriteCerts writes certs (path → PEM) with mode 0600, each through a
// temporary file renamed into place, so that a reload never reads half a
// file; a file whose content is unchanged is not touched.
func WriteCerts(certs map[string][]byte) error {
	for p, data := range certs {
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, data) {
			continue
		}
		if err := writeAtomic(p, data); err != nil {
			return err
		}
	}
	return nil
}

func writeAtomic(p string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("writing certificate: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*.pem")
	if err != nil {
		return fmt.Errorf("writing certificate: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("writing certificate %s: %w", p, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing certificate %s: %w", p, err)
	}
	if err := os.Rename(f.Name(), p); err != nil {
		return fmt.Errorf("writing certificate %s: %w", p, err)
	}
	return nil
}

// EnsureDefaultCert writes a self-signed certificate for
// "wsgate-ingress default certificate" into dir as DefaultCertFile unless
// one is there (ingress-nginx's "Kubernetes Ingress Controller Fake
// Certificate").
func EnsureDefaultCert(dir string) error {
	p := filepath.Join(dir, DefaultCertFile)
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "wsgate-ingress default certificate"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"ingress.local"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	pem.Encode(&b, &pem.Block{Type: "PRIVATE KEY", Bytes: kder})
	return writeAtomic(p, b.Bytes())
}
