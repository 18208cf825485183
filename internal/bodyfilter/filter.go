package bodyfilter

import (
	"fmt"
	"io"
	"log/slog"

	"wsgate/internal/config"
	"wsgate/internal/exchange"
	"wsgate/internal/files"
	"wsgate/internal/vars"
)

// Value is a compiled configuration value that may hold variables;
// *vars.Template implements it.
type Value interface {
	Append(dst []byte, c *vars.Ctx) []byte
	IsConst() bool
}

// CompileFunc compiles a raw configuration value.
type CompileFunc func(raw string) (Value, error)

// Filter is one location's compiled body filters; nil when the location
// has none. It is immutable and safe for concurrent use.
type Filter struct {
	gunzip bool           // gunzip on
	sub    *subFilter     // sub_filter; nil: none
	cs     *charsetFilter // charset recoding of what the file handler does not send; nil: none
	gzip   *gzipFilter    // gzip on; nil: off
	// static is gzip_static's mode, for the static file handler.
	static config.GzipStatic
	// core is ngx_http_gzip_ok's settings and gzip_vary, set when gzip,
	// gunzip or gzip_static is on.
	core *gzipCore
}

// Options are what Compile needs beyond a location's settings.
type Options struct {
	// Charsets are the http context's charset_map tables, for the
	// charset stage (nil: none).
	Charsets *files.CharsetTables
	// Log receives the charset stage's error lines (nil: none).
	Log *slog.Logger
}

// Compile compiles a location's body filter directives; it returns nil
// (and no error) when there are none.
func Compile(lc *config.LocConf, compile CompileFunc, opts Options) (*Filter, error) {
	gzipOK := lc.Gzip.On || lc.Gzip.Gunzip || lc.Gzip.Static != config.GzipStaticOff
	xaccel := lc.ProxyPass != nil && lc.Proxy.IgnoreHeaders&config.IgnoreXAccelCharset == 0
	cs := compileCharset(&lc.Files, opts.Charsets, xaccel, opts.Log)
	if len(lc.Sub.Pairs) == 0 && !gzipOK && cs == nil {
		return nil, nil
	}
	f := &Filter{gunzip: lc.Gzip.Gunzip, static: lc.Gzip.Static, cs: cs}
	var err error
	if len(lc.Sub.Pairs) > 0 {
		if f.sub, err = compileSub(&lc.Sub, compile); err != nil {
			return nil, err
		}
	}
	if gzipOK {
		if f.core, err = compileGzipCore(&lc.Gzip); err != nil {
			return nil, err
		}
	}
	if lc.Gzip.On {
		f.gzip = compileGzip(&lc.Gzip)
	}
	return f, nil
}

// LabelsCharset reports whether the filter's charset stage labels the
// Content-Type of the location's responses with their charset: the
// proxy's response plan and return then leave it to the stage, which
// knows the charset the response came with.
func (f *Filter) LabelsCharset() bool { return f != nil && f.cs != nil && !f.cs.xaOnly }

// RecodesXAccelCharset reports whether the charset stage acts only on a
// proxied response's X-Accel-Charset: the response plan labels the
// others, and leaves a response with one to the stage.
func (f *Filter) RecodesXAccelCharset() bool { return f != nil && f.cs != nil && f.cs.xaOnly }

// OverrideType is the Content-Type the charset stage gives a response of
// type ctype whose X-Accel-Charset is override: the type labeled with
// it, false when the stage leaves it alone (no stage, an unknown
// charset, or a Content-Encoding, given as encoded).
func (f *Filter) OverrideType(ctype []byte, override string, encoded bool) ([]byte, bool) {
	if f == nil || f.cs == nil || override == "" || len(ctype) == 0 || !f.cs.known(override) || encoded {
		return nil, false
	}
	typ, _ := splitCharset(ctype)
	return append(append(append([]byte(nil), typ...), "; charset="...), override...), true
}

// Changes reports whether the 200 of a static file of ctype (the
// Content-Type value) and length would go through a stage for the bound
// request; encoded says the file is sent gzip-encoded. Its
// length is then unknown to the client: nginx's range filter runs after
// the body filters' header filters and sends no byte ranges of such a
// body (nor Accept-Ranges), so the static file handler asks before it
// decides. Search strings with variables are assumed not to be all
// empty; gzip_proxied's tests see a file's Last-Modified and ETag, and no
// Expires or Cache-Control.
func (b *Bound) Changes(ctype string, length int64, encoded bool) bool {
	if b == nil || b.f == nil || length == 0 {
		return false
	}
	f := b.f
	if encoded && f.gunzip && !f.core.ok(b.vars, fileHead{}) {
		return true
	}
	if f.sub != nil && f.sub.types.matchString(ctype) {
		return true
	}
	if gz := f.gzip; gz != nil && !encoded && length >= gz.minLength && gz.types.matchString(ctype) {
		return f.core.ok(b.vars, fileHead{})
	}
	return false
}

// GzipStatic is the location's gzip_static mode.
func (b *Bound) GzipStatic() config.GzipStatic {
	if b == nil || b.f == nil {
		return config.GzipStaticOff
	}
	return b.f.static
}

