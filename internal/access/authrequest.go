package access

import (
	"wsgate/internal/config"
	"wsgate/internal/vars"
)

// AuthRequest is a location's auth_request and auth_request_set
// (ngx_http_auth_request_module): the access phase makes a subrequest to
// URI with the request's headers and no body, and the subrequest's status
// decides (Decide). The pipeline runs the subrequest; Set says what to
// assign from its variables once it is done.
type AuthRequest struct {
	// URI is the subrequest's URI, as written (nginx takes it as it is:
	// no variables, no arguments of its own).
	URI string
	// Set are the auth_request_set lines in order.
	Set []AuthSet
}

// AuthSet is one auth_request_set line: Value, evaluated with the
// subrequest's variables, is assigned to the main request's variable.
type AuthSet struct {
	Var   vars.Setter
	Value *vars.Template
}

// CompileAuthRequest compiles lc's auth_request; nil when it is off or
// not set (ngx_http_auth_request_handler declines then, and
// auth_request_set does nothing).
func CompileAuthRequest(lc *config.LocConf, vc *vars.Compiler, errs *config.ErrorList) *AuthRequest {
	if lc.AuthRequest == "" {
		return nil
	}
	a := &AuthRequest{URI: lc.AuthRequest}
	for _, s := range lc.AuthRequestSet {
		setter, ok := vc.Setter(s.Var)
		if !ok {
			errs.Add(s.Pos, "auth_request_set: the %q variable cannot be assigned", s.Var)
			continue
		}
		t, err := vc.Compile(s.Value)
		if err != nil {
			errs.Add(s.Pos, "auth_request_set: %v", err)
			continue
		}
		a.Set = append(a.Set, AuthSet{Var: setter, Value: t})
	}
	return a
}

// Decide maps the status the subrequest answered with to the access
// phase's answer, as ngx_http_auth_request_handler does: any 2xx lets
// the request through (0); 401 and 403 refuse it with that status (a 401
// carries the subrequest's WWW-Authenticate lines, which the pipeline
// copies); anything else is a 500, which nginx logs as "auth request
// unexpected status".
func Decide(status int) int {
	switch {
	case status >= 200 && status < 300:
		return 0
	case status == 401, status == 403:
		return status
	}
	return 500
}
