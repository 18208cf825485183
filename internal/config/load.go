package config

// Load reads the configuration at path with its includes (ParseFile) and
// checks it (Check). Syntax errors come first, then semantic ones; Check
// runs even after syntax errors so that one -t shows as much as possible.
// The Spec is nil only when nothing could be read; with a non-empty
// ErrorList it is partial and must not be served. Spec.Files lists every
// file read, the main file first.
func Load(path string, opts ParseOptions) (*Spec, ErrorList) {
	ast, errs := ParseFile(path, opts)
	if ast == nil {
		return nil, errs
	}
	s, cerrs := Check(ast)
	return s, append(errs, cerrs...)
}
