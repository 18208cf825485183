package exchange

import (
	"crypto/tls"
	"net"
	"time"

	"wsgate/internal/proxyproto"
)

// Conn is one accepted client connection as the server hands it to the
// request handlers: the facts nginx's connection variables show, fixed
// for the connection's life.
type Conn struct {
	// NetConn is the client connection, after any TLS handshake. A
	// handler may watch it for a close (HTTP/1.x) but reads and writes
	// only through the ResponseWriter.
	NetConn net.Conn
	// ListenAddr is the listen address it was accepted on, as the
	// configuration names it (route.Table's key).
	ListenAddr string
	// TLS is set for a connection accepted on "listen ... ssl" ($https).
	TLS bool
	// TLSState is the handshake's outcome on a TLS connection ($ssl_*
	// variables), nil otherwise. Read-only.
	TLSState *tls.ConnectionState
	// ClientVerify is $ssl_client_verify on a TLS connection: "NONE",
	// "SUCCESS" or "FAILED:reason", as the server the SNI picked checked
	// the client's certificate (ssl_verify_client).
	ClientVerify string
	// PlainOnTLS is set for a connection to an ssl address whose client
	// spoke plain HTTP: its requests get nginx's 497, a 400.
	PlainOnTLS bool
	// Serial is $connection.
	Serial uint64
	// Hello is what the client offered in its TLS ClientHello
	// ($ssl_ciphers, $ssl_curves); nil on a plain connection. Read-only.
	Hello *ClientHello
	// Socket is the TCP connection under any TLS ($tcpinfo_*), and
	// Accepted when it was accepted ($connection_time).
	Socket   net.Conn
	Accepted time.Time
	// RemoteAddr, RemotePort, LocalAddr and LocalPort are
	// $remote_addr, $remote_port, $server_addr and $server_port.
	RemoteAddr, RemotePort string
	LocalAddr, LocalPort   string
	// ProxyProtocol is the PROXY protocol header the connection started
	// with (listen ... proxy_protocol), nil without one. Read-only.
	ProxyProtocol *proxyproto.Header
}

// ClientHello is what a TLS client offered, in its order: cipher suites
// and supported groups (GREASE values included, as OpenSSL lists them).
type ClientHello struct {
	Ciphers []uint16
	Curves  []tls.CurveID
}
