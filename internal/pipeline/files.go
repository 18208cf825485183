package pipeline

import (
	"bytes"
	"time"

	"wsgate/internal/exchange"
	"wsgate/internal/files"
	"wsgate/internal/snapshot"
	"wsgate/internal/vars"
)

// filesContent answers the locations without a content handler of their
// own (snapshot.ContentFiles) from the file system with the location's
// files.Handler, and turns what it asks for into the pipeline's terms: its
// errors are left to the pipeline (Result.Error: the location's error_page,
// else nginx's page), except the 412 and 416 of nginx's header filters,
// written here with the lines they add; directory redirects are written
// here; index and try_files redirects, to a URI or a named location,
// become internal redirects the phase loop follows.
type filesContent struct{ pc *Conn }

func (h filesContent) ServeContent(w exchange.ResponseWriter, r *exchange.Request, loc *snapshot.Loc, vc *vars.Ctx) exchange.Result {
	pc := h.pc
	if loc.Files == nil {
		return exchange.Result{Error: 404}
	}
	pc.fileReq = files.Request{Method: vc.Method, HTTP09: r.ProtoMajor == 0, ErrStatus: pc.ep.Status, NoLocationCut: r.NoLocationCut, Headers: r, Vars: vc, Filter: loc.Filter}
	if loc.Body != nil {
		pc.fileReq.Body = &pc.bf
	}
	if pc.ep.Status != 0 {
		// The handler starts from the error page's status itself, and
		// nginx's header filters may change it after (a 206 or 304 of a
		// page answered "=200").
		w.SetErrorStatus(0)
	}
	res := loc.Files.Serve(w, &pc.fileReq, &pc.fileScratch)
	if res.Action != files.Done && pc.ep.Status != 0 {
		w.SetErrorStatus(pc.ep.Status)
	}
	switch res.Action {
	case files.Error:
		if w.Written() {
			w.CloseAfter()
			return exchange.Result{Status: res.Status}
		}
		if res.Extra == nil && !res.Close {
			// The static, index and try_files handlers return the code
			// to ngx_http_finalize_request, whose special response
			// handler looks for an error page (a 404 for a missing
			// file, 403, 405, try_files' =code).
			return exchange.Result{Error: res.Status}
		}
		if pc.ep.Answers(loc.ErrorPages, res.Status) {
			// ngx_http_special_response_handler finds the error page
			// of the header filters' 412 and 416 as of any other
			// status. The 416's Content-Range and the file's ETag stay
			// in nginx's list of headers, whoever answers; the 412
			// came through ngx_http_filter_finalize_request, which
			// cleaned the headers and ends the request with an error
			// once the page is sent: the connection closes.
			if len(res.ETag) > 0 {
				w.AddErrorHeader(etagName, res.ETag)
			}
			addErrorLines(w, res.Extra)
			pc.abortAfter = pc.abortAfter || res.Close
			return exchange.Result{Error: res.Status}
		}
		// The not_modified filter's 412 and the range filter's 416 (with
		// its Content-Range) are written with nginx's page here.
		w.WriteErrorWith(res.Status, res.Charset, res.Extra)
		if res.Close {
			w.Abort()
		}
		return exchange.Result{Status: res.Status}
	case files.Redirect:
		if pc.ep.Answers(loc.ErrorPages, res.Status) {
			// ngx_http_static_handler returns its 301 to
			// ngx_http_finalize_request, whose special response handler
			// finds the error page for it; the Location it set stays.
			abs, _ := pc.absLocation(loc, res.Location)
			w.SetLocation(abs)
			return exchange.Result{Error: res.Status}
		}
		return pc.redirectWith(w, r, loc, res.Status, res.Location, res.Extra, res.Charset)
	case files.Internal:
		return exchange.Result{RedirectURI: res.URI, RedirectArgs: res.Args}
	case files.Named:
		return exchange.Result{Named: res.Name}
	}
	return exchange.Result{Status: res.Status}
}

// tryFiles is ngx_http_try_files_handler in a location whose content
// handler is not the file handler (proxy_pass): the first argument that
// names an existing file becomes $uri, and the content handler answers
// with it (the proxy sends the client's target unchanged when its
// proxy_pass has no URI part, as nginx keeps r->valid_unparsed_uri);
// otherwise the last argument's error, internal redirect or named
// location answers.
func (pc *Conn) tryFiles(r *exchange.Request, loc *snapshot.Loc) (exchange.Result, bool) {
	vc := &pc.vc
	pc.fileReq = files.Request{Method: vc.Method, HTTP09: r.ProtoMajor == 0, ErrStatus: pc.ep.Status, NoLocationCut: r.NoLocationCut, Headers: r, Vars: vc, Filter: loc.Filter}
	res, done := loc.Files.TryFiles(&pc.fileReq, &pc.fileScratch)
	if !done {
		r.NormalizedPath = sbytes(vc.URI)
		return exchange.Result{}, false
	}
	switch res.Action {
	case files.Internal:
		return exchange.Result{RedirectURI: res.URI, RedirectArgs: res.Args}, true
	case files.Named:
		return exchange.Result{Named: res.Name}, true
	}
	return exchange.Result{Error: res.Status}, true
}

// expiresLines are the Expires and Cache-Control lines the location's
// expires directive puts on a response the pipeline builds with status
// (none for the statuses nginx's headers filter leaves alone).
func (pc *Conn) expiresLines(loc *snapshot.Loc, status int) []byte {
	if loc == nil || loc.Expires.Mode == 0 || !files.ExpiresStatus(status) {
		return nil
	}
	pc.extra = files.AppendExpiresLines(pc.extra[:0], files.ResolveExpires(loc.Expires, loc.ExpiresValue, &pc.vc), time.Time{}, false)
	return pc.extra
}

// addLines queues serialized "Name: Value\r\n" lines.
func addLines(w exchange.ResponseWriter, lines []byte) {
	for name, value, rest, ok := nextLine(lines); ok; name, value, rest, ok = nextLine(rest) {
		w.AddHeaderBytes(name, value)
	}
}

// addErrorLines queues serialized lines with AddErrorHeader.
func addErrorLines(w exchange.ResponseWriter, lines []byte) {
	for name, value, rest, ok := nextLine(lines); ok; name, value, rest, ok = nextLine(rest) {
		w.AddErrorHeader(name, value)
	}
}

// nextLine splits the first "Name: Value\r\n" line off lines, skipping
// lines without ": ".
func nextLine(lines []byte) (name, value, rest []byte, ok bool) {
	for len(lines) > 0 {
		i := bytes.Index(lines, lineEnd)
		if i < 0 {
			return nil, nil, nil, false
		}
		line := lines[:i]
		lines = lines[i+2:]
		if c := bytes.Index(line, colonSP); c > 0 {
			return line[:c], line[c+2:], lines, true
		}
	}
	return nil, nil, nil, false
}

var (
	etagName = []byte("ETag")
	lineEnd  = []byte("\r\n")
	colonSP  = []byte(": ")
)

var (
	_ files.ResponseWriter = exchange.ResponseWriter(nil)
	_ files.Headers        = (*exchange.Request)(nil)
)
