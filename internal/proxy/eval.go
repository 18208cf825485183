package proxy

// Template is a compiled configuration value that may hold variables
// (proxy_set_header values, proxy_redirect replacements): a *vars.Template.
type Template interface {
	// Append appends the value for the request described by c.
	Append(dst []byte, c *EvalCtx) []byte
	// IsConst reports whether the value holds no variables.
	IsConst() bool
}

// CompileFunc compiles a raw configuration value into a Template
// ((*vars.Compiler).Compile, adapted).
type CompileFunc func(raw string) (Template, error)

// EvalCtx is the per-request state templates read (vars.Ctx).
type EvalCtx struct{}
