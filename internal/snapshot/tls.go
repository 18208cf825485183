package snapshot

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/ocsp"
)

// buildTLS compiles the TLS settings of every server that listens with
// ssl into a tls.Config of its own, and returns, per listen address, a
// configuration that picks the server's by SNI the way server selection
// picks a server by name, falling back to the address's default server
// (ngx_http_ssl_servername: a server without certificates keeps the
// default server's). Everything nginx sets per SNI server is per server
// here: certificates, protocols, ciphers, curves, session tickets and
// timeout, client certificates. Problems are added to errs.
func buildTLS(snap *Snapshot, env *Env, errs *config.ErrorList) map[string]*listenTLS {
	out := map[string]*listenTLS{}
	confs := map[*config.Server]*tls.Config{}
	verifiers := map[*config.Server]*clientVerifier{}
	failed := map[*config.Server]bool{} // reported once, at the first listen
	prefix := confPrefix(snap.Spec)
	// An address is ssl when any of its listens says so; every server on
	// it is then picked by SNI, "ssl" or not (ngx_http_add_addresses). A
	// quic address is always.
	sslAddr, h2Addr := map[string]bool{}, map[string]bool{}
	for _, srv := range snap.Spec.HTTP.Servers {
		for _, l := range srv.Listens {
			if l.SSL || l.HTTP3 {
				sslAddr[l.Addr] = true
			}
			if l.HTTP2 {
				h2Addr[l.Addr] = true
			}
		}
	}
	// On an http2 address every server's handshake offers h2 first (ALPN,
	// RFC 7301), as nginx's ngx_http_ssl_alpn_select does for the
	// address.
	// h2Confs is filled once every server's configuration is made.
	h2Confs := map[*config.Server]*tls.Config{}
	for _, srv := range snap.Spec.HTTP.Servers {
		for _, l := range srv.Listens {
			if !sslAddr[l.Addr] || srv.TLS == nil || failed[srv] ||
				len(srv.TLS.Certificates) == 0 && !srv.TLS.RejectHandshake {
				// Without a certificate a server's handshakes are the
				// default server's (ngx_http_ssl_servername).
				continue
			}
			if confs[srv] == nil {
				cfg, v, err := serverTLS(srv.TLS, prefix, env.Staples)
				if err != nil {
					errs.Add(l.Pos, "%v", err)
					failed[srv] = true
					continue
				}
				confs[srv], verifiers[srv] = cfg, v
			}
			if out[l.Addr] != nil {
				continue
			}
			addr := l.Addr
			alpn := func(s *config.Server) *tls.Config { return confs[s] }
			protos := []string{"http/1.1"}
			if h2Addr[addr] {
				alpn = func(s *config.Server) *tls.Config { return h2Confs[s] }
				protos = []string{"h2", "http/1.1"}
			}
			// pick is the server whose settings a handshake gets: the one
			// its SNI selects, else the address's default server.
			pick := func(name string) *config.Server {
				if s, _ := snap.Routes.Server(addr, strings.ToLower(name)); s != nil && confs[s.Config] != nil {
					return s.Config
				}
				if d := snap.Routes.Default(addr); d != nil && confs[d.Config] != nil {
					return d.Config
				}
				return nil
			}
			out[addr] = &listenTLS{
				cfg: &tls.Config{
					// Every handshake is answered by the configuration of
					// the server its SNI selects.
					NextProtos: protos,
					GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
						if r, ok := hello.Conn.(HelloRecorder); ok {
							r.RecordHello(hello)
						}
						if s := pick(hello.ServerName); s != nil {
							if s.TLS.RejectHandshake {
								// ssl_reject_handshake: nginx ends the
								// handshake with the unrecognized_name alert
								// (RFC 6066 §3), which crypto/tls sends when
								// a configuration has no certificate to pick;
								// an error here would send internal_error.
								return rejectConf, nil
							}
							return alpn(s), nil
						}
						return nil, fmt.Errorf("no certificate for %q on %s", hello.ServerName, addr)
					},
				},
				verify: func(cs *tls.ConnectionState) string {
					if v := verifiers[pick(cs.ServerName)]; v != nil {
						return v.verify(cs.PeerCertificates, time.Now())
					}
					return ClientVerifyNone
				},
			}
		}
	}
	// nginx loads the certificates of every server that has them, on an
	// ssl address or not (ngx_http_ssl_merge_srv_conf): a key that does
	// not load fails the configuration there too, and its password file
	// (a named pipe's writer waits for the read) is read.
	for _, srv := range snap.Spec.HTTP.Servers {
		if srv.TLS == nil || len(srv.TLS.Certificates) == 0 || confs[srv] != nil || failed[srv] {
			continue
		}
		if _, _, err := serverTLS(srv.TLS, prefix, nil); err != nil {
			errs.Add(srv.Pos, "%v", err)
		}
	}
	if len(h2Addr) > 0 {
		for srv, c := range confs {
			c = c.Clone()
			c.NextProtos = []string{"h2", "http/1.1"}
			h2Confs[srv] = c
		}
	}
	return out
}

// rejectConf answers a handshake that ssl_reject_handshake refuses: no
// certificate, so crypto/tls ends it with the unrecognized_name alert, and
// no session resumption, which would need none.
var rejectConf = &tls.Config{SessionTicketsDisabled: true}

// HelloRecorder is a connection that keeps what its client offered in the
// ClientHello ($ssl_ciphers, $ssl_curves): a listener's handshake calls
// RecordHello when the connection it runs on is one.
type HelloRecorder interface {
	RecordHello(hello *tls.ClientHelloInfo)
}

