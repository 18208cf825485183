package bodyfilter

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"

	"wsgate/internal/config"
)

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

// TestGunzip: a gzip-encoded body is decompressed for a client that does
// not take gzip, in whatever pieces it arrives, before sub_filter sees
// it; a client that takes gzip gets it as it is; the head loses
// Content-Encoding, Content-Length's and Accept-Ranges, and gets Vary
// under gzip_vary either way.
func TestGunzip(t *testing.T) {
	text := strings.Repeat("<p>hello, world</p>\n", 3000)
	z := gzipped(t, text)
	f, err := Compile(&config.LocConf{
		Gzip: config.GzipConf{Gunzip: true, Vary: true, HTTPVersion: 11, Proxied: config.GzipProxiedOff},
		Sub:  config.SubConf{Pairs: pairs("world=WORLD")},
	}, compileTest, Options{})
	if err != nil {
		t.Fatal(err)
	}
	head := "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: keep-alive\r\nContent-Encoding: gzip\r\nAccept-Ranges: bytes\r\nETag: \"z\"\r\n\r\n"
	for _, step := range []int{1, 7, 1000, len(z)} {
		var b Bound
		b.Bind(f, reqCtx("GET", "HTTP/1.1"))
		h, st := b.Start([]byte(head), 0, 200, int64(len(z)))
		if st == nil {
			t.Fatal("not decompressed")
		}
		if want := "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: keep-alive\r\nVary: Accept-Encoding\r\n\r\n"; string(h) != want {
			t.Fatalf("got head %q; want %q", h, want)
		}
		var out chunks
		for i := 0; i < len(z); i += step {
			if err := st.Write(&out, z[i:min(i+step, len(z))]); err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
		}
		if err := st.End(&out); err != nil {
			t.Fatalf("step %d: end: %v", step, err)
		}
		if got, want := out.String(), strings.ReplaceAll(text, "world", "WORLD"); got != want {
			t.Fatalf("step %d: got %d bytes, not the decompressed and filtered text", step, len(got))
		}
	}

	// Without sub_filter, which (as nginx's) would take the encoded
	// bytes as they are.
	f, _ = Compile(&config.LocConf{Gzip: config.GzipConf{Gunzip: true, Vary: true, HTTPVersion: 11, Proxied: config.GzipProxiedOff}}, compileTest, Options{})
	var b Bound
	b.Bind(f, reqCtx("GET", "HTTP/1.1", "Accept-Encoding: gzip"))
	h, st := b.Start([]byte(head), 0, 200, int64(len(z)))
	if st != nil {
		t.Fatal("decompressed for a client that takes gzip")
	}
	if !strings.Contains(string(h), "Content-Encoding: gzip\r\n") || !strings.Contains(string(h), "Vary: Accept-Encoding\r\n") {
		t.Errorf("got head %q; want it encoded, with Vary", h)
	}
}

// TestGunzipBroken: a corrupt or cut stream is an error (the response is
// cut), and a stage ended early lets its goroutine go.
func TestGunzipBroken(t *testing.T) {
	f, _ := Compile(&config.LocConf{Gzip: config.GzipConf{Gunzip: true, HTTPVersion: 11, Proxied: config.GzipProxiedOff}}, compileTest, Options{})
	head := "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n"
	z := gzipped(t, strings.Repeat("abc", 10000))
	tests := []struct {
		desc string
		body []byte
	}{
		{"cut", z[:len(z)/2]},
		{"corrupt", append(append([]byte{}, z[:20]...), bytes.Repeat([]byte{0xff}, 100)...)},
		{"not gzip", []byte("plain text")},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			var b Bound
			b.Bind(f, reqCtx("GET", "HTTP/1.1"))
			_, st := b.Start([]byte(head), 0, 200, -1)
			var out chunks
			werr := st.Write(&out, tt.body)
			eerr := st.End(&out)
			if werr == nil && eerr == nil {
				t.Fatalf("no error for a %s stream", tt.desc)
			}
		})
	}
}
