package files

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"

	"wsgate/internal/config"
	"wsgate/internal/vars"
)

// Template is a configuration value that may hold variables;
// *vars.Template implements it.
type Template interface {
	// Append appends the value for the request described by c.
	Append(dst []byte, c *vars.Ctx) []byte
	// IsConst reports whether the value holds no variables.
	IsConst() bool
}

// CompileFunc compiles a raw configuration value into a Template.
type CompileFunc func(raw string) (Template, error)

// Config is one location's file settings, with nginx's inheritance already
// applied. The zero value serves nothing useful: start from DefaultConfig.
type Config struct {
	// Root is the root or alias value as written (it may hold
	// variables). A relative value is taken from Prefix, as nginx takes it
	// from its -p prefix (ngx_get_full_name).
	Root   string
	Prefix string
	// Alias is set when Root came from alias. Location is then the
	// location's name (the prefix the alias replaces) and Regex tells a
	// regex location, whose alias replaces the whole URI.
	Alias    bool
	Location string
	Regex    bool

	// Index is the index list (default "index.html"). A name starting
	// with "/" is an internal redirect.
	Index []string
	// TryFiles is the try_files list; empty when not set. The last entry
	// is the fallback: "=CODE", "@name" or a URI.
	TryFiles []string

	// Autoindex (autoindex on) lists directories without an index file.
	Autoindex          bool
	AutoindexFormat    string // "html" (default), "json", "jsonp" or "xml"
	AutoindexExactSize bool   // default on
	AutoindexLocaltime bool   // default off

	// Types maps lower-case extensions to MIME types (the types block or
	// "include mime.types"); nil means nginx's built-in table (html, gif,
	// jpg). DefaultType is default_type (default "text/plain").
	Types       map[string]string
	DefaultType string

	// Charset is the charset directive's value, "" for off (the default).
	// CharsetTypes are the MIME types it applies to (charset_types,
	// default text/html text/xml text/plain text/vnd.wap.wml
	// application/javascript application/rss+xml).
	Charset      string
	CharsetTypes []string
	// Recode recodes the bodies of files whose type takes the charset
	// (source_charset with a charset_map to Charset); nil: none.
	Recode *Recode

	// Expires is the expires directive (default off).
	Expires config.Expires

	ETag bool // etag, default on
	// IfModifiedSince is "off", "exact" (the default) or "before".
	IfModifiedSince string
	// MaxRanges limits the ranges of a request; -1 (the default) means no
	// limit, 0 disables byte ranges.
	MaxRanges int

	// LogNotFound logs "open() ... failed" for 404s (log_not_found, default on).
	LogNotFound bool
	// Log receives the error_log lines of file errors; nil discards them.
	Log *slog.Logger
	// Cache keeps small files' contents between requests (see Cache);
	// nil: every request reads its file.
	Cache *Cache
}

// DefaultConfig returns nginx 1.22's defaults for a location with root
// "html" under prefix.
func DefaultConfig(prefix string) Config {
	return Config{
		Root:               "html",
		Prefix:             prefix,
		Index:              []string{"index.html"},
		AutoindexFormat:    "html",
		AutoindexExactSize: true,
		DefaultType:        "text/plain",
		CharsetTypes:       DefaultCharsetTypes(),
		ETag:               true,
		IfModifiedSince:    "exact",
		MaxRanges:          -1,
		LogNotFound:        true,
	}
}

// DefaultCharsetTypes is charset_types' default list.
func DefaultCharsetTypes() []string {
	return []string{"text/html", "text/xml", "text/plain", "text/vnd.wap.wml",
		"application/javascript", "application/rss+xml"}
}

// tryFile is one try_files argument but the last.
type tryFile struct {
	name Template
	dir  bool // written with a trailing "/": must be a directory
}

// fallback is try_files' last argument.
type fallback struct {
	code int      // "=CODE"; 0 otherwise
	name string   // "@name"
	uri  Template // a URI (may hold "?args")
}

// Handler serves files for one location. It is immutable and safe for
// concurrent use.
type Handler struct {
	root     Template
	rootBase string // the literal directory every path must stay under
	prefix   string
	alias    bool
	aliasLen int    // prefix locations: len(Location)
	location string // the location's name, for the alias error
	regex    bool   // regex location with alias: the alias is the whole path

	index    []Template
	tryFiles []tryFile
	fallback fallback
	hasTry   bool

	autoindex bool
	aiFormat  uint8 // aiHTML, aiJSON, aiJSONP, aiXML
	exactSize bool
	localtime bool

	types       map[string]string
	defaultType string
	charset     Charset
	recode      *Recode

	expires config.Expires
	// expiresValue is expires' value with variables, nil without.
	expiresValue Template
	etag         bool
	ims          uint8 // imsOff, imsExact, imsBefore
	maxRanges    int

	logNotFound bool
	log         *slog.Logger
	cache       *Cache
}

