package config

// The types of the Spec that configure the response body filters
// (sub_filter, gzip, gunzip, gzip_static): LocConf.Sub and LocConf.Gzip.

// SubConf is the configuration of ngx_http_sub_filter_module at one
// level.
type SubConf struct {
	// Pairs is the effective sub_filter list in config order, inherited
	// all-or-nothing (ngx_http_sub_merge_conf); empty: no filter.
	Pairs []SubPair
	// Types are the lower-case MIME types the filter applies to
	// (sub_filter_types, always with text/html); nil means text/html
	// only, and {"*"} any type, also a response without one.
	Types []string
	// Once replaces each string once per response (sub_filter_once,
	// default on); off replaces every occurrence.
	Once bool
	// LastModified keeps the response's Last-Modified and makes its ETag
	// weak (sub_filter_last_modified, default off: both are removed).
	LastModified bool
}

// GzipConf is the configuration of ngx_http_gzip_filter_module and of
// ngx_http_core_module's gzip directives at one level.
type GzipConf struct {
	On bool // gzip, default off
	// Types are the lower-case MIME types compressed (gzip_types, always
	// with text/html); nil means text/html only, {"*"} any type.
	Types []string
	// CompLevel is gzip_comp_level, 1 to 9 (default 1).
	CompLevel int
	// MinLength is gzip_min_length: a response that declares a shorter
	// length is sent as it is (default 20).
	MinLength int64
	// Vary adds "Vary: Accept-Encoding" to the responses that could be
	// compressed (gzip_vary, default off).
	Vary bool
	// HTTPVersion is gzip_http_version as 10 or 11 (default 11): older
	// requests get no compression.
	HTTPVersion int
	// Proxied says which responses to requests with Via are compressed
	// (gzip_proxied, default off).
	Proxied GzipProxied
	// Disable are gzip_disable's regular expressions (RE2 syntax,
	// matched without regard to case against User-Agent), DisableMSIE6
	// its "msie6".
	Disable      []string
	DisableMSIE6 bool
	// Gunzip decompresses a gzip-encoded response for a client that does
	// not take gzip (gunzip, default off).
	Gunzip bool
	// Static is gzip_static (default off): a file's FILE.gz neighbour is
	// sent instead, gzip-encoded, to a client that takes gzip (on) or to
	// every client (always).
	Static GzipStatic
}

// GzipStatic is a gzip_static value.
type GzipStatic uint8

// The gzip_static values.
const (
	GzipStaticOff GzipStatic = iota
	GzipStaticOn
	GzipStaticAlways
)

// GzipProxied is a set of gzip_proxied values.
type GzipProxied uint16

// The gzip_proxied values (NGX_HTTP_GZIP_PROXIED_*).
const (
	GzipProxiedOff GzipProxied = 1 << iota
	GzipProxiedExpired
	GzipProxiedNoCache
	GzipProxiedNoStore
	GzipProxiedPrivate
	GzipProxiedNoLM
	GzipProxiedNoETag
	GzipProxiedAuth
	GzipProxiedAny
)

// SubPair is one sub_filter directive.
type SubPair struct {
	Pos Pos
	// Match is the string to find, compared without regard to ASCII case;
	// Value its replacement. Both are raw, variables uncompiled.
	Match, Value string
}