// GzipOK is ngx_http_gzip_ok for a static file of the bound request.
func (b *Bound) GzipOK() bool { return b.f.core.ok(b.vars, fileHead{}) }

// GzipVary reports whether gzip_vary is on.
func (b *Bound) GzipVary() bool { return b.f.core.vary }

// MarkVary sets r->gzip_vary: the response gets "Vary: Accept-Encoding"
// under gzip_vary whatever the filters decide (gzip_static found the
// file's .gz).
func (b *Bound) MarkVary() { b.varyMarked = true }

// fileHead is what gzip_proxied sees of a static file's head.
type fileHead struct{}

func (fileHead) value(name string) []byte {
	if name == "Last-Modified" || name == "ETag" {
		return []byte{}
	}
	return nil
}

func (fileHead) each(string, func([]byte) bool) bool { return false }

// maxStages bounds the stages of one chain (sub, charset, gzip).
const maxStages = 4

// Bound is a Filter with one request's variables and the state of the
// response in progress: the wire layer's body filter for that request
// (exchange.BodyFilter). A connection keeps one and rebinds it per
// request (Bind), so that its buffers serve every response.
type Bound struct {
	f    *Filter
	vars *vars.Ctx

	gunzip gunzipStage
	sub    subStage
	cs     charsetStage
	gz     gzipStage

	// active are the stages that took the current body, in order;
	// links[i] passes stage i's output to stage i+1.
	active [maxStages]exchange.BodyStage
	links  [maxStages]link
	n      int
	// varyMarked is r->gzip_vary set by the content handler
	// (gzip_static).
	varyMarked bool
}

// Bind makes b the filter f with the request's variables vc.
func (b *Bound) Bind(f *Filter, vc *vars.Ctx) {
	b.f, b.vars = f, vc
	b.n, b.varyMarked = 0, false
}

// Start runs the header filters of the stages, in nginx's order, and
// returns the chain of those that took the body (exchange.BodyFilter).
func (b *Bound) Start(buf []byte, start, status int, contentLength int64) ([]byte, exchange.BodyStage) {
	b.n = 0
	if b.f == nil || status == 101 {
		return buf, nil
	}
	var st exchange.BodyStage
	vary := b.varyMarked
	b.varyMarked = false
	if b.f.gunzip {
		if buf, st, vary = b.gunzip.start(b.f.core, b.vars, buf, start); st != nil {
			b.active[b.n] = st
			b.n++
			contentLength = -1
		}
	}
	if b.f.sub != nil {
		if buf, st = b.sub.start(b.f.sub, b.vars, buf, start, contentLength); st != nil {
			b.active[b.n] = st
			b.n++
			contentLength = -1
		}
	}
	if b.f.cs != nil {
		var cst *charsetStage
		override := ""
		if b.vars != nil {
			override = b.vars.OverrideCharset
		}
		if buf, cst = b.cs.start(b.f.cs, buf, start, status, contentLength, override); cst != nil {
			b.active[b.n] = cst
			b.n++
			if !cst.single {
				contentLength = -1
			}
		}
	}
	if b.f.gzip != nil {
		var v bool
		if buf, st, v = b.gz.start(b.f.gzip, b.f.core, b.vars, buf, start, status, contentLength); st != nil {
			b.active[b.n] = st
			b.n++
		}
		vary = vary || v
	}
	if vary && b.f.core != nil && b.f.core.vary {
		// ngx_http_header_filter writes it after Connection.
		buf = insertAfter(buf, start, "Connection", "Vary: Accept-Encoding\r\n")
	}
	switch b.n {
	case 0:
		return buf, nil
	case 1:
		return buf, b.active[0]
	}
	return buf, b
}

// KeepsLength is exchange.LengthKeeper for a chain of more than one
// stage: every stage keeps the length.
func (b *Bound) KeepsLength() bool {
	for i := 0; i < b.n; i++ {
		if !exchange.KeepsLength(b.active[i]) {
			return false
		}
	}
	return true
}

// link is an io.Writer that feeds a stage.
type link struct {
	st   exchange.BodyStage
	next io.Writer
}

func (l *link) Write(p []byte) (int, error) {
	if err := l.st.Write(l.next, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Write passes p through the active stages in order (a chain of more than
// one).
func (b *Bound) Write(next io.Writer, p []byte) error {
	_, err := b.first(next).Write(p)
	return err
}

// first links the active stages ending in next and returns the first.
func (b *Bound) first(next io.Writer) io.Writer {
	var w io.Writer = next
	for i := b.n - 1; i >= 1; i-- {
		b.links[i] = link{st: b.active[i], next: w}
		w = &b.links[i]
	}
	b.links[0] = link{st: b.active[0], next: w}
	return &b.links[0]
}

// End ends each stage in order, so that what one still held goes
// through the ones after it before they end.
func (b *Bound) End(next io.Writer) error {
	b.first(next)
	for i := 0; i < b.n; i++ {
		if err := b.active[i].End(b.links[i].next); err != nil {
			return err
		}
	}
	return nil
}

var _ exchange.BodyFilter = (*Bound)(nil)
var _ exchange.BodyStage = (*Bound)(nil)

func compileErr(pos config.Pos, what string, err error) error {
	return &config.Error{Pos: pos, Msg: fmt.Sprintf("%s: %v", what, err)}
}
