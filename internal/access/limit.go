package access

import (
	"wsgate/internal/config"
	"wsgate/internal/vars"
)

// Limit is a compiled limit_except block (ngx_http_core_module): a
// request whose method the block does not name is checked with the
// block's allow/deny, auth_basic and satisfy instead of its location's.
type Limit struct {
	methods []string
	// Rules and Basic are the block's allow/deny list and auth_basic,
	// nil where it has none; SatisfyAny is its satisfy (the location's,
	// which the block inherits).
	Rules      *Rules
	Basic      *Basic
	SatisfyAny bool
}

// CompileLimit compiles le; nil for none. dir and errs are as for
// CompileBasic.
func CompileLimit(le *config.LimitExcept, vc *vars.Compiler, dir string, errs *config.ErrorList) *Limit {
	if le == nil {
		return nil
	}
	l := &Limit{methods: le.Methods, SatisfyAny: le.Conf.SatisfyAny}
	rs, err := CompileRules(le.Conf.Access)
	if err != nil {
		errs.Add(le.Pos, "limit_except: %v", err)
	}
	l.Rules = rs
	l.Basic = CompileBasic(le.Conf, vc, dir, errs)
	return l
}

// Applies reports whether a request with method is checked with the
// block: every method but those it names, including methods nginx does
// not know (NGX_HTTP_UNKNOWN) and any the client spelled in lower case.
func (l *Limit) Applies(method []byte) bool {
	for _, m := range l.methods {
		if string(method) == m {
			return false
		}
	}
	return true
}
