package errorpage

import (
	"bytes"
	"unsafe"

	"wsgate/internal/config"
	"wsgate/internal/vars"
)

// Pages is the compiled error page configuration of one location
// (ngx_http_core_loc_conf_t's error_pages, recursive_error_pages) and its
// proxy_intercept_errors.
type Pages struct {
	list []Page
	// Recursive is recursive_error_pages: an error page's target may use
	// error pages again.
	Recursive bool
	// Intercept is proxy_intercept_errors.
	Intercept bool
}

// Page is one code's error page (ngx_http_err_page_t).
type Page struct {
	// Status is the error the page answers.
	Status   int
	response config.ErrorPageResponse
	code     int
	// target is the target with variables; nil for a literal one, whose
	// text is lit (and args, split off at Check).
	target    *vars.Template
	lit, args string
}

// Compile compiles lc's error pages, adding an error at the page's
// position to errs for a target that does not compile. It returns nil
// when lc has none: then no error of the location gets a page, and
// nothing is intercepted.
func Compile(lc *config.LocConf, vc *vars.Compiler, errs *config.ErrorList) *Pages {
	if len(lc.ErrorPages) == 0 {
		return nil
	}
	p := &Pages{list: make([]Page, len(lc.ErrorPages)), Recursive: lc.RecursiveErrorPages, Intercept: lc.ProxyInterceptErrors}
	for i, ep := range lc.ErrorPages {
		pg := Page{Status: ep.Status, response: ep.Response, code: ep.Code, lit: ep.Target, args: ep.Args}
		if i > 0 && lc.ErrorPages[i-1].Target == ep.Target {
			pg.target = p.list[i-1].target // one directive's codes share their target
		} else if t, err := vc.Compile(ep.Target); err != nil {
			errs.Add(ep.Pos, "error_page: %v", err)
		} else if !t.IsConst() {
			pg.target = t
		}
		p.list[i] = pg
	}
	return p
}

// State is one request's error page state.
type State struct {
	// used is nginx's r->error_page: the request used error pages in a
	// location without recursive_error_pages, and uses none again.
	used bool
	// Status is the status the request's answer carries instead of the
	// one its handler sends (nginx's r->err_status after error_page); 0
	// means the handler's own.
	Status int
}

// Reset makes st ready for a new request.
func (st *State) Reset() { *st = State{} }

// Find returns the page that answers status for a request whose error
// happened in a location with pages p (ngx_http_special_response_handler).
// redirectsLeft is false for the 500 of a request that ran out of
// internal redirects (nginx's r->uri_changes at 0); then, as when p is
// nil or the request already used error pages, there is none. An error
// after the tenth redirect still gets its page, whose own redirect is
// then the one that fails.
func (st *State) Find(p *Pages, status int, redirectsLeft bool) (*Page, bool) {
	if p == nil || st.used || !redirectsLeft {
		return nil, false
	}
	if !p.Recursive {
		st.used = true
	}
	for i := range p.list {
		if p.list[i].Status == status {
			return &p.list[i], true
		}
	}
	return nil, false
}

// Answers reports whether Find would return a page for status, without
// using the request's error pages up.
func (st *State) Answers(p *Pages, status int) bool {
	return p != nil && !st.used && p.has(status)
}

func (p *Pages) has(status int) bool {
	for i := range p.list {
		if p.list[i].Status == status {
			return true
		}
	}
	return false
}

// Intercepts reports whether an upstream response with status is to be
// answered with the location's error page instead of relayed
// (ngx_http_upstream_intercept_errors): proxy_intercept_errors is on and
// the location has a page for it. It does not change st: the error is
// then answered as any other, through Find.
func (p *Pages) Intercepts(status int) bool {
	return p != nil && p.Intercept && p.has(status)
}

// Kind is what an error page does.
type Kind uint8

const (
	// Internal redirects the request to Action.URI with Action.Args.
	Internal Kind = iota + 1
	// Named continues the request in the named location Action.Name.
	Named
	// Redirect answers Action.Status with Location Action.Location.
	Redirect
)

// Action is what a request does for an error page
// (ngx_http_send_error_page). Its strings and Location alias the buffer
// Act returned.
type Action struct {
	Kind Kind
	// URI and Args are an Internal redirect's $uri and $args, as the
	// target gives them (not decoded, as ngx_http_internal_redirect).
	URI, Args string
	// GET is set for an Internal redirect of a request whose method is
	// not HEAD: the target serves it as a GET.
	GET bool
	// Name is the named location ("@fallback") of Named.
	Name string
	// Location is a Redirect's Location header value, as the target
	// gives it; Status is then 301, 302, 303, 307 or 308.
	Location []byte
	Status   int
}

// Act evaluates pg's target for the request (vc, whose method is
// method) and says what to do, appending values to buf; it sets
// st.Status to the status the answer carries. status is the error pg
// answers.
func (pg *Page) Act(st *State, status int, method string, vc *vars.Ctx, buf []byte) (Action, []byte) {
	st.Status = status
	switch pg.response {
	case config.ResponseTarget:
		st.Status = 0
	case config.ResponseCode:
		st.Status = pg.code
	}
	start := len(buf)
	if pg.target != nil {
		buf = pg.target.Append(buf, vc)
	} else {
		buf = append(buf, pg.lit...)
	}
	v := buf[start:]
	switch {
	case len(v) > 0 && v[0] == '/':
		a := Action{Kind: Internal, GET: method != "HEAD"}
		if pg.target == nil {
			a.URI, a.Args = bstr(v), pg.args
		} else if i := bytes.IndexByte(v, '?'); i >= 0 { // ngx_http_split_args
			a.URI, a.Args = bstr(v[:i]), bstr(v[i+1:])
		} else {
			a.URI = bstr(v)
		}
		return a, buf
	case len(v) > 0 && v[0] == '@':
		return Action{Kind: Named, Name: bstr(v)}, buf
	}
	switch st.Status {
	case 301, 302, 303, 307, 308:
	default:
		st.Status = 302
	}
	return Action{Kind: Redirect, Location: v, Status: st.Status}, buf
}

// bstr views b as a string without copying; b must not change while the
// string is in use.
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
