package files

import (
	"log/slog"

	"wsgate/internal/config"
)

// gzipStatic is ngx_http_gzip_static_handler, the content handler nginx
// runs before the static one: for a GET or HEAD of a URI without a
// trailing slash, with gzip_static on and a request ngx_http_gzip_ok lets
// through (or gzip_static always), the file's neighbour FILE.gz is sent
// instead, with the original name's type, "Content-Encoding: gzip", its
// own length, Last-Modified and ETag, and no byte ranges (nginx 1.22
// leaves r->allow_ranges unset there). done is
// false when the static handler is to go on: no .gz, a directory, a
// request that may not have gzip. Finding the .gz (whether or not the
// request may have it) marks the response for gzip_vary; a .gz that is
// neither file nor directory is a 404.
func (s *state) gzipStatic(w ResponseWriter) (Result, bool) {
	bc := s.r.Body
	if bc == nil || s.r.Method == "POST" {
		return Result{}, false
	}
	mode := bc.GzipStatic()
	if mode == config.GzipStaticOff {
		return Result{}, false
	}
	ok := mode == config.GzipStaticAlways || bc.GzipOK()
	if !ok && !bc.GzipVary() {
		return Result{}, false
	}
	h := s.h
	p, good := s.appendPath(s.sc.path[:0])
	if !good {
		s.sc.path = p
		return Result{}, false
	}
	p = append(p, ".gz"...)
	s.sc.path = p
	name, safe := safePath(p, h.rootBase)
	if !safe {
		return Result{}, false
	}
	fh, err := openPath(name, false)
	if err != nil {
		if !isNotFound(err) {
			h.logErrAt(levelFor(openStatus(err)), "open() failed", err, name)
		}
		return Result{}, false
	}
	bc.MarkVary()
	if !ok || fh.isDir() {
		fh.close()
		return Result{}, false
	}
	if !fh.isRegular() {
		fh.close()
		h.logf(slog.LevelError, "is not a regular file", display(name))
		return s.fail(404), true
	}
	s.gzipped = true
	b := body{w: w, fh: fh, name: name}
	defer b.close()
	return s.send(&b), true
}
