package config

import "time"

// This file holds the Spec's types for proxy_cache
// (directives_cache.go reads them; internal/cache and internal/proxy use
// them).

// CachePath is one proxy_cache_path: a cache zone.
type CachePath struct {
	Pos Pos
	// Path is the directory as written (relative to the prefix when not
	// absolute).
	Path string
	// Levels are levels= digits per level ("1:2" is [1 2]).
	Levels []int
	// Name and KeysSize are keys_zone=NAME:SIZE.
	Name     string
	KeysSize int64
	// MaxSize and MinFree are max_size and min_free (0: none).
	MaxSize, MinFree int64
	// Inactive is inactive= (default 10m).
	Inactive time.Duration
	// UseTempPath is use_temp_path (default on).
	UseTempPath bool
}

// CacheStale is proxy_cache_use_stale's conditions.
type CacheStale uint16

const (
	StaleError CacheStale = 1 << iota
	StaleTimeout
	StaleInvalidHeader
	StaleUpdating
	StaleHTTP500
	StaleHTTP502
	StaleHTTP503
	StaleHTTP504
	StaleHTTP403
	StaleHTTP404
	StaleHTTP429
)

// CacheValid is one proxy_cache_valid line: its statuses (0 is "any")
// and time.
type CacheValid struct {
	Statuses []int
	Time     time.Duration
}

// CacheConf is a level's proxy_cache settings.
type CacheConf struct {
	// Zone is proxy_cache's value (a zone name, maybe with variables);
	// nil for none or "off".
	Zone *Value
	// Key is proxy_cache_key; nil means $scheme$proxy_host$request_uri.
	Key *Value
	// Valid are the proxy_cache_valid lines (inherited all or nothing).
	Valid []CacheValid
	// Methods are proxy_cache_methods' upper-case names beside GET and
	// HEAD, which are always cached.
	Methods []string
	// Bypass and NoCache are proxy_cache_bypass and proxy_no_cache's
	// values (inherited all or nothing): a request for which one is
	// neither empty nor "0" is not answered from the cache, or its
	// response not stored.
	Bypass, NoCache []Value
	// UseStale is proxy_cache_use_stale (default off).
	UseStale CacheStale
	// Lock is proxy_cache_lock, with its timeout and age (5s each).
	Lock                 bool
	LockTimeout, LockAge time.Duration
	// MinUses is proxy_cache_min_uses (default 1).
	MinUses int
	// BackgroundUpdate is proxy_cache_background_update: a stale entry
	// served under proxy_cache_use_stale updating (or its own
	// stale-while-revalidate) is refreshed after the answer went out.
	BackgroundUpdate bool
	// Revalidate is proxy_cache_revalidate; ConvertHead is
	// proxy_cache_convert_head (default on).
	Revalidate, ConvertHead bool
}
