package files

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"wsgate/internal/config"

	"wsgate/internal/headers"
	"wsgate/internal/vars"
)

// ResponseWriter is what Serve writes a response through;
// *http1.ResponseWriter implements it.
type ResponseWriter interface {
	AddServerDate()
	AddHeader(name, value string)
	AddHeaderBytes(name, value []byte)
	// AddLines queues "Name: Value\r\n" lines composed and checked
	// once (see exchange.ResponseWriter).
	AddLines(lines []byte)
	// MarkFraming places Content-Length (and Last-Modified, then
	// Connection) after the headers queued so far.
	MarkFraming()
	// MarkLateLines: the range filter's lines follow (see
	// exchange.ResponseWriter).
	MarkLateLines()
	SetLastModified(value []byte)
	WriteHeader(status int, reason string, contentLength int64) error
	Write(p []byte) (int, error)
	// WriteFile writes n bytes of f from offset off as body bytes.
	WriteFile(f *os.File, off, n int64) (int64, error)
	// BodyBuffer lends n bytes of the output buffer to fill and Write, or
	// returns nil (see http1.ResponseWriter.BodyBuffer).
	BodyBuffer(n int) []byte
	// Abort ends the response short and closes the connection.
	Abort()
}

// Headers gives the value of a request header (the first of that name),
// nil when absent; *http1.Request implements it.
type Headers interface {
	Header(name string) []byte
}

// Request is what Serve reads of a request besides its variables.
type Request struct {
	Method string
	// HTTP09 is set for an HTTP/0.9 request, which gets no byte ranges.
	HTTP09 bool
	// ErrStatus is the status an error page gave the answer (nginx's
	// r->err_status), 0 for none: the header filters see it in place of
	// 200 (ngx_http_send_header sets it first), so that a file served as
	// a 404 page gets no Last-Modified, Accept-Ranges, byte ranges or 304.
	ErrStatus int
	Headers   Headers
	// Vars is the request's variables: $uri and $args are read from it,
	// and try_files sets its URI to the file it picked, as nginx changes
	// $uri.
	Vars *vars.Ctx
	// NoLocationCut is set after "rewrite ... break" changed the URI
	// (nginx's r->valid_location off): an alias cannot map it.
	NoLocationCut bool
	// Filter is the location's header filter (nil: none): an ETag or
	// Last-Modified that its add_header sets is what If-Range is compared
	// with, as nginx's range filter runs after the headers filter.
	Filter *headers.Filter
	// Body is the location's body filter chain bound to the request
	// (nil: none): a body it changes has no length the range filter
	// could cut, so it gets no byte ranges and no Accept-Ranges.
	Body BodyChanges
}

// BodyChanges is what the static handler asks of the location's body
// filters bound to the request; *bodyfilter.Bound implements it.
type BodyChanges interface {
	// Changes says whether the 200 of a file of ctype and length (sent
	// gzip-encoded: encoded) goes through a body filter (sub_filter,
	// gzip, gunzip).
	Changes(ctype string, length int64, encoded bool) bool
	// GzipStatic is gzip_static's mode; GzipOK is ngx_http_gzip_ok for
	// the request; GzipVary is gzip_vary; MarkVary sets r->gzip_vary.
	GzipStatic() config.GzipStatic
	GzipOK() bool
	GzipVary() bool
	MarkVary()
}

// Action says what the caller does with a Result.
type Action uint8

const (
	// Done: the response was written (Status is its status).
	Done Action = iota
	// Error: answer Status with nginx's page for it (or error_page),
	// adding Extra after the Connection line.
	Error
	// Redirect: answer 301 with Location made absolute, adding Extra.
	Redirect
	// Internal: redirect internally to URI with Args (re-run location
	// matching, as ngx_http_internal_redirect).
	Internal
	// Named: continue in the named location Name (try_files ... @name).
	Named
)

// Result is what Serve did or asks the caller to do. Its byte slices
// alias the Scratch passed to Serve.
type Result struct {
	Action   Action
	Status   int
	Location []byte // Redirect: the URI with "/" appended, escaped, with ?args
	Extra    []byte // Error, Redirect: "Name: Value\r\n" lines nginx's filters add
	URI      string // Internal
	Args     string // Internal
	HasArgs  bool   // Internal
	Name     string // Named
	// Charset is the charset directive's value when the page's
	// Content-Type (text/html) gets "; charset=" (Error, Redirect).
	Charset string
	// ETag is, for the range filter's 416, the file's ETag line, which
	// nginx leaves in the response's header list when an error page
	// answers (its own page clears it); nil otherwise.
	ETag []byte
	// Close: the connection closes once the page is sent, its header
	// still saying keep-alive (a 412 of the not_modified filter, which
	// nginx sends and then finalizes the request with an error).
	Close bool
}

// Scratch holds per-request buffers; a connection keeps one and passes it
// to every Serve so that requests allocate little.
type Scratch struct {
	path, name, hdr, loc, extra, date []byte
	rs                                rangeSet
}

