// Package geo holds what ngx_http_geo_module and
// ngx_http_split_clients_module compute: a geo{} block's table of networks
// or IPv4 ranges with its lookup, nginx's address and network syntax
// (ngx_inet_addr, ngx_ptocidr), and split_clients' MurmurHash2 and
// percentages. It is pure: no sockets, no configuration types. The
// configuration reader (internal/config) checks blocks with it and the
// variables (internal/vars) evaluate $geo and split_clients variables
// with it. It imports no other wsgate package.
package geo
