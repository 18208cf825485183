package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"wsgate/internal/proxytest"
)

// h2Client is an HTTP/2 client (golang.org/x/net/http2) for addr: over
// TLS with ALPN h2, or h2c with prior knowledge.
func h2Client(addr string, useTLS bool) *http.Client {
	tr := &http2.Transport{AllowHTTP: true}
	tr.DialTLSContext = func(ctx context.Context, network, _ string, _ *tls.Config) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil || !useTLS {
			return c, err
		}
		tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true, ServerName: "a.test", NextProtos: []string{"h2"}})
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, err
		}
		return tc, nil
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// TestH2Proxy checks ordinary requests over HTTP/2, on TLS (ALPN h2) and
// on a plain http2 address (h2c prior knowledge): they are proxied to an
// HTTP/1.1 backend with nginx's header rules (:authority as Host,
// cookies joined with "; "), and the answer comes back on the stream;
// HTTP/1.1 still works on both addresses.
func TestH2Proxy(t *testing.T) {
	back := proxytest.NewRecording(t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Up: 1\r\nConnection: keep-alive\r\n\r\nok")
	a, p := proxytest.FreeAddr(t), proxytest.FreeAddr(t)
	dir := t.TempDir()
	cert, key := writeCert(t, dir, "a.test")
	conf := "events {}\nhttp {\n    access_log off;\n" +
		"    server { listen " + a + " ssl http2; server_name a.test; ssl_certificate " + cert + "; ssl_certificate_key " + key + ";\n" +
		"        location / { proxy_pass http://" + back.Addr + "; proxy_set_header Host $host; } }\n" +
		"    server { listen " + p + " http2; location / { proxy_pass http://" + back.Addr + "; proxy_set_header Host $host; } }\n" +
		"}\n"
	start(t, conf, Options{})

	for _, tt := range []struct {
		name string
		addr string
		tls  bool
	}{
		{"tls", a, true},
		{"h2c", p, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			back.Reset()
			c := h2Client(tt.addr, tt.tls)
			scheme := "http"
			if tt.tls {
				scheme = "https"
			}
			req, _ := http.NewRequest("GET", scheme+"://a.test/x?y=1", nil)
			req.Header.Add("Cookie", "a=1")
			req.Header.Add("Cookie", "b=2")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.ProtoMajor != 2 || resp.StatusCode != 200 || string(body) != "ok" || resp.Header.Get("X-Up") != "1" {
				t.Fatalf("got %s %d %q X-Up %q; want HTTP/2 200 \"ok\" X-Up 1", resp.Proto, resp.StatusCode, body, resp.Header.Get("X-Up"))
			}
			if resp.Header.Get("Connection") != "" {
				t.Errorf("Connection %q in an HTTP/2 response", resp.Header.Get("Connection"))
			}
			rs := back.WaitRequests(1, 5*time.Second)
			if len(rs) != 1 {
				t.Fatalf("backend got %d requests; want 1", len(rs))
			}
			r := rs[0]
			if r.Line != "GET /x?y=1 HTTP/1.0" {
				t.Errorf("request line %q", r.Line)
			}
			if h, _ := r.Get("Host"); h != "a.test" {
				t.Errorf("Host %q; want a.test", h)
			}
			if ck, _ := r.Get("Cookie"); ck != "a=1; b=2" {
				t.Errorf("Cookie %q; want \"a=1; b=2\"", ck)
			}
			// HTTP/1.1 on the same address.
			if !tt.tls {
				mustGetContains(t, tt.addr, "ok")
			}
		})
	}
}

func mustGetContains(t *testing.T, addr, want string) {
	t.Helper()
	got, err := get(addr)
	if err != nil {
		t.Fatalf("GET on %s: %v", addr, err)
	}
	if !strings.Contains(got, want) {
		t.Fatalf("GET on %s: got %q; want %q", addr, got, want)
	}
}

