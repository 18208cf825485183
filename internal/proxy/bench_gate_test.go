package proxy_test

import (
	"bufio"
	"bytes"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// BenchmarkGateGET is one keep-alive GET through the proxy, with an
// upstream keepalive pool (pooled) and with nginx's default HTTP/1.0 and
// Connection: close (dial per request).
func BenchmarkGateGET(b *testing.B) {
	const resp = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n"
	be := proxytest.NewFixed(b, resp).Addr
	for _, tc := range []struct{ name, loc string }{
		{"pooled", `proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://pool;`},
		{"default", `proxy_pass http://{{b}};`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			addr := startBenchGate(b, `
upstream pool { server {{b}}; keepalive 8; }
server { listen {{listen}}; keepalive_requests 100000000; location / { `+tc.loc+` } }`, be)
			benchGets(b, addr, "/", 6)
		})
	}
}

// BenchmarkGateGETPhases is BenchmarkGateGET's pooled GET with the
// access and preaccess phases and the header filter at work: allow/deny,
// a limit_req every request stays under, a limit_conn, add_header, and
// allow, limit_req and add_header together (the bench suite's case i
// against its case g).
func BenchmarkGateGETPhases(b *testing.B) {
	const resp = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n"
	be := proxytest.NewFixed(b, resp).Addr
	const pass = `proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://pool;`
	for _, tc := range []struct{ name, loc string }{
		{"none", pass},
		{"allow", `allow 127.0.0.0/8; deny all; ` + pass},
		{"limit_req", `limit_req zone=bench burst=100000 nodelay; ` + pass},
		{"limit_conn", `limit_conn conns 100; ` + pass},
		{"add_header", `add_header X-Bench "$limit_req_status"; ` + pass},
		{"all", `allow 127.0.0.0/8; deny all; limit_req zone=bench burst=100000 nodelay; add_header X-Bench "$limit_req_status"; ` + pass},
	} {
		b.Run(tc.name, func(b *testing.B) {
			addr := startBenchGate(b, `
limit_req_zone $binary_remote_addr zone=bench:1m rate=100000r/s;
limit_conn_zone $binary_remote_addr zone=conns:1m;
upstream pool { server {{b}}; keepalive 8; }
server { listen {{listen}}; keepalive_requests 100000000; location / { `+tc.loc+` } }`, be)
			benchGets(b, addr, "/", 6)
		})
	}
}

// BenchmarkGateFile is one keep-alive GET of a 1 KiB static file through
// wsgate's whole request path (the bench suite's case h), once the file
// is old enough to be kept in memory.
func BenchmarkGateFile(b *testing.B) {
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "1k.bin"), bytes.Repeat([]byte("x"), 1024), 0o644); err != nil {
		b.Fatal(err)
	}
	written := time.Now()
	addr := startBenchGate(b, `server { listen {{listen}}; keepalive_requests 100000000; location /static/ { alias `+dir+`/; } }`, "")
	// The suite's file is old: wait out the file memory's racy window so
	// that every request is served from memory after one statx.
	benchGetsAfter(b, addr, "/static/1k.bin", 1024, func() {
		time.Sleep(time.Until(written.Add(2100 * time.Millisecond)))
	})
}

// benchGets runs b's loop of keep-alive GETs of path on one connection to
// addr, each answered with a head and a body of bodyLen bytes, after 100
// to warm the connection and the server's pools up.
func benchGets(b *testing.B, addr, path string, bodyLen int) {
	benchGetsAfter(b, addr, path, bodyLen, func() {})
}

// benchGetsAfter is benchGets with warm called after the warm-up GETs.
func benchGetsAfter(b *testing.B, addr, path string, bodyLen int, warm func()) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	req := []byte("GET " + path + " HTTP/1.1\r\nHost: h\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")
	get := func() {
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				b.Fatal(err)
			}
			if len(line) == 2 {
				break
			}
		}
		if _, err := br.Discard(bodyLen); err != nil {
			b.Fatal(err)
		}
	}
	for range 100 {
		get()
	}
	warm()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		get()
	}
}

// BenchmarkGateCacheHit is one keep-alive GET answered from proxy_cache
// (the bench suite's case k): 1 KiB, and 1 MiB (case l). The entry is
// stored first, then the loop waits until its file is older than the
// small-entry memory's racy window, so that every request is the hit a
// long-lived entry gets.
func BenchmarkGateCacheHit(b *testing.B) {
	for _, size := range []int{1 << 10, 1 << 20} {
		b.Run(strconv.Itoa(size>>10)+"k", func(b *testing.B) {
			body := bytes.Repeat([]byte("x"), size)
			be := proxytest.NewFixed(b, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: "+
				strconv.Itoa(size)+"\r\n\r\n"+string(body)).Addr
			dir := b.TempDir()
			addr := startBenchGate(b, `
proxy_cache_path `+dir+` levels=1:2 keys_zone=bench_cache:1m;
server { listen {{listen}}; keepalive_requests 100000000;
    location / { proxy_pass http://{{b}}; proxy_cache bench_cache; proxy_cache_valid 200 1d; } }`, be)
			benchGetsAfter(b, addr, "/c", size, func() {
				var stored time.Time
				filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
					if fi, err := d.Info(); err == nil && fi.Mode().IsRegular() {
						stored = fi.ModTime()
					}
					return nil
				})
				if stored.IsZero() {
					b.Fatal("the response was not stored")
				}
				time.Sleep(time.Until(stored.Add(2100 * time.Millisecond)))
			})
		})
	}
}
