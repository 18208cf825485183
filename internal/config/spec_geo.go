package config

import "net/netip"

// This file holds the Spec of the geo and split_clients blocks
// (directives_geo.go), which the Spec keeps among the maps (Map.Geo,
// Map.Split).

// Geo is one geo{} block's contents, as read (directives_geo.go).
type Geo struct {
	Ranges         bool // "ranges": entries are "a.b.c.d-e.f.g.h" IPv4 ranges
	ProxyRecursive bool // "proxy_recursive"
	// Proxies are the "proxy" lines: addresses whose X-Forwarded-For
	// is believed, as set_real_ip_from's are.
	Proxies []netip.Prefix
	// Entries are the network, "default" and "delete" lines, in file
	// order (includes expanded): a later line for the same network
	// replaces an earlier one, as nginx's radix tree does.
	Entries []GeoEntry
}

// GeoEntry is one line of a geo{} block.
type GeoEntry struct {
	Pos     Pos
	Net     string       // as written, for messages
	Default bool         // "default V": 0.0.0.0/0 and ::/0 (cidr mode) or the range default
	Delete  bool         // "delete NET"
	Prefix  netip.Prefix // cidr mode
	// Start and End bound an IPv4 range (ranges mode), both included.
	Start, End uint32
	Value      string
}

// SplitPart is one line of a split_clients{} block.
type SplitPart struct {
	Pos Pos
	// Percent is in hundredths of a percent (ngx_atofp(.., 2)); 0 is
	// "*", the rest.
	Percent uint32
	Value   string
}

// MapEntry is one key/value line of a map.
type MapEntry struct {
	Pos    Pos
	Key    string // exact: lower-cased; regex: pattern without ~/~*; wildcard as written
	Value  string
	Regex  bool
	NoCase bool
}
