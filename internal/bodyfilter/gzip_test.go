package bodyfilter

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"

	"wsgate/internal/config"
	"wsgate/internal/vars"
)

// TestGzipAcceptEncoding: Accept-Encoding values as
// ngx_http_gzip_accept_encoding and ngx_http_gzip_quantity read them.
func TestGzipAcceptEncoding(t *testing.T) {
	tests := []struct {
		ae   string
		want bool
	}{
		{"gzip", true},
		{"GZIP", true},
		{"deflate, gzip", true},
		{"deflate,gzip", true},
		{"gzip;q=0", false},
		{"gzip; q=0.000", false},
		{"gzip;q=0.001", true},
		{"gzip; q=0.5, deflate", true},
		{"gzip;q=1", true},
		{"gzip;q=1.000", true},
		{"gzip;q=1.001", false},
		{"gzip;q=0.0001", false},
		{"gzip;q=", false},
		{"x-gzip", false},
		{"gzipx", false},
		{"gzip x", false},
		{"br", false},
	}
	for _, tt := range tests {
		if got := acceptsGzip(tt.ae); got != tt.want {
			t.Errorf("%q: got %v; want %v", tt.ae, got, tt.want)
		}
	}
}

func gzipFilterFor(t *testing.T, gc config.GzipConf) *Filter {
	t.Helper()
	gc.On = true
	if gc.CompLevel == 0 {
		gc.CompLevel = 1
	}
	if gc.HTTPVersion == 0 {
		gc.HTTPVersion = 11
	}
	if gc.Proxied == 0 {
		gc.Proxied = config.GzipProxiedOff
	}
	f, err := Compile(&config.LocConf{Gzip: gc}, compileTest, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func reqCtx(method, proto string, hdrs ...string) *vars.Ctx {
	vc := &vars.Ctx{Method: method, Proto: proto}
	for _, h := range hdrs {
		n, v, _ := strings.Cut(h, ": ")
		vc.Headers = append(vc.Headers, vars.Header{Name: n, Value: v})
	}
	return vc
}

// TestGzipHead: which responses are compressed and what their heads
// become, as ngx_http_gzip_header_filter and ngx_http_gzip_ok decide.
func TestGzipHead(t *testing.T) {
	const plain = "HTTP/1.1 200 OK\r\nServer: s\r\nContent-Type: text/html\r\nContent-Length: 100\r\nConnection: keep-alive\r\nETag: \"e\"\r\nAccept-Ranges: bytes\r\n\r\n"
	const gzipped = "HTTP/1.1 200 OK\r\nServer: s\r\nContent-Type: text/html\r\nContent-Length: 100\r\nConnection: keep-alive\r\nVary: Accept-Encoding\r\nETag: W/\"e\"\r\nContent-Encoding: gzip\r\n\r\n"
	const varied = "HTTP/1.1 200 OK\r\nServer: s\r\nContent-Type: text/html\r\nContent-Length: 100\r\nConnection: keep-alive\r\nVary: Accept-Encoding\r\nETag: \"e\"\r\nAccept-Ranges: bytes\r\n\r\n"
	ae := "Accept-Encoding: gzip"
	tests := []struct {
		desc   string
		conf   config.GzipConf
		vc     *vars.Ctx
		head   string
		status int
		length int64
		took   bool
		want   string // "" : unchanged
	}{
		{desc: "compressed", vc: reqCtx("GET", "HTTP/1.1", ae), head: plain, status: 200, length: 100, took: true, want: gzipped},
		{desc: "HEAD too", vc: reqCtx("HEAD", "HTTP/1.1", ae), head: plain, status: 200, length: 100, took: true, want: gzipped},
		{desc: "no Accept-Encoding: Vary only", vc: reqCtx("GET", "HTTP/1.1"), head: plain, status: 200, length: 100, want: varied},
		{desc: "HTTP/1.0", vc: reqCtx("GET", "HTTP/1.0", ae), head: plain, status: 200, length: 100, want: varied},
		{desc: "gzip_http_version 1.0", conf: config.GzipConf{HTTPVersion: 10}, vc: reqCtx("GET", "HTTP/1.0", ae), head: plain, status: 200, length: 100, took: true, want: gzipped},
		{desc: "status 500", vc: reqCtx("GET", "HTTP/1.1", ae), head: plain, status: 500, length: 100},
		{desc: "status 404", vc: reqCtx("GET", "HTTP/1.1", ae), head: plain, status: 404, length: 100, took: true},
		{desc: "short", conf: config.GzipConf{MinLength: 101}, vc: reqCtx("GET", "HTTP/1.1", ae), head: plain, status: 200, length: 100},
		{desc: "unknown length", conf: config.GzipConf{MinLength: 101}, vc: reqCtx("GET", "HTTP/1.1", ae), head: plain, status: 200, length: -1, took: true},
		{desc: "type", conf: config.GzipConf{Types: []string{"text/html", "text/css"}}, vc: reqCtx("GET", "HTTP/1.1", ae),
			head: strings.Replace(plain, "text/html", "text/css; charset=utf-8", 1), status: 200, length: 100, took: true},
		{desc: "other type", vc: reqCtx("GET", "HTTP/1.1", ae), head: strings.Replace(plain, "text/html", "image/png", 1), status: 200, length: 100},
		{desc: "already encoded", vc: reqCtx("GET", "HTTP/1.1", ae), head: strings.Replace(plain, "ETag", "Content-Encoding: br\r\nETag", 1), status: 200, length: 100},
		{desc: "msie6", conf: config.GzipConf{DisableMSIE6: true}, vc: reqCtx("GET", "HTTP/1.1", ae, "User-Agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)"), head: plain, status: 200, length: 100, want: varied},
		{desc: "gzip_disable", conf: config.GzipConf{Disable: []string{"curl"}}, vc: reqCtx("GET", "HTTP/1.1", ae, "User-Agent: CURL/8"), head: plain, status: 200, length: 100, want: varied},
		{desc: "via, proxied off", vc: reqCtx("GET", "HTTP/1.1", ae, "Via: 1.1 p"), head: plain, status: 200, length: 100, want: varied},
		{desc: "via, any", conf: config.GzipConf{Proxied: config.GzipProxiedAny}, vc: reqCtx("GET", "HTTP/1.1", ae, "Via: 1.1 p"), head: plain, status: 200, length: 100, took: true},
		{desc: "via, auth", conf: config.GzipConf{Proxied: config.GzipProxiedAuth}, vc: reqCtx("GET", "HTTP/1.1", ae, "Via: 1.1 p", "Authorization: x"), head: plain, status: 200, length: 100, took: true},
		{desc: "via, no_etag with an ETag", conf: config.GzipConf{Proxied: config.GzipProxiedNoETag}, vc: reqCtx("GET", "HTTP/1.1", ae, "Via: 1.1 p"), head: plain, status: 200, length: 100, want: varied},
		{desc: "via, expired without Expires or Cache-Control (nginx lets it through)", conf: config.GzipConf{Proxied: config.GzipProxiedExpired}, vc: reqCtx("GET", "HTTP/1.1", ae, "Via: 1.1 p"), head: plain, status: 200, length: 100, took: true},
		{desc: "via, expired and expired", conf: config.GzipConf{Proxied: config.GzipProxiedExpired}, vc: reqCtx("GET", "HTTP/1.1", ae, "Via: 1.1 p"),
			head: strings.Replace(plain, "ETag", "Date: Mon, 07 Dec 2026 00:00:00 GMT\r\nExpires: Thu, 01 Jan 1970 00:00:01 GMT\r\nETag", 1), status: 200, length: 100, took: true},
		{desc: "via, expired and not yet", conf: config.GzipConf{Proxied: config.GzipProxiedExpired}, vc: reqCtx("GET", "HTTP/1.1", ae, "Via: 1.1 p"),
			head: strings.Replace(plain, "ETag", "Date: Mon, 07 Dec 2026 00:00:00 GMT\r\nExpires: Mon, 07 Dec 2026 01:00:00 GMT\r\nETag", 1), status: 200, length: 100},
		{desc: "via, no-cache", conf: config.GzipConf{Proxied: config.GzipProxiedNoCache}, vc: reqCtx("GET", "HTTP/1.1", ae, "Via: 1.1 p"),
			head: strings.Replace(plain, "ETag", "Cache-Control: max-age=0\r\nCache-Control: No-Cache\r\nETag", 1), status: 200, length: 100, took: true},
		{desc: "via, private wanted, no-cache sent", conf: config.GzipConf{Proxied: config.GzipProxiedPrivate}, vc: reqCtx("GET", "HTTP/1.1", ae, "Via: 1.1 p"),
			head: strings.Replace(plain, "ETag", "Cache-Control: no-cache\r\nETag", 1), status: 200, length: 100},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			tt.conf.Vary = true
			f := gzipFilterFor(t, tt.conf)
			var b Bound
			b.Bind(f, tt.vc)
			got, st := b.Start([]byte(tt.head), 0, tt.status, tt.length)
			if (st != nil) != tt.took {
				t.Fatalf("compressed: %v; want %v (head %q)", st != nil, tt.took, got)
			}
			if tt.want != "" && string(got) != tt.want {
				t.Errorf("got head %q; want %q", got, tt.want)
			}
		})
	}
}

