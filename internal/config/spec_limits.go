package config

// This file holds the Spec's types for ngx_http_limit_req_module and
// ngx_http_limit_conn_module (directives_limits.go reads them).

// LimitZone is a limit_req_zone or limit_conn_zone: a named table of
// states keyed by Key (a string with variables), whose Size bounds how
// many states it may hold as nginx's shared memory zone of that size
// would. wsgate keeps zones in the process's memory (one process: nginx's
// workers share theirs).
type LimitZone struct {
	Pos  Pos
	Conn bool // limit_conn_zone; false: limit_req_zone
	Name string
	Key  string
	Size int64 // bytes, at least 32k (8 pages)
	// Rate is limit_req_zone's rate in thousandths of a request per
	// second (nginx's ctx->rate: "rate=5r/s" is 5000, "30r/m" 500).
	Rate int64
}

// LimitReqConf is a level's limit_req settings.
type LimitReqConf struct {
	// Rules are the limit_req lines; nginx inherits them all or nothing
	// (a level with a limit_req of its own drops the inherited ones).
	Rules []LimitReqRule
	// Status is limit_req_status (400-599); 0 means the default, 503.
	Status int
	// LogLevel is limit_req_log_level ("info", "notice", "warn",
	// "error"); "" means the default, "error". Delays are logged one
	// level lower ("info" stays "info").
	LogLevel string
	// DryRun is limit_req_dry_run: requests are counted and logged, never
	// delayed nor refused.
	DryRun bool
}

// LimitReqRule is one "limit_req zone=NAME [burst=N] [nodelay|delay=N]".
type LimitReqRule struct {
	Pos  Pos
	Zone string
	// Burst and Delay are in requests; NoDelay is "nodelay" (every
	// request within the burst goes through at once).
	Burst, Delay int64
	NoDelay      bool
}

// LimitConnConf is a level's limit_conn settings.
type LimitConnConf struct {
	// Rules are the limit_conn lines, inherited all or nothing.
	Rules []LimitConnRule
	// Status is limit_conn_status (400-599); 0 means the default, 503.
	Status int
	// LogLevel is limit_conn_log_level; "" means "error".
	LogLevel string
	// DryRun is limit_conn_dry_run.
	DryRun bool
}

// LimitConnRule is one "limit_conn NAME N".
type LimitConnRule struct {
	Pos  Pos
	Zone string
	Conn int
}
