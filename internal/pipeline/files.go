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
// error pages and directory redirects are written here (with the lines
// nginx's filters add), its index and try_files redirects become internal
// redirects the phase loop follows.
type filesContent struct{ pc *Conn }

func (h filesContent) ServeContent(w exchange.ResponseWriter, r *exchange.Request, loc *snapshot.Loc, vc *vars.Ctx) exchange.Result {
	pc := h.pc
	if loc.Files == nil {
		return pc.fail(w, 404)
	}
	pc.fileReq = files.Request{Method: vc.Method, HTTP09: r.ProtoMajor == 0, Headers: r, Vars: vc}
	res := loc.Files.Serve(w, &pc.fileReq, &pc.fileScratch)
	switch res.Action {
	case files.Error:
		if w.Written() {
			w.CloseAfter()
			return exchange.Result{Status: res.Status}
		}
		w.WriteErrorWith(res.Status, res.Charset, res.Extra)
		if res.Close {
			w.Abort()
		}
		return exchange.Result{Status: res.Status}
	case files.Redirect:
		return pc.redirectWith(w, r, loc, res.Status, res.Location, res.Extra, res.Charset)
	case files.Internal:
		return exchange.Result{RedirectURI: res.URI, RedirectArgs: res.Args}
	case files.Named:
		return exchange.Result{Named: res.Name}
	}
	return exchange.Result{Status: res.Status}
}

// expiresLines are the Expires and Cache-Control lines the location's
// expires directive puts on a response the pipeline builds with status
// (none for the statuses nginx's headers filter leaves alone).
func (pc *Conn) expiresLines(loc *snapshot.Loc, status int) []byte {
	if loc == nil || loc.Expires.Mode == 0 || !files.ExpiresStatus(status) {
		return nil
	}
	pc.extra = files.AppendExpiresLines(pc.extra[:0], loc.Expires, time.Time{}, false)
	return pc.extra
}

// addLines queues serialized "Name: Value\r\n" lines.
func addLines(w exchange.ResponseWriter, lines []byte) {
	for len(lines) > 0 {
		i := bytes.Index(lines, lineEnd)
		if i < 0 {
			return
		}
		line := lines[:i]
		lines = lines[i+2:]
		if c := bytes.Index(line, colonSP); c > 0 {
			w.AddHeaderBytes(line[:c], line[c+2:])
		}
	}
}

var (
	lineEnd = []byte("\r\n")
	colonSP = []byte(": ")
)

var (
	_ files.ResponseWriter = exchange.ResponseWriter(nil)
	_ files.Headers        = (*exchange.Request)(nil)
)
