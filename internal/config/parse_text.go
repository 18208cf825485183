package config

import "errors"

// errNoInclude is what an include inside ParseText's text reads.
var errNoInclude = errors.New("include is not allowed here")

// ParseText parses data, configuration text that is not a file (an
// ingress annotation's snippet), as statements of one context; name stands
// for the file in positions ("name:line:col"). Include directives are
// refused: the text has no directory to resolve them against. Which
// directives may appear where is Check's business once the statements are
// placed in a block.
func ParseText(name string, data []byte) (*AST, ErrorList) {
	refuse := func(string) ([]byte, error) { return nil, errNoInclude }
	glob := func(string) ([]string, error) { return nil, errNoInclude }
	return parse(name, data, ParseOptions{Prefix: "/", ReadFile: refuse, Glob: glob})
}
