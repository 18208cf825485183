package snapshot

import (
	"errors"
	"testing"

	"wsgate/internal/config"
)

func TestTargetRule(t *testing.T) {
	static := func(raw, host, port, uri string) *config.ProxyPass {
		return &config.ProxyPass{Raw: raw, Scheme: "http", Host: host, Port: port, URI: uri, HasURI: uri != ""}
	}
	vars := &config.ProxyPass{Raw: "http://$h$request_uri", Scheme: "http", HasVars: true}
	tests := []struct {
		name      string
		pp        *config.ProxyPass
		loc       string
		regex     bool
		ct        ClientTarget
		evaluated string
		want      string
		wantErr   error
	}{
		{
			// §1.2 [run]: no URI part → raw target byte for byte.
			name: "no uri part sends raw target",
			pp:   static("http://localhost:8080", "localhost", "8080", ""),
			loc:  "/ws/",
			ct: ClientTarget{RequestURI: []byte("/ws/a/../b%2Fc//d?q=%20"), URI: []byte("/ws/b/c/d"),
				Args: []byte("q=%20"), Quoted: true},
			want: "/ws/a/../b%2Fc//d?q=%20",
		},
		{
			// §9.1: the seed's handshake target.
			name: "seed ws target",
			pp:   static("http://localhost:8080", "localhost", "8080", ""),
			loc:  "/ws/",
			ct:   ClientTarget{RequestURI: []byte("/ws/chat?room=1"), URI: []byte("/ws/chat"), Args: []byte("room=1")},
			want: "/ws/chat?room=1",
		},
		{
			// §1.2 [run]: /api/a/../b%2Fc//d?q=%20&r=1 → /v1/b/c/d?q=%20&r=1.
			name: "static uri part, quoted, normalized",
			pp:   static("http://b/v1/", "b", "", "/v1/"),
			loc:  "/api/",
			ct: ClientTarget{RequestURI: []byte("/api/a/../b%2Fc//d?q=%20&r=1"), URI: []byte("/api/b/c/d"),
				Args: []byte("q=%20&r=1"), Quoted: true},
			want: "/v1/b/c/d?q=%20&r=1",
		},
		{
			name: "static uri part, escape of space",
			pp:   static("http://b/v1/", "b", "", "/v1/"),
			loc:  "/api/",
			ct:   ClientTarget{RequestURI: []byte("/api/x%20y+z"), URI: []byte("/api/x y+z"), Quoted: true},
			want: "/v1/x%20y+z",
		},
		{
			name: "static uri part, decoded letters stay decoded",
			pp:   static("http://b/v1/", "b", "", "/v1/"),
			loc:  "/api/",
			ct:   ClientTarget{RequestURI: []byte("/api/%41%42"), URI: []byte("/api/AB"), Quoted: true},
			want: "/v1/AB",
		},
		{
			// Not quoted: bytes pass unescaped (nginx escapes only when r->quoted_uri).
			name: "static uri part, unquoted is not escaped",
			pp:   static("http://b/v1/", "b", "", "/v1/"),
			loc:  "/api/",
			ct:   ClientTarget{RequestURI: []byte("/api/a\"b"), URI: []byte("/api/a\"b")},
			want: "/v1/a\"b",
		},
		{
			// §1.2 [run]: plain length cut: /nosfoo/bar?a=1 → /xfoo/bar?a=1.
			name: "length cut is not a path cut",
			pp:   static("http://B/x", "B", "", "/x"),
			loc:  "/nos",
			ct:   ClientTarget{RequestURI: []byte("/nosfoo/bar?a=1"), URI: []byte("/nosfoo/bar"), Args: []byte("a=1")},
			want: "/xfoo/bar?a=1",
		},
		{
			name: "uri part slash only",
			pp:   static("http://b/", "b", "", "/"),
			loc:  "/app/",
			ct:   ClientTarget{RequestURI: []byte("/app/x"), URI: []byte("/app/x")},
			want: "/x",
		},
		{
			// Empty path (GET http://h?x): valid_unparsed_uri is cleared,
			// nginx sends $uri?$args.
			name: "empty path without uri part",
			pp:   static("http://b", "b", "", ""),
			loc:  "/",
			ct:   ClientTarget{RequestURI: []byte("?x"), URI: []byte("/"), Args: []byte("x"), EmptyPath: true},
			want: "/?x",
		},
		{
			// §1.2 [run]: variables with a URI part: exactly that, no args.
			name:      "variables with uri",
			pp:        vars,
			regex:     true,
			ct:        ClientTarget{RequestURI: []byte("/re/a%20b/../c?q=1"), URI: []byte("/re/c"), Args: []byte("q=1"), Quoted: true},
			evaluated: "/re2/c",
			want:      "/re2/c",
		},
		{
			name:      "variables without uri send raw target",
			pp:        vars,
			loc:       "/ws/",
			ct:        ClientTarget{RequestURI: []byte("/ws/x?y"), URI: []byte("/ws/x"), Args: []byte("y")},
			evaluated: "",
			want:      "/ws/x?y",
		},
		{
			// After a rewrite (r->internal, no valid_unparsed_uri): $uri
			// escaped whether or not the client's was, then $args.
			name: "rewritten without uri part",
			pp:   static("http://b", "b", "", ""),
			loc:  "/",
			ct:   ClientTarget{RequestURI: []byte("/a?q"), URI: []byte("/new/a b"), Args: []byte("y=1&q"), Quoted: true, EmptyPath: true},
			want: "/new/a%20b?y=1&q",
		},
		{
			// rewrite ... break (valid_location = 0): the URI part is not
			// sent and nothing is cut (rw_break_strip_prefix).
			name: "break ignores the uri part",
			pp:   static("http://b/ignored/", "b", "", "/ignored/"),
			loc:  "/hassio/ingress/",
			ct:   ClientTarget{RequestURI: []byte("/hassio/ingress/p"), URI: []byte("/p"), Quoted: true, EmptyPath: true, NoLocationCut: true},
			want: "/p",
		},
		{
			// set $args: no raw target, no escaping unless the client's
			// path was quoted.
			name: "args changed",
			pp:   static("http://b", "b", "", ""),
			loc:  "/",
			ct:   ClientTarget{RequestURI: []byte("/a\"b?z"), URI: []byte("/a\"b"), Args: []byte("x=1"), EmptyPath: true},
			want: "/a\"b?x=1",
		},
		{
			name: "zero length",
			pp:   static("http://b", "b", "", ""),
			ct:   ClientTarget{},
			want: "", wantErr: ErrZeroLengthURI,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewTargetRule(tc.pp, tc.loc, tc.regex)
			var ev []byte
			if tc.evaluated != "" {
				ev = []byte(tc.evaluated)
			}
			got, err := r.Append([]byte("GET "), &tc.ct, ev)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v; want %v", err, tc.wantErr)
			}
			if string(got[4:]) != tc.want {
				t.Errorf("got %q; want %q", got[4:], tc.want)
			}
		})
	}
}

