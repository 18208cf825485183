package config

import (
	"fmt"
	"testing"
)

// TestHeadersInheritance: add_header and add_trailer are inherited
// all-or-nothing; headers-more commands accumulate, outer levels first,
// and siblings that add their own never see each other's (the parent's
// list is shared by all its children).
func TestHeadersInheritance(t *testing.T) {
	s := checkText(t, `
http {
	add_header X-Http 1 always;
	add_trailer X-T 1;
	more_set_headers "A: 1";
	more_set_headers "B: 1";
	more_set_headers "C: 1";
	server {
		location /one { more_set_headers "One: 1"; }
		location /two { more_set_headers "Two: 1"; add_header X-Two 2; }
		location /three { add_trailer X-T3 3; }
	}
}
events {}`)
	srv := s.HTTP.Servers[0]
	names := func(l *Location) string {
		var out []string
		for _, m := range l.Conf.Headers.More {
			for _, h := range m.Headers {
				out = append(out, h.Name)
			}
		}
		return fmt.Sprint(out)
	}
	tests := []struct {
		loc                 int
		more, add, trailers string
	}{
		{0, "[A B C One]", "[X-Http]", "[X-T]"},
		{1, "[A B C Two]", "[X-Two]", "[X-T]"},
		{2, "[A B C]", "[X-Http]", "[X-T3]"},
	}
	for _, tc := range tests {
		l := srv.Locations[tc.loc]
		var add, tr []string
		for _, a := range l.Conf.Headers.Add {
			add = append(add, a.Name)
		}
		for _, a := range l.Conf.Headers.Trailers {
			tr = append(tr, a.Name)
		}
		if got := names(l); got != tc.more {
			t.Errorf("location %s: headers-more %s; want %s", l.Path, got, tc.more)
		}
		if got := fmt.Sprint(add); got != tc.add {
			t.Errorf("location %s: add_header %s; want %s", l.Path, got, tc.add)
		}
		if got := fmt.Sprint(tr); got != tc.trailers {
			t.Errorf("location %s: add_trailer %s; want %s", l.Path, got, tc.trailers)
		}
	}
}