// state is one request in progress.
type state struct {
	h   *Handler
	vc  *vars.Ctx
	r   *Request
	sc  *Scratch
	uri string
	// addURIToAlias is nginx's r->add_uri_to_alias: try_files picked a
	// file under a regex location's alias, which then gets $uri appended.
	addURIToAlias bool
	// gzipped: gzip_static sends the file's .gz neighbour.
	gzipped bool
}

func isGetHeadPost(m string) bool { return m == "GET" || m == "HEAD" || m == "POST" }

// Serve answers r from the file system: try_files, then the content
// handlers nginx runs in turn for a location without one of its own
// (index, autoindex, static).
func (h *Handler) Serve(w ResponseWriter, r *Request, sc *Scratch) Result {
	s := &state{h: h, vc: r.Vars, r: r, sc: sc, uri: r.Vars.URI}
	if h.alias && r.NoLocationCut && (h.hasTry || isGetHeadPost(r.Method)) {
		// try_files, index, autoindex and static map the URI to a path
		// once the method suits them.
		return s.aliasRewritten()
	}
	if h.hasTry {
		if res, done := s.tryFiles(); done {
			return res
		}
	}
	if strings.HasSuffix(s.uri, "/") {
		if isGetHeadPost(r.Method) {
			if res, done := s.index(); done {
				return res
			}
		}
		if h.autoindex && (r.Method == "GET" || r.Method == "HEAD") {
			return s.autoindex(w)
		}
		if !isGetHeadPost(r.Method) {
			return s.fail(405)
		}
		// ngx_http_core_content_phase: no handler took a directory URI.
		h.logf(slog.LevelError, "directory index is forbidden", s.uri)
		return s.fail(403)
	}
	if !isGetHeadPost(r.Method) {
		return s.fail(405)
	}
	if res, done := s.gzipStatic(w); done {
		return res
	}
	return s.static(w)
}

// levelAlert is nginx's alert level (accesslog.Levels).
const levelAlert = slog.LevelError + 2

// TryFiles is try_files alone, for a location whose content handler is
// not this one (proxy_pass): nginx runs ngx_http_try_files_handler in the
// precontent phase, before any content handler. done is false when an
// argument named an existing file: r.Vars' URI is then that file's, for
// the content handler to use; otherwise the Result says what to do (an
// error, an internal redirect, a named location).
func (h *Handler) TryFiles(r *Request, sc *Scratch) (res Result, done bool) {
	if !h.hasTry {
		return Result{}, false
	}
	s := &state{h: h, vc: r.Vars, r: r, sc: sc, uri: r.Vars.URI}
	if h.alias && r.NoLocationCut {
		return s.aliasRewritten(), true
	}
	return s.tryFiles()
}

// aliasRewritten is the 500 of ngx_http_map_uri_to_path for an alias and
// a URI that "rewrite ... break" changed: the alias replaces the
// location's prefix, which such a URI need not have.
func (s *state) aliasRewritten() Result {
	h := s.h
	if h.log != nil && h.log.Enabled(context.Background(), levelAlert) {
		h.log.Log(context.Background(), levelAlert, "\"alias\" cannot be used in location \""+h.location+"\" where URI was rewritten")
	}
	return s.fail(500)
}

// fail is an Error result with the page's charset.
func (s *state) fail(status int) Result {
	return Result{Action: Error, Status: status, Charset: s.h.charset.Resolve(s.vc).Page(status)}
}

// tryFiles is ngx_http_try_files_handler: the first argument that names an
// existing file (a directory for a trailing "/") becomes $uri; otherwise
// the last argument decides.
func (s *state) tryFiles() (Result, bool) {
	h := s.h
	for i := range h.tryFiles {
		tf := &h.tryFiles[i]
		name := s.tryName(tf.name)
		p, ok := s.tryPath(name)
		if !ok {
			continue
		}
		fh, err := openPath(p, true)
		if err != nil {
			if !isNotFound(err) {
				h.logErrAt(levelFor(500), "try_files", err, p)
			}
			continue
		}
		isDir := fh.isDir()
		fh.close()
		if isDir != tf.dir {
			continue
		}
		switch {
		case h.regex:
			if !tf.dir {
				s.uri, s.addURIToAlias = name, true
			}
		case h.alias:
			s.uri = s.uri[:h.aliasLen] + name
		default:
			s.uri = name
		}
		s.vc.URI = s.uri
		return Result{}, false
	}
	fb := &h.fallback
	switch {
	case fb.uri == nil && fb.name == "":
		return s.fail(fb.code), true
	case fb.name != "":
		return Result{Action: Named, Name: fb.name}, true
	}
	name := s.tryName(fb.uri)
	uri, args, hasArgs := name, s.vc.Args, s.vc.HasArgs
	if i := strings.IndexByte(name, '?'); i >= 0 {
		uri, args, hasArgs = name[:i], name[i+1:], true
	}
	return Result{Action: Internal, URI: uri, Args: args, HasArgs: hasArgs}, true
}