func TestAppendEscapedURI(t *testing.T) {
	in := []byte{}
	for c := 0; c < 256; c++ {
		in = append(in, byte(c))
	}
	got := string(AppendEscapedURI(nil, in))
	// Unescaped: 0x21-0x7E except " # % < > ? \ ^ ` { | }.
	want := ""
	for c := 0; c < 256; c++ {
		keep := c > 0x20 && c < 0x7f
		switch c {
		case '"', '#', '%', '<', '>', '?', '\\', '^', '`', '{', '|', '}':
			keep = false
		}
		if keep {
			want += string(rune(c))
		} else {
			want += "%" + string("0123456789ABCDEF"[c>>4]) + string("0123456789ABCDEF"[c&15])
		}
	}
	if got != want {
		t.Errorf("got %q; want %q", got, want)
	}
}

func TestProxyHostPort(t *testing.T) {
	tests := []struct {
		scheme, host, port string
		wantHost, wantPort string
	}{
		{"http", "localhost", "3000", "localhost:3000", "3000"},
		{"http", "127.0.0.1", "80", "127.0.0.1", "80"},
		{"http", "backend", "", "backend", "80"},
		{"https", "secure", "", "secure", "443"},
		{"https", "secure", "443", "secure", "443"},
		{"https", "secure", "80", "secure:80", "80"},
		{"http", "Mixed.Case", "8080", "Mixed.Case:8080", "8080"},
		{"http", "[::1]", "8080", "[::1]:8080", "8080"},
	}
	for _, tc := range tests {
		t.Run(tc.scheme+"://"+tc.host+":"+tc.port, func(t *testing.T) {
			pp := &config.ProxyPass{Scheme: tc.scheme, Host: tc.host, Port: tc.port}
			if got := ProxyHost(pp); got != tc.wantHost {
				t.Errorf("ProxyHost got %q; want %q", got, tc.wantHost)
			}
			if got := ProxyPort(pp); got != tc.wantPort {
				t.Errorf("ProxyPort got %q; want %q", got, tc.wantPort)
			}
		})
	}
}

func TestParsePassURL(t *testing.T) {
	tests := []struct {
		in                         string
		host, proxyHost, port, uri string
		dial                       int
		tls                        bool
		err                        bool
	}{
		{in: "http://b:8080/x?y", host: "b", proxyHost: "b:8080", port: "8080", uri: "/x?y", dial: 8080},
		{in: "http://b", host: "b", proxyHost: "b", port: "80", uri: "", dial: 80},
		{in: "HTTPS://b:443/", host: "b", proxyHost: "b", port: "443", uri: "/", dial: 443, tls: true},
		{in: "http://b?a=1", host: "b", proxyHost: "b", port: "80", uri: "/?a=1", dial: 80},
		{in: "http://[::1]:9000/p", host: "::1", proxyHost: "[::1]:9000", port: "9000", uri: "/p", dial: 9000},
		{in: "http://[::1]/p", host: "::1", proxyHost: "[::1]", port: "80", uri: "/p", dial: 80},
		{in: "http://b/p:1", host: "b", proxyHost: "b", port: "80", uri: "/p:1", dial: 80},
		{in: "ftp://b", err: true},
		{in: "http://", err: true},
		{in: "http://b:0/", err: true},
		{in: "http://b:x/", err: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			u, err := ParsePassURL([]byte(tc.in))
			if (err != nil) != tc.err {
				t.Fatalf("err = %v; want error %v", err, tc.err)
			}
			if tc.err {
				return
			}
			if string(u.Host) != tc.host || string(u.ProxyHost()) != tc.proxyHost ||
				string(u.AppendProxyPort(nil)) != tc.port || string(u.URI) != tc.uri ||
				u.Port != tc.dial || u.TLS != tc.tls {
				t.Errorf("got host %q proxy_host %q proxy_port %q uri %q port %d tls %v; want %q %q %q %q %d %v",
					u.Host, u.ProxyHost(), u.AppendProxyPort(nil), u.URI, u.Port, u.TLS,
					tc.host, tc.proxyHost, tc.port, tc.uri, tc.dial, tc.tls)
			}
		})
	}
}

func TestPathQuoted(t *testing.T) {
	tests := map[string]bool{
		"/a%20b":  true,
		"/a?b%20": false,
		"/plain":  false,
		"/a+b":    false,
	}
	for in, want := range tests {
		if got := PathQuoted([]byte(in)); got != want {
			t.Errorf("PathQuoted(%q) got %v; want %v", in, got, want)
		}
	}
}