// autoindex_format values.
const (
	aiHTML uint8 = iota
	aiJSON
	aiJSONP
	aiXML
)

const (
	imsExact uint8 = iota
	imsBefore
	imsOff
)

// New compiles c. Errors name the directive and value at fault.
func New(c Config, compile CompileFunc) (*Handler, error) {
	h := &Handler{
		prefix:      c.Prefix,
		alias:       c.Alias,
		regex:       c.Alias && c.Regex,
		autoindex:   c.Autoindex,
		exactSize:   c.AutoindexExactSize,
		localtime:   c.AutoindexLocaltime,
		types:       c.Types,
		defaultType: c.DefaultType,
		recode:      c.Recode,
		expires:     c.Expires,
		etag:        c.ETag,
		maxRanges:   c.MaxRanges,
		logNotFound: c.LogNotFound,
		log:         c.Log,
		cache:       c.Cache,
	}
	var err error
	if h.charset, err = NewCharsetValue(c.Charset, c.CharsetTypes, compile); err != nil {
		return nil, fmt.Errorf("charset %q: %w", c.Charset, err)
	}
	if c.Alias && !c.Regex {
		h.aliasLen = len(c.Location)
	}
	if c.Alias {
		h.location = c.Location
	}
	switch c.AutoindexFormat {
	case "", "html":
	case "json":
		h.aiFormat = aiJSON
	case "jsonp":
		h.aiFormat = aiJSONP
	case "xml":
		h.aiFormat = aiXML
	default:
		return nil, fmt.Errorf("invalid autoindex_format %q", c.AutoindexFormat)
	}
	switch c.IfModifiedSince {
	case "", "exact":
		h.ims = imsExact
	case "before":
		h.ims = imsBefore
	case "off":
		h.ims = imsOff
	default:
		return nil, fmt.Errorf("invalid if_modified_since %q", c.IfModifiedSince)
	}
	if h.types == nil {
		h.types = builtinTypes
	}

	if c.Expires.Value != "" {
		if h.expiresValue, err = compile(c.Expires.Value); err != nil {
			return nil, fmt.Errorf("expires %q: %w", c.Expires.Value, err)
		}
	}
	root := c.Root
	if root == "" {
		return nil, errors.New("empty root")
	}
	if h.root, err = compile(root); err != nil {
		return nil, fmt.Errorf("root %q: %w", root, err)
	}
	h.rootBase = rootBase(root, c.Prefix, h.root.IsConst())

	for _, name := range c.Index {
		t, err := compile(name)
		if err != nil {
			return nil, fmt.Errorf("index %q: %w", name, err)
		}
		h.index = append(h.index, t)
	}

	if n := len(c.TryFiles); n > 0 {
		if n < 2 {
			return nil, errors.New("try_files needs at least two arguments")
		}
		h.hasTry = true
		for _, a := range c.TryFiles[:n-1] {
			tf := tryFile{}
			if strings.HasSuffix(a, "/") {
				tf.dir, a = true, a[:len(a)-1]
			}
			if tf.name, err = compile(a); err != nil {
				return nil, fmt.Errorf("try_files %q: %w", a, err)
			}
			h.tryFiles = append(h.tryFiles, tf)
		}
		last := c.TryFiles[n-1]
		switch {
		case strings.HasPrefix(last, "="):
			code, err := strconv.Atoi(last[1:])
			if err != nil || code < 0 || code > 999 {
				return nil, fmt.Errorf("invalid code %q", last)
			}
			h.fallback.code = code
		case strings.HasPrefix(last, "@"):
			h.fallback.name = last
		default:
			if h.fallback.uri, err = compile(last); err != nil {
				return nil, fmt.Errorf("try_files %q: %w", last, err)
			}
		}
	}
	return h, nil
}

// rootBase is the directory no path may leave: the root or alias itself
// when it is literal, else its text up to the first variable cut back to
// the last "/" (a root "/srv/$host" keeps every host under /srv).
func rootBase(root, prefix string, isConst bool) string {
	lit := root
	if !isConst {
		if i := strings.IndexByte(root, '$'); i >= 0 {
			lit = root[:i]
			if j := strings.LastIndexByte(lit, '/'); j >= 0 {
				lit = lit[:j+1]
			} else {
				lit = ""
			}
		}
	}
	if !strings.HasPrefix(lit, "/") {
		lit = filepath.Join(prefix, lit)
	}
	return filepath.Clean(lit)
}
