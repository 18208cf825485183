package snapshot

import (
	"crypto/tls"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/framed"
	"wsgate/internal/h2"
	"wsgate/internal/h3"
	"wsgate/internal/http1"
)

// Listen is what one listening address serves with, compiled from its
// listen directives and its default server (nginx takes the connection
// level settings, client_header_buffer_size and the like, from the default
// server of the address: ngx_http_init_connection).
type Listen struct {
	// Addr is the address as the listen directive gives it, also the key
	// that route.Table and the server's listener set use.
	Addr string
	// ReusePort, Backlog and IPv6Only are the socket options of the first
	// listen directive of Addr (nginx rejects conflicting ones).
	ReusePort bool
	Backlog   int
	IPv6Only  bool
	// TLS is the configuration of "listen ... ssl": certificates by SNI
	// and the ALPN protocols offered; nil for plain TCP.
	TLS *tls.Config
	// ClientVerify is $ssl_client_verify for a finished handshake on TLS:
	// the check of the client's certificates by the server the SNI
	// picked ("NONE" where ssl_verify_client is off). Nil for plain TCP.
	ClientVerify func(cs *tls.ConnectionState) string
	// HandshakeTimeout bounds the TLS handshake: the default server's
	// client_header_timeout (0: no bound). It bounds the read of a PROXY
	// protocol header too, as nginx's post_accept_timeout.
	HandshakeTimeout time.Duration
	// ProxyProtocol: each connection starts with a PROXY protocol header,
	// before any TLS (listen ... proxy_protocol on any server of Addr).
	ProxyProtocol bool
	// Conn is the HTTP/1.x connection configuration of the default
	// server. Logger and Stopping are the server's to set on a copy.
	Conn http1.ConnConfig
	// HTTP2 is set when a listen of Addr has http2 (or its server "http2
	// on"): ALPN offers h2 on ssl, and a plain address takes the h2c
	// preface beside HTTP/1.x requests.
	HTTP2 bool
	// H2 is the HTTP/2 connection configuration of the default server,
	// with ExtendedConnect set where a server of Addr proxies (and so
	// may carry a WebSocket, RFC 8441). Logger and Stats are the
	// server's to set on a copy.
	H2 h2.Config
	// QUIC is set for a "listen ... quic" address (Addr starts with
	// config.QUICPrefix): a UDP socket serving HTTP/3 with H3, the
	// default server's settings, and TLS.
	QUIC bool
	H3   h3.Config
}

// buildListens compiles every listening address of s, in the order the
// configuration first names them.
func buildListens(s *Snapshot, env *Env, errs *config.ErrorList) {
	tlsConfs := buildTLS(s, env, errs)
	s.listenAt = map[string]*Listen{}
	pp, h2Addr, proxied := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, srv := range s.Spec.HTTP.Servers {
		prox := proxies(srv.Locations) || proxies(srv.Named)
		for _, l := range srv.Listens {
			pp[l.Addr] = pp[l.Addr] || l.ProxyProtocol
			h2Addr[l.Addr] = h2Addr[l.Addr] || l.HTTP2
			proxied[l.Addr] = proxied[l.Addr] || prox
		}
	}
	for _, srv := range s.Spec.HTTP.Servers {
		for _, l := range srv.Listens {
			if s.listenAt[l.Addr] != nil {
				continue
			}
			def := s.Routes.Default(l.Addr)
			if def == nil {
				continue
			}
			cs, lc := def.Config, def.Conf
			ln := &Listen{
				Addr: l.Addr, ReusePort: l.ReusePort, Backlog: l.Backlog, IPv6Only: l.IPv6Only,
				HandshakeTimeout: cs.ClientHeaderTimeout, ProxyProtocol: pp[l.Addr],
				Conn: http1.DefaultConnConfig(),
			}
			if lt := tlsConfs[l.Addr]; lt != nil {
				ln.TLS, ln.ClientVerify = lt.cfg, lt.verify
			}
			cfg := &ln.Conn
			cfg.Head.HeaderBufferSize = int(cs.ClientHeaderBufferSize)
			cfg.Head.LargeBufferSize = int(cs.LargeClientHeaderBuffers.Size)
			cfg.Head.LargeBufferCount = cs.LargeClientHeaderBuffers.Num
			cfg.Head.UnderscoresInHeaders = cs.UnderscoresInHeaders
			cfg.Head.IgnoreInvalidHeaders = cs.IgnoreInvalidHeaders
			cfg.Head.MergeSlashes = cs.MergeSlashes
			cfg.ClientHeaderTimeout = cs.ClientHeaderTimeout
			cfg.Limits = requestLimits(lc)
			cfg.ServerName = ServerInfo{Version: env.Version, Tokens: lc.ServerTokens}.Name()
			ln.HTTP2 = h2Addr[l.Addr]
			stream := framed.ConnConfig{Head: cfg.Head, Limits: cfg.Limits, ServerName: cfg.ServerName}
			ln.H2 = h2.Config{
				ConnConfig:           stream,
				MaxConcurrentStreams: uint32(cs.HTTP2.MaxConcurrentStreams),
				BodyPrereadSize:      uint32(cs.HTTP2.BodyPrereadSize),
				ChunkSize:            int(lc.HTTP2ChunkSize),
				RecvBufferSize:       int(cs.HTTP2.RecvBufferSize),
				ClientHeaderTimeout:  cfg.ClientHeaderTimeout,
				ExtendedConnect:      proxied[l.Addr],
			}
			if l.HTTP3 {
				if !cs.HTTP3.On {
					// "http3 off" on the address's default server: no
					// socket is opened for it.
					continue
				}
				ln.QUIC = true
				ln.H3 = h3.Config{
					ConnConfig:           stream,
					MaxConcurrentStreams: int64(cs.HTTP3.MaxConcurrentStreams),
					StreamBufferSize:     int(cs.HTTP3.StreamBufferSize),
					Retry:                cs.HTTP3.Retry,
				}
			}
			s.listenAt[l.Addr] = ln
			s.Listens = append(s.Listens, ln)
		}
	}
}

// proxies reports whether a location of locs (or one nested in it)
// proxies: wsgate upgrades a WebSocket handshake to any of them.
func proxies(locs []*config.Location) bool {
	for _, l := range locs {
		if l.Conf.ProxyPass != nil || proxies(l.Locations) {
			return true
		}
	}
	return false
}

// Listen returns the compiled listening address addr, nil if s has none.
func (s *Snapshot) Listen(addr string) *Listen { return s.listenAt[addr] }