// tryName evaluates a try_files argument; under a prefix location's alias
// a value with variables that starts with the location's name loses it
// (the $uri of "try_files $uri ..." maps into the alias).
func (s *state) tryName(t Template) string {
	h := s.h
	b := t.Append(s.sc.name[:0], s.vc)
	s.sc.name = b
	name := string(b)
	if h.alias && !h.regex && !t.IsConst() && len(s.uri) >= h.aliasLen &&
		strings.HasPrefix(name, s.uri[:h.aliasLen]) {
		name = name[h.aliasLen:]
	}
	return name
}

// tryPath is the file a try_files name stands for: the root (or alias,
// whole for a regex location) followed by the name.
func (s *state) tryPath(name string) ([]byte, bool) {
	b := s.appendRoot(s.sc.path[:0])
	b = append(b, name...)
	p, ok := safePath(b, s.h.rootBase)
	if ok {
		s.sc.path = p
	}
	return p, ok
}

// index is ngx_http_index_handler: the first index file that exists turns
// into an internal redirect to $uri + name; a name starting with "/"
// redirects at once.
func (s *state) index() (Result, bool) {
	h := s.h
	dirTested := false
	for _, t := range h.index {
		nb := t.Append(s.sc.name[:0], s.vc)
		s.sc.name = nb
		if len(nb) > 0 && nb[0] == '/' {
			return Result{Action: Internal, URI: string(nb), Args: s.vc.Args, HasArgs: s.vc.HasArgs}, true
		}
		dir, ok := s.appendPath(s.sc.path[:0])
		if !ok {
			return s.fail(500), true
		}
		dirName := string(dir)
		p := append(dir, nb...)
		name, ok := safePath(p, h.rootBase)
		if !ok {
			return s.refused(p), true
		}
		s.sc.path = name
		fh, err := openPath(name, true)
		if err == nil {
			fh.close()
			return Result{Action: Internal, URI: s.uri + string(nb), Args: s.vc.Args, HasArgs: s.vc.HasArgs}, true
		}
		switch {
		case errors.Is(err, syscall.ELOOP):
			return s.fail(403), true
		case errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.ENAMETOOLONG):
			if h.logNotFound {
				h.logErrAt(slog.LevelError, "index", err, name)
			}
			return s.fail(404), true
		case errors.Is(err, syscall.EACCES):
			h.logf(slog.LevelError, "index is forbidden", display(name))
			return s.fail(403), true
		}
		if !dirTested {
			if res, done := s.testDir(dirName); done {
				return res, true
			}
			dirTested = true
		}
		if !errors.Is(err, fs.ErrNotExist) {
			h.logErrAt(levelFor(500), "index", err, name)
			return s.fail(500), true
		}
	}
	return Result{}, false
}

// testDir is ngx_http_index_test_dir: the directory the index files were
// looked for in must exist (404) and be a directory (500); a directory we
// may not list is fine (403 comes from the index files themselves).
func (s *state) testDir(dir string) (Result, bool) {
	fi, err := os.Stat(dir)
	switch {
	case err == nil && fi.IsDir():
		return Result{}, false
	case err == nil:
		s.h.logf(slog.LevelError, "is not a directory", dir)
		return s.fail(500), true
	case errors.Is(err, syscall.ELOOP):
		return s.fail(403), true
	case errors.Is(err, fs.ErrNotExist):
		if s.h.logNotFound {
			s.h.logf(slog.LevelError, "is not found", dir)
		}
		return s.fail(404), true
	case errors.Is(err, syscall.EACCES):
		return Result{}, false
	}
	s.h.logErr(levelFor(500), "stat() failed", err, dir)
	return s.fail(500), true
}

// refused answers a path that would leave the root or alias directory.
func (s *state) refused(p []byte) Result {
	if h := s.h; h.log != nil && h.log.Enabled(context.Background(), slog.LevelWarn) {
		h.logf(slog.LevelWarn, "path leaves the root or alias directory, refused", display(p))
	}
	return s.fail(404)
}

// openStatus maps an open(2) error to nginx's status
// (ngx_http_static_handler).
func openStatus(err error) int {
	switch {
	case isNotFound(err):
		return 404
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.ELOOP), errors.Is(err, syscall.EMLINK):
		return 403
	}
	return 500
}

func isNotFound(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.ENAMETOOLONG)
}

// logf writes an error_log line about path.
func (h *Handler) logf(level slog.Level, msg, path string) {
	if h.log == nil || !h.log.Enabled(context.Background(), level) {
		return
	}
	h.log.Log(context.Background(), level, msg, "path", path)
}

// logErr is logf for a failed system call: msg, then the error as nginx
// words errno ("(2: No such file or directory)"). Nothing is built when
// the level is off: a missing file is the common case.
func (h *Handler) logErr(level slog.Level, msg string, err error, path string) {
	if h.log == nil || !h.log.Enabled(context.Background(), level) {
		return
	}
	h.log.Log(context.Background(), level, msg+": "+errText(err), "path", path)
}

// logErrAt is logErr for a NUL-terminated path in a scratch buffer.
func (h *Handler) logErrAt(level slog.Level, msg string, err error, path []byte) {
	if h.log == nil || !h.log.Enabled(context.Background(), level) {
		return
	}
	h.logErr(level, msg, err, display(path))
}