// TestH2SlowUpstream: on h2c the client's socket carries every stream, so
// the proxy's watch for a client gone while the upstream is slow must not
// touch it: two slow answers in a row on one connection both arrive.
func TestH2SlowUpstream(t *testing.T) {
	back := proxytest.NewSlow(t, 100*time.Millisecond, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nslow")
	p := proxytest.FreeAddr(t)
	conf := "events {}\nhttp {\n    access_log off;\n" +
		"    server { listen " + p + " http2; location / { proxy_pass http://" + back.Addr + "; } }\n}\n"
	start(t, conf, Options{})
	c := h2Client(p, false)
	for i := range 2 {
		resp, err := c.Get("http://a.test/")
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "slow" {
			t.Fatalf("request %d: got %q; want \"slow\"", i, body)
		}
	}
}

// TestH2Variables: $http2 is "h2" on TLS and "h2c" without, "" on
// HTTP/1.1; $server_protocol is HTTP/2.0 and $request names it.
func TestH2Variables(t *testing.T) {
	a, p := proxytest.FreeAddr(t), proxytest.FreeAddr(t)
	dir := t.TempDir()
	cert, key := writeCert(t, dir, "a.test")
	loc := `location / { return 200 "$http2|$server_protocol|$request"; }`
	start(t, "events {}\nhttp {\n    access_log off;\n"+
		"    server { listen "+a+" ssl http2; ssl_certificate "+cert+"; ssl_certificate_key "+key+"; "+loc+" }\n"+
		"    server { listen "+p+" http2; "+loc+" }\n}\n", Options{})
	for _, tt := range []struct {
		addr, url, want string
		tls             bool
	}{
		{a, "https://a.test/v?x", "h2|HTTP/2.0|GET /v?x HTTP/2.0", true},
		{p, "http://a.test/v?x", "h2c|HTTP/2.0|GET /v?x HTTP/2.0", false},
	} {
		resp, err := h2Client(tt.addr, tt.tls).Get(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != tt.want {
			t.Errorf("%s: got %q; want %q", tt.url, body, tt.want)
		}
	}
	mustGet(t, p, "|HTTP/1.1|GET / HTTP/1.1")
}

// TestH2Trailers: add_trailer's values go out in a trailing HEADERS
// frame, evaluated while the request's variables are still there.
func TestH2Trailers(t *testing.T) {
	p := proxytest.FreeAddr(t)
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/index.html", []byte("SEE-THIS"), 0o644); err != nil {
		t.Fatal(err)
	}
	start(t, "events {}\nhttp {\n    access_log off;\n"+
		"    server { listen "+p+" http2; root "+dir+"; location / { add_trailer X-Var $host; } }\n}\n", Options{})
	resp, err := h2Client(p, false).Get("http://localhost/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "SEE-THIS" || resp.Trailer.Get("X-Var") != "localhost" {
		t.Fatalf("got %q, trailer X-Var %q; want \"SEE-THIS\" and localhost", body, resp.Trailer.Get("X-Var"))
	}
}

// TestH2BodyFilters: sub_filter and limit_rate apply to a response on an
// HTTP/2 stream as on HTTP/1.1: the body is rewritten (its length no
// longer declared) and comes whole at the paced rate.
func TestH2BodyFilters(t *testing.T) {
	p := proxytest.FreeAddr(t)
	start(t, "events {}\nhttp {\n    access_log off;\n    default_type text/html;\n"+
		"    server { listen "+p+" http2;\n"+
		"        location /sub { sub_filter foo bar; return 200 \"a foo b\"; }\n"+
		"        location /rate { limit_rate 100k; return 200 \"paced\"; } }\n}\n", Options{})
	c := h2Client(p, false)
	for _, tt := range []struct{ path, want string }{{"/sub", "a bar b"}, {"/rate", "paced"}} {
		resp, err := c.Get("http://a.test" + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != tt.want {
			t.Errorf("%s: got %q; want %q", tt.path, body, tt.want)
		}
		if tt.path == "/sub" && resp.ContentLength != -1 {
			t.Errorf("%s: Content-Length %d after sub_filter; want none", tt.path, resp.ContentLength)
		}
	}
}

// TestH2RequestBody: request bodies larger than a stream's window
// (http2_body_preread_size) reach the backend whole, with a declared
// length and without one (then chunked to an HTTP/1.1 backend), as the
// window is given back while the proxy reads; client_max_body_size
// answers 413.
func TestH2RequestBody(t *testing.T) {
	back := proxytest.NewRecording(t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	p := proxytest.FreeAddr(t)
	ts := start(t, "events {}\nhttp {\n    access_log off;\n"+
		"    server { listen "+p+" http2; client_max_body_size 1m;\n"+
		"        location / { proxy_pass http://"+back.Addr+"; proxy_http_version 1.1; } }\n}\n", Options{})
	c := h2Client(p, false)
	body := bytes.Repeat([]byte("0123456789abcdef"), 300<<10/16)
	for _, tt := range []struct {
		name   string
		length int64
		size   int
		status int
	}{
		{"declared", int64(len(body)), len(body), 200},
		{"undeclared", -1, len(body), 200},
		{"too large", -1, 2 << 20, 413},
	} {
		t.Run(tt.name, func(t *testing.T) {
			back.Reset()
			b := bytes.Repeat([]byte("z"), tt.size)
			if tt.size == len(body) {
				b = body
			}
			req, _ := http.NewRequest("POST", "http://a.test/up", io.NopCloser(bytes.NewReader(b)))
			req.ContentLength = tt.length
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d; want %d\n%s", resp.StatusCode, tt.status, ts.log.String())
			}
			if tt.status != 200 {
				return
			}
			rs := back.WaitRequests(1, 5*time.Second)
			if len(rs) != 1 || !bytes.Equal(rs[0].Body, body) {
				got := -1
				if len(rs) == 1 {
					got = len(rs[0].Body)
				}
				t.Fatalf("backend got a body of %d bytes; want the %d sent", got, len(body))
			}
		})
	}
}
