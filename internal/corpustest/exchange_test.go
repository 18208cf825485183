package corpustest

import (
	"strings"
	"testing"
	"time"
)

func TestHostFor(t *testing.T) {
	tests := []struct {
		desc  string
		names []string
		want  string
	}{
		{"none", nil, "localhost"},
		{"catch-all", []string{"_"}, "localhost"},
		{"first exact", []string{"a.example", "b.example"}, "a.example"},
		{"regex skipped", []string{"~^(?<sub>.+)\\.example$", "c.example"}, "c.example"},
		{"leading dot", []string{".example.org"}, "example.org"},
		{"leading star", []string{"*.example.net"}, "www.example.net"},
		{"trailing star", []string{"mail.*"}, "mail.com"},
		{"variable skipped", []string{"$hostname"}, "localhost"},
		{"empty name", []string{""}, "localhost"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if got := hostFor(tt.names); got != tt.want {
				t.Errorf("hostFor(%q) = %q; want %q", tt.names, got, tt.want)
			}
		})
	}
}

func TestRequests(t *testing.T) {
	plan := []Server{
		{Listen: []Listen{{Addr: "127.0.0.1:1", SSL: true}, {Addr: "127.0.0.1:2"}}, Names: []string{"a.example"},
			WS: []string{"/ws/"}, Static: []string{"/static/corpus-static.txt"}},
		{Listen: []Listen{{Addr: "[::1]:3", SSL: true}}},
		{Names: []string{"no.listen"}},
	}
	var got []string
	for _, r := range Requests(plan) {
		got = append(got, r.Name+" "+r.Addr+" "+map[bool]string{true: "tls", false: "plain"}[r.TLS])
	}
	want := []string{
		"GET / (server 1, Host a.example) 127.0.0.1:2 plain",
		"GET /static/corpus-static.txt (server 1, Host a.example) 127.0.0.1:2 plain",
		"WebSocket /ws/ (server 1, Host a.example) 127.0.0.1:2 plain",
		"GET / (server 2, Host localhost) [::1]:3 tls",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestRelativeDate(t *testing.T) {
	now := time.Date(2026, 12, 7, 4, 51, 1, 400e6, time.UTC)
	tests := []struct{ desc, in, want string }{
		{"30 days ahead", "Wed, 06 Jan 2027 04:51:01 GMT", "{{now+43200m}}"},
		{"a second later", "Wed, 06 Jan 2027 04:51:02 GMT", "{{now+43200m}}"},
		{"an hour ago", "Mon, 07 Dec 2026 03:51:01 GMT", "{{now-60m}}"},
		{"epoch", "Thu, 01 Jan 1970 00:00:01 GMT", "Thu, 01 Jan 1970 00:00:01 GMT"},
		{"max", "Thu, 31 Dec 2037 23:55:55 GMT", "Thu, 31 Dec 2037 23:55:55 GMT"},
		{"not a date", "0", "0"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if got := relativeDate(tt.in, now); got != tt.want {
				t.Errorf("relativeDate(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}