// listenTLS is an ssl address's TLS: its configuration, and the check of
// a client's certificates by the server the handshake picked.
type listenTLS struct {
	cfg    *tls.Config
	verify func(cs *tls.ConnectionState) string
}

// confPrefix is the directory nginx reads ssl_* and proxy_ssl_* files
// relative to: conf_prefix, the directory of the main configuration file
// (ngx_conf_full_name(..., 1)), also under -p.
func confPrefix(spec *config.Spec) string {
	if len(spec.Files) > 0 {
		return filepath.Dir(spec.Files[0].Path)
	}
	return ""
}

// serverTLS compiles one server's settings. prefix is the directory
// relative paths are read from; staples fetches OCSP responses (nil: none).
func serverTLS(t *config.TLSConf, prefix string, staples *ocsp.Stapler) (*tls.Config, *clientVerifier, error) {
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(prefix, p)
	}
	cfg := &tls.Config{
		NextProtos:             []string{"http/1.1"},
		MinVersion:             t.MinVersion,
		MaxVersion:             t.MaxVersion,
		CipherSuites:           t.CipherSuites,
		SessionTicketsDisabled: !t.SessionTickets,
	}
	for _, c := range t.Curves {
		cfg.CurvePreferences = append(cfg.CurvePreferences, tls.CurveID(c))
	}
	for i, certFile := range t.Certificates {
		cert, err := loadKeyPairPass(abs(certFile), abs(t.CertificateKeys[i]), absIf(abs, t.PasswordFile))
		if err != nil {
			return nil, nil, fmt.Errorf("loading certificate %q: %w", certFile, err)
		}
		cfg.Certificates = append(cfg.Certificates, cert)
	}
	if t.DHParam != "" {
		if _, err := config.ReadFile(abs(t.DHParam), maxPEMSize); err != nil {
			return nil, nil, fmt.Errorf("reading \"ssl_dhparam\" %q: %w", t.DHParam, err)
		}
	}
	if len(t.SessionTicketKeys) > 0 {
		keys, err := ticketKeys(t.SessionTicketKeys, abs)
		if err != nil {
			return nil, nil, err
		}
		cfg.SetSessionTicketKeys(keys)
	}
	if t.SessionTickets {
		sessionTimeout(cfg, t.SessionTimeout)
	} else if c := sessionCacheFor(t); c != nil {
		c.install(cfg, t.SessionTimeout)
	}
	v, err := clientAuth(cfg, t, abs)
	if err != nil {
		return nil, nil, err
	}
	if err := stapling(cfg, t, abs, staples); err != nil {
		return nil, nil, err
	}
	return cfg, v, nil
}

// absIf is abs(p), "" for "".
func absIf(abs func(string) string, p string) string {
	if p == "" {
		return ""
	}
	return abs(p)
}

// ticketKeys reads ssl_session_ticket_key files: 48 or 80 bytes each, as
// nginx wants (ngx_ssl_session_ticket_keys). Go derives its ticket keys
// from 32 bytes, so each file's SHA-256 is its key: replicas that share
// the files resume each other's sessions (nginx's tickets are another
// format, which wsgate cannot read). The first file's key encrypts, all
// decrypt, as in nginx.
func ticketKeys(files []string, abs func(string) string) ([][32]byte, error) {
	var keys [][32]byte
	for _, f := range files {
		b, err := config.ReadFile(abs(f), 1<<10)
		if err != nil {
			return nil, fmt.Errorf("reading \"ssl_session_ticket_key\" %q: %w", f, err)
		}
		if len(b) != 48 && len(b) != 80 {
			return nil, fmt.Errorf("\"ssl_session_ticket_key\" %q must be 48 or 80 bytes", f)
		}
		keys = append(keys, sha256.Sum256(b))
	}
	return keys, nil
}

// ticketStamp marks the SessionState.Extra entry that holds when a
// ticket was issued.
const ticketStamp = "wsgate-issued:"

// sessionTimeout bounds resumption to d after a ticket was issued
// (ssl_session_timeout; Go's own bound is 7 days): the issue time, in
// seconds, rides in the ticket's SessionState.Extra, and an older ticket
// gets a full handshake. A resumed session's new ticket is stamped anew.
func sessionTimeout(cfg *tls.Config, d time.Duration) {
	cfg.WrapSession = func(cs tls.ConnectionState, ss *tls.SessionState) ([]byte, error) {
		stamp := binary.BigEndian.AppendUint64([]byte(ticketStamp), uint64(time.Now().Unix()))
		extra := ss.Extra[:0:0]
		for _, e := range ss.Extra {
			if !strings.HasPrefix(string(e), ticketStamp) {
				extra = append(extra, e)
			}
		}
		ss.Extra = append(extra, stamp)
		return cfg.EncryptTicket(cs, ss)
	}
	cfg.UnwrapSession = func(identity []byte, cs tls.ConnectionState) (*tls.SessionState, error) {
		ss, err := cfg.DecryptTicket(identity, cs)
		if err != nil || ss == nil {
			return ss, err
		}
		for _, e := range ss.Extra {
			if len(e) == len(ticketStamp)+8 && strings.HasPrefix(string(e), ticketStamp) {
				issued := time.Unix(int64(binary.BigEndian.Uint64(e[len(ticketStamp):])), 0)
				if time.Since(issued) < d {
					return ss, nil
				}
			}
		}
		return nil, nil
	}
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
