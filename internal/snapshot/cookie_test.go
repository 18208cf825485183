package snapshot

import (
	"testing"

	"wsgate/internal/config"
)

// TestCookieRewrite pins ngx_http_proxy_rewrite_cookie's results, as
// nginx 1.22 gave them (testdata/diff/resp_cookie_rewrite.txt runs the
// same through both).
func TestCookieRewrite(t *testing.T) {
	env := map[string]string{"host": "front.example"}
	pc := config.ProxyCookies{
		Domains: []config.CookieRewrite{
			{From: "backend.example.com", To: "$host"},
			{From: `^(.+)\.regex\.org$`, Regex: true, NoCase: true, To: "$1.new.org"},
		},
		Paths: []config.CookieRewrite{
			{From: "/one/", To: "/two/"},
			{From: "^/CASE(.*)$", Regex: true, NoCase: true, To: "/lower$1"},
		},
		Flags: []config.CookieFlags{
			{Cookie: "a", Flags: []string{"secure", "httponly", "samesite=strict"}},
			{Cookie: "^x", Regex: true, Flags: []string{"nosecure", "nohttponly", "nosamesite"}},
			{Cookie: "same", Flags: []string{"samesite=lax", "bogus"}},
			{Cookie: "bogus", Flags: []string{"bogus"}},
		},
	}
	p, err := newCookiePlan(&pc, compileWith(env))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ in, want string }{
		{"c=1; Domain=Backend.Example.COM; Path=/x", "c=1; Domain=front.example; Path=/x"},
		{"c=2; domain=.backend.example.com;path=/", "c=2; domain=.front.example; path=/"},
		{"c=3; Path=/", "c=3; Path=/"},
		{"c=4;  Domain = other.com ;Secure", "c=4;  Domain = other.com ;Secure"},
		{"c=5; Domain=x.regex.org", "c=5; Domain=x.new.org"},
		{"noeq; Domain=backend.example.com", "noeq; Domain=backend.example.com"},
		{"k=; Domain=backend.example.com", "k=; Domain=front.example"},
		{"n = 2 ; Domain= backend.example.com ;  Max-Age=5 ", "n=2; Domain=front.example; Max-Age=5"},
		{"f=6; Path=/one/x; HttpOnly", "f=6; Path=/two/x; HttpOnly"},
		{"g=7;path=/CASE/a", "g=7; path=/lower/a"},
		{"j=1; Path=/ONE/x", "j=1; Path=/ONE/x"},
		{"a=1;path=/", "a=1; path=/; Secure; HttpOnly; SameSite=Strict"},
		{"A=1; Secure; SameSite=None", "A=1; Secure; SameSite=Strict; HttpOnly"},
		{"a=3;secure;httponly;samesite=strict", "a=3; secure; httponly; samesite=strict"},
		{"a=4;SameSite", "a=4; SameSite=Strict; Secure; HttpOnly"},
		{"Xy=2; Secure; HttpOnly; SameSite=Lax; Path=/", "Xy=2; Path=/"},
		{"same=1;Path=/", "same=1; Path=/; SameSite=Lax"},
		{"bogus=1;Path=/", "bogus=1;Path=/"},
		{"a", "a"},
	}
	for _, tt := range tests {
		if got := string(p.appendCookie(nil, []byte(tt.in), &EvalCtx{})); got != tt.want {
			t.Errorf("%q: got %q; want %q", tt.in, got, tt.want)
		}
	}
}
