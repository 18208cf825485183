// Package proxyproto reads the PROXY protocol header a load balancer
// sends before a connection's own bytes (HAProxy's proxy-protocol.txt,
// versions 1 and 2), as nginx 1.22 reads it for "listen ...
// proxy_protocol" (ngx_proxy_protocol.c): the addresses of the client
// and of the server it reached, for $proxy_protocol_addr and friends and
// for "real_ip_header proxy_protocol". It owns the parsing and the read
// that takes exactly the header from a socket; the server decides where
// it is needed, and what a broken header costs (the connection).
package proxyproto
