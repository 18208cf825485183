package snapshot

import "wsgate/internal/vars"

// EvalCtx is the per-request state templates read.
type EvalCtx = vars.Ctx

// Template is a compiled configuration value that may hold variables
// (proxy_set_header values, proxy_redirect replacements); *vars.Template
// implements it.
type Template interface {
	// Append appends the value for the request described by c.
	Append(dst []byte, c *EvalCtx) []byte
	// IsConst reports whether the value holds no variables.
	IsConst() bool
}

// CompileFunc compiles a raw configuration value into a Template.
type CompileFunc func(raw string) (Template, error)

// CompileWith adapts a vars.Compiler (built once per configuration, with
// its map blocks) into a CompileFunc.
func CompileWith(c *vars.Compiler) CompileFunc {
	return func(raw string) (Template, error) {
		t, err := c.Compile(raw)
		if err != nil {
			return nil, err
		}
		return t, nil
	}
}

var _ Template = (*vars.Template)(nil)
