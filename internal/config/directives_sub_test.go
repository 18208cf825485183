package config

import (
	"fmt"
	"strings"
	"testing"
)

// TestSubFilterInheritance: sub_filter pairs are inherited all-or-nothing
// (a level with its own drops the parent's), sub_filter_types replaces
// the inherited list and always keeps text/html, "*" stands alone, and
// sub_filter_once and sub_filter_last_modified default to on and off.
func TestSubFilterInheritance(t *testing.T) {
	s := checkText(t, `
http {
	sub_filter a A;
	sub_filter b $host;
	server {
		sub_filter_once off;
		location /inherit { }
		location /own { sub_filter c C; sub_filter_types text/CSS application/json; }
		location /any { sub_filter_types text/css *; sub_filter_last_modified on; }
		location /once { sub_filter_once on; }
	}
}
events {}`)
	srv := s.HTTP.Servers[0]
	pairs := func(l *Location) string {
		var out []string
		for _, p := range l.Conf.Sub.Pairs {
			out = append(out, p.Match+"="+p.Value)
		}
		return strings.Join(out, " ")
	}
	tests := []struct {
		loc          int
		pairs, types string
		once, lm     bool
	}{
		{0, "a=A b=$host", "[]", false, false},
		{1, "c=C", "[text/html text/css application/json]", false, false},
		{2, "a=A b=$host", "[*]", false, true},
		{3, "a=A b=$host", "[]", true, false},
	}
	for _, tc := range tests {
		l := srv.Locations[tc.loc]
		c := l.Conf.Sub
		if got := pairs(l); got != tc.pairs {
			t.Errorf("location %s: pairs %q; want %q", l.Path, got, tc.pairs)
		}
		if got := fmt.Sprint(c.Types); got != tc.types {
			t.Errorf("location %s: types %s; want %s", l.Path, got, tc.types)
		}
		if c.Once != tc.once || c.LastModified != tc.lm {
			t.Errorf("location %s: once %v, last_modified %v; want %v, %v", l.Path, c.Once, c.LastModified, tc.once, tc.lm)
		}
	}
}

// TestSubFilterLimit: nginx takes at most 255 pairs at one level.
func TestSubFilterLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("server { location / {\n")
	for i := 0; i < 256; i++ {
		fmt.Fprintf(&b, "sub_filter p%d r;\n", i)
	}
	b.WriteString("} }")
	ast, errs := parse("test.conf", []byte(b.String()), ParseOptions{})
	if len(errs) > 0 {
		t.Fatalf("parsing: %v", errs)
	}
	_, errs = Check(ast)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "number of search patterns exceeds 255") {
		t.Fatalf("got errors %v; want one saying the limit", errs)
	}
}

// TestGzipAccumulates: gzip_proxied (a bitmask slot), gzip_types and
// sub_filter_types (types slots) and gzip_disable add up over the lines
// of one level, as nginx reads them, and a level's first line replaces
// what it inherits; gzip_comp_level, a number slot, may be given once.
func TestGzipAccumulates(t *testing.T) {
	s := checkText(t, `
http {
	gzip_proxied any;
	gzip_disable msie6;
	server {
		gzip_proxied expired no-cache;
		gzip_proxied auth;
		gzip_types text/css;
		gzip_types application/json;
		sub_filter_types text/css;
		sub_filter_types *;
		gzip_disable "^curl";
		gzip_disable "wget";
		location / { }
		location /own { gzip_proxied off; gzip_types *; }
	}
}
events {}`)
	l := s.HTTP.Servers[0].Locations[0].Conf
	if want := GzipProxiedExpired | GzipProxiedNoCache | GzipProxiedAuth; l.Gzip.Proxied != want {
		t.Errorf("gzip_proxied %b; want %b", l.Gzip.Proxied, want)
	}
	if got := fmt.Sprint(l.Gzip.Types); got != "[text/html text/css application/json]" {
		t.Errorf("gzip_types %s", got)
	}
	if got := fmt.Sprint(l.Sub.Types); got != "[*]" {
		t.Errorf("sub_filter_types %s", got)
	}
	if got := fmt.Sprint(l.Gzip.Disable); got != "[^curl wget]" || !l.Gzip.DisableMSIE6 {
		t.Errorf("gzip_disable %s msie6 %v; want [^curl wget] and msie6 inherited", got, l.Gzip.DisableMSIE6)
	}
	o := s.HTTP.Servers[0].Locations[1].Conf
	if o.Gzip.Proxied != GzipProxiedOff || fmt.Sprint(o.Gzip.Types) != "[*]" {
		t.Errorf("/own: gzip_proxied %b, gzip_types %v", o.Gzip.Proxied, o.Gzip.Types)
	}
	ast, errs := parse("test.conf", []byte("server { gzip_comp_level 1; gzip_comp_level 2; }"), ParseOptions{})
	if len(errs) == 0 {
		_, errs = Check(ast)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "is duplicate") {
		t.Errorf("got %v; want gzip_comp_level duplicate", errs)
	}
}
