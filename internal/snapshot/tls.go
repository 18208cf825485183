package snapshot

import (
	"crypto/tls"
	"path/filepath"
	"strings"

	"wsgate/internal/config"
)

// buildTLS loads the certificates of every server that listens with ssl
// and returns, per listen address, a TLS configuration that picks the
// certificate by SNI the way server selection picks a server by name
// (falling back to the address's default server). Problems are added to
// errs.
func buildTLS(snap *Snapshot, errs *config.ErrorList) map[string]*tls.Config {
	out := map[string]*tls.Config{}
	certs := map[*config.Server]*tls.Certificate{}
	failed := map[*config.Server]bool{} // reported once, at the first listen
	prefix := ""
	if len(snap.Spec.Files) > 0 {
		prefix = filepath.Dir(snap.Spec.Files[0].Path)
	}
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(prefix, p)
	}
	for _, srv := range snap.Spec.HTTP.Servers {
		for _, l := range srv.Listens {
			if !l.SSL {
				continue
			}
			if srv.TLS == nil || srv.TLS.Certificate == "" {
				errs.Add(l.Pos, `no "ssl_certificate" is defined for the "listen ... ssl" directive`)
				continue
			}
			if failed[srv] {
				continue
			}
			if _, ok := certs[srv]; !ok {
				key := srv.TLS.CertificateKey
				if key == "" {
					key = srv.TLS.Certificate
				}
				cert, err := loadKeyPair(abs(srv.TLS.Certificate), abs(key))
				if err != nil {
					errs.Add(l.Pos, "loading certificate %q: %v", srv.TLS.Certificate, err)
					failed[srv] = true
					continue
				}
				certs[srv] = &cert
			}
			if out[l.Addr] != nil {
				continue
			}
			addr := l.Addr
			cfg := &tls.Config{
				MinVersion: minVersion(srv.TLS.Protocols),
				NextProtos: []string{"http/1.1"},
				GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
					s, _ := snap.Routes.Server(addr, strings.ToLower(hello.ServerName))
					if s != nil {
						if c := certs[s.Config]; c != nil {
							return c, nil
						}
					}
					if d := snap.Routes.Default(addr); d != nil && certs[d.Config] != nil {
						return certs[d.Config], nil
					}
					return nil, nil
				},
			}
			out[addr] = cfg
		}
	}
	return out
}

// maxPEMSize bounds a certificate or key file (ssl_certificate,
// ssl_certificate_key): a chain with a whole CA bundle takes a few hundred
// KiB. A file that never ends must not be read at a reload until memory
// runs out.
const maxPEMSize = 16 << 20

// loadKeyPair is tls.LoadX509KeyPair for regular files of at most
// maxPEMSize bytes (config.ReadFile).
func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	cert, err := config.ReadFile(certFile, maxPEMSize)
	if err != nil {
		return tls.Certificate{}, err
	}
	key, err := config.ReadFile(keyFile, maxPEMSize)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(cert, key)
}

// minVersion maps ssl_protocols to the lowest TLS version allowed.
func minVersion(protocols []string) uint16 {
	v := uint16(tls.VersionTLS13)
	for _, p := range protocols {
		switch p {
		case "TLSv1.2":
			if v > tls.VersionTLS12 {
				v = tls.VersionTLS12
			}
		}
	}
	if len(protocols) == 0 {
		return tls.VersionTLS12
	}
	return v
}
