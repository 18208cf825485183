package vars

import (
	"strings"
	"testing"

	"wsgate/internal/config"
)

func decls(names ...string) []config.VarDecl {
	out := make([]config.VarDecl, len(names))
	for i, n := range names {
		out[i] = config.VarDecl{Pos: config.Pos{File: "x.conf", Line: i + 1, Col: 5}, Name: n}
	}
	return out
}

// TestSetVariables checks what set assigns and how it reads back: a new
// variable, a map's variable (the set value wins), $args, and a variable
// read before any set (empty, with the warning hook told).
func TestSetVariables(t *testing.T) {
	maps := []*config.Map{{Source: "$host", Var: "m", Default: "from-map"}}
	vc, err := NewCompiler(maps, decls("upstream", "M", "args", "upstream")...)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := vc.Compile("$upstream|$m|$args|$is_args")
	if err != nil {
		t.Fatal(err)
	}
	var warned []string
	c := &Ctx{Host: "h", Uninitialized: func(name string) { warned = append(warned, name) }}
	if got, want := string(tmpl.Append(nil, c)), "|from-map||"; got != want {
		t.Errorf("before set got %q; want %q", got, want)
	}
	if want := []string{"upstream"}; strings.Join(warned, ",") != strings.Join(want, ",") {
		t.Errorf("warned for %q; want %q", warned, want)
	}
	for name, v := range map[string]string{"upstream": "app:80", "m": "set", "args": "a=1"} {
		s, ok := vc.Setter(name)
		if !ok {
			t.Fatalf("no setter for %q", name)
		}
		if s.Args() != (name == "args") {
			t.Errorf("Setter(%q).Args() = %t", name, s.Args())
		}
		s.Set(vc, c, v)
	}
	if got, want := string(tmpl.Append(nil, c)), "app:80|set|a=1|?"; got != want {
		t.Errorf("after set got %q; want %q", got, want)
	}
	if _, ok := vc.Setter("nosuch"); ok {
		t.Error("got a setter for an undeclared variable")
	}
}

// TestSetErrors checks the names set may not assign.
func TestSetErrors(t *testing.T) {
	tests := []struct{ name, want string }{
		{"uri", `x.conf:1:5: the duplicate "uri" variable`},
		{"Host", `x.conf:1:5: the duplicate "host" variable`},
		{"http_x", `x.conf:1:5: "set" cannot assign $http_x in wsgate`},
		{"arg_v", `x.conf:1:5: "set" cannot assign $arg_v in wsgate`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewCompiler(nil, decls(tt.name)...)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("got %v; want %q", err, tt.want)
			}
		})
	}
}

// TestSetReadByMap checks that a map's value may read a set variable
// declared anywhere.
func TestSetReadByMap(t *testing.T) {
	maps := []*config.Map{{Source: "$host", Var: "m", Default: "<$up>"}}
	vc, err := NewCompiler(maps, decls("up")...)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := vc.Compile("$m")
	if err != nil {
		t.Fatal(err)
	}
	c := &Ctx{}
	s, _ := vc.Setter("up")
	s.Set(vc, c, "x")
	if got := string(tmpl.Append(nil, c)); got != "<x>" {
		t.Errorf("got %q; want %q", got, "<x>")
	}
}