// TestGzipStream: what goes through in several writes comes out as one
// gzip stream that decodes to it, header as zlib writes it (no name,
// no time, OS Unix), after sub_filter when both are on.
func TestGzipStream(t *testing.T) {
	f, err := Compile(&config.LocConf{
		Gzip: config.GzipConf{On: true, CompLevel: 6, HTTPVersion: 11, Proxied: config.GzipProxiedOff},
		Sub:  config.SubConf{Pairs: pairs("foo=bar")},
	}, compileTest, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b Bound
	b.Bind(f, reqCtx("GET", "HTTP/1.1", "Accept-Encoding: gzip"))
	head, st := b.Start([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nETag: \"e\"\r\n\r\n"), 0, 200, -1)
	if st == nil {
		t.Fatal("not compressed")
	}
	if want := "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n\r\n"; string(head) != want {
		t.Errorf("got head %q; want %q (sub_filter removed the ETag)", head, want)
	}
	var out chunks
	body := strings.Repeat("0123456789abcdef", 4096) // 64 KiB
	st.Write(&out, []byte("<p>fo"))
	st.Write(&out, []byte("o</p>"))
	for i := 0; i < len(body); i += 1000 {
		st.Write(&out, []byte(body[i:min(i+1000, len(body))]))
	}
	if err := st.End(&out); err != nil {
		t.Fatal(err)
	}
	raw := []byte(out.String())
	if !bytes.HasPrefix(raw, []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00")) || raw[9] != 3 {
		t.Errorf("gzip header % x; want zlib's (no flags, no time, OS 3)", raw[:10])
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	dec, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if string(dec) != "<p>bar</p>"+body {
		t.Errorf("decoded %d bytes, not the filtered body", len(dec))
	}
	if len(raw) > len(body)/4 {
		t.Errorf("compressed to %d bytes; want far less than %d", len(raw), len(body))
	}
}

// TestGzipAllocations: a compressed response takes its compressor from
// the pool: once warm, a response allocates (almost) nothing.
func TestGzipAllocations(t *testing.T) {
	f := gzipFilterFor(t, config.GzipConf{CompLevel: 1})
	var b Bound
	vc := reqCtx("GET", "HTTP/1.1", "Accept-Encoding: gzip, deflate")
	head := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n")
	buf := make([]byte, 0, 256)
	body := []byte(strings.Repeat("<p>hello, world</p>\n", 5000)) // 100 KB
	one := func() {
		b.Bind(f, vc)
		_, st := b.Start(append(buf[:0], head...), 0, 200, -1)
		st.Write(discard{}, body)
		st.End(discard{})
	}
	one()
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	n := testing.AllocsPerRun(50, one)
	t.Logf("%.1f allocations per 100 KB response", n)
	if n > 2 {
		t.Errorf("got %.1f allocations per response; want the compressor reused", n)
	}
}
