package snapshot

import (
	"bytes"
	"testing"

	"wsgate/internal/config"
)

// FuzzParsePassURL: an evaluated proxy_pass may carry client bytes
// ($http_*, $request_uri); splitting it must never panic, and what it
// returns must be consistent.
func FuzzParsePassURL(f *testing.F) {
	for _, s := range []string{
		"http://b:8080/x?y", "https://[::1]:443/", "http://b?a", "http://[::1", "http://:80/", "HTTP://B",
		"http://b:65536/", "http://b:/", "https://a/b:c",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		u, err := ParsePassURL(in)
		if err != nil {
			return
		}
		if len(u.Host) == 0 {
			t.Fatalf("empty host accepted for %q", in)
		}
		if u.Port < 1 || u.Port > 65535 {
			t.Fatalf("port %d for %q", u.Port, in)
		}
		if len(u.URI) > 0 && u.URI[0] != '/' {
			t.Fatalf("URI %q does not start with / for %q", u.URI, in)
		}
		if !bytes.Contains(in, u.ProxyHost()) {
			t.Fatalf("proxy_host %q not in %q", u.ProxyHost(), in)
		}
	})
}

// FuzzTargetRule: with a URI part and a quoted path, whatever $uri holds,
// the target after the URI part is escaped: no space, CR or LF reaches the
// request line.
func FuzzTargetRule(f *testing.F) {
	f.Add("/api/", "/v1/", []byte("/api/a b"), []byte("q=1"), true)
	f.Add("/nos", "/x", []byte("/n"), []byte(""), false)
	f.Fuzz(func(t *testing.T, loc, uriPart string, uri, args []byte, quoted bool) {
		pp := &config.ProxyPass{Scheme: "http", Host: "b", URI: uriPart, HasURI: uriPart != ""}
		r := NewTargetRule(pp, loc, false)
		ct := &ClientTarget{RequestURI: append([]byte("/"), args...), URI: uri, Args: args, Quoted: quoted}
		got, err := r.Append(nil, ct, nil)
		if err != nil {
			return
		}
		if quoted && uriPart != "" && len(args) == 0 && bytes.ContainsAny(got[len(uriPart):], " \r\n") {
			t.Fatalf("escaped target %q holds a space or line break", got)
		}
	})
}
