package main

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"wsgate/bench/internal/wsframe"
)

// nginxConf is the seed tutorial's server block on loopback ports, inside
// the smallest complete nginx.conf. Access logging is off for every proxy
// (HAProxy logs nothing without a log line either). The upstreams are
// 127.0.0.1, not the tutorial's localhost, which nginx would resolve to
// both 127.0.0.1 and ::1 and balance between. nginx and wsgate read this
// same file.
//
// /static/ (case h) serves a 1 KiB file from html/static under the
// prefix, which nginx and wsgate share.
//
// /gzip/ (case j) serves a 100 KiB HTML file from html/gzip, gzip'ed at
// gzip_comp_level 1 for clients that accept it (the load generator's
// requests say Accept-Encoding: gzip, deflate, as browsers do).
//
// /cached/ (cases k and l) answers from proxy_cache: the first request
// fetches html/origin/1k.bin or 1m.bin through the proxy's own
// /origin/ (a miss), every later one is a hit read from the cache file.
// nginx and wsgate share the prefix and so the cache directory; each
// reads the other's files as misses (the formats differ) and stores its
// own, so the measured window sees hits only.
//
// /limited/ (case i) is /keepalive/ behind allow/deny, a limit_req
// whose rate every request stays under, and an add_header: the cost of
// the access and preaccess phases and a header filter on the GET path.
//
// /keepalive/ (case g) reaches the same app through an upstream block
// that keeps idle connections (HTTP/1.1, Connection cleared), as HAProxy
// reuses server connections by default: the fair comparison of the three
// when none has to dial per request. The cache holds 128 connections,
// more than the load's 64 clients: with keepalive 32 nginx dialled for
// 39 % of requests and wsgate for 19 %, while HAProxy's idle server
// connections are not capped, so (g) weighed dials rather than requests.
const nginxConf = `worker_processes 1;

events {
    worker_connections %d;
}

http {
    access_log off;
    limit_req_zone $binary_remote_addr zone=bench:1m rate=100000r/s;
    proxy_cache_path cache levels=1:2 keys_zone=bench_cache:1m;

    upstream app {
        server 127.0.0.1:%d;
        keepalive 128;
    }

    server {
        listen 127.0.0.1:%d;
        server_name example.com;

        location /ws/ {
            proxy_pass http://127.0.0.1:%d;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_set_header Host $host;
            proxy_read_timeout 86400;%s
        }

        location /keepalive/ {
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }

        location /static/ {
            root html;
        }

        location /limited/ {
            allow 127.0.0.0/8;
            deny all;
            limit_req zone=bench burst=100000 nodelay;
            add_header X-Bench "$limit_req_status";
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }

        location /gzip/ {
            root html;
            gzip on;
        }

        location /origin/ {
            root html;
        }

        location /cached/ {
            proxy_pass http://127.0.0.1:%[3]d/origin/;
            proxy_cache bench_cache;
            proxy_cache_valid 200 1d;
        }

        location / {
            proxy_pass http://127.0.0.1:%[6]d;
        }%[7]s
    }
}
`

// tlsServer is the TLS server of cases m, n and o, added to nginxConf:
// /ws/ as the tutorial's on "listen ... ssl http2", with a self-signed
// ECDSA P-256 certificate the runner writes beside the file, and / a
// fixed answer. The wsgate-h3 target's copy listens with quic on the
// same port too (case p, RFC 9220). TLS 1.3 is named: nginx 1.22's default protocols end at
// TLS 1.2. nginx carries WebSockets over HTTP/1.1 only (case n);
// wsgate over HTTP/2 too (case o, RFC 8441).
const tlsServer = `
    server {
        listen 127.0.0.1:%d ssl http2;
        server_name example.com;
        ssl_certificate bench.crt;
        ssl_certificate_key bench.key;
        ssl_protocols TLSv1.2 TLSv1.3;

        location /ws/ {
            proxy_pass http://127.0.0.1:%d;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_set_header Host $host;
            proxy_read_timeout 86400;%s
        }

        location / {
            return 200 "ok";
        }
    }
}
`

// tunedBuffers are the tuned nginx's extra lines: 64 KiB buffers in both
// directions of an upgraded connection (ngx_http_upstream_upgrade uses
// proxy_buffer_size for each).
const tunedBuffers = `
            proxy_buffer_size 64k;
            proxy_buffers 4 64k;`

// metricsLocation is the wsgate-metrics target's extra location: with a
// ws_metrics location in the configuration, wsgate counts every request,
// tunnel and frame (internal/metrics), which the plain wsgate target,
// reading nginx's file, does not.
const metricsLocation = `

        location = /metrics {
            ws_metrics;
        }`

// wsNativeLines are the wsgate-ws target's extra lines in /ws/: wsgate's
// own Pings to both sides and its streaming limits, set so that the load
// never reaches them (every frame and message still passes the frame
// gate: the cost of frame awareness with policy, against the plain relay
// of the wsgate target). Only wsgate reads this file.
const wsNativeLines = `
            ws_ping_interval 1s both;
            ws_pong_timeout 10s;
            ws_max_message_size 1m both;
            ws_max_frame_size 1m both;
            ws_message_rate 100000r/s both;`

// haproxyConf routes like the nginx config: /ws/ to the echo backend,
// everything else to the HTTP responder, one thread, tunnels kept 24 h.
// Like nginx's location / without an upstream keepalive, backend app
// closes its server connection after each response (case f dials per
// request for all three); /keepalive/ and /limited/ go to app_reuse,
// which keeps them as HAProxy does by default.
const haproxyConf = `global
    nbthread 1
    maxconn %d

defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout tunnel 24h

frontend fe
    bind 127.0.0.1:%d
    acl is_ws path_beg /ws/
    acl is_reuse path_beg /keepalive/ /limited/
    use_backend ws if is_ws
    use_backend app_reuse if is_reuse
    default_backend app

backend ws
    server ws1 127.0.0.1:%d

backend app
    option http-server-close
    server app1 127.0.0.1:%[4]d

backend app_reuse
    server app1 127.0.0.1:%[4]d
`

func (r *runner) writeConfigs() error {
	// nginx needs headroom beyond two connections per tunnel: at exactly
	// 2×idle+1000 it reports "worker_connections are not enough" and resets
	// clients before 9,500 tunnels are open. Connections are limited by the
	// fd limit anyway.
	conns := 3*r.o.idle + 1000
	for _, v := range []struct{ name, extra, server string }{{"nginx", "", ""}, {"nginx-tuned", tunedBuffers, ""}, {"wsgate-metrics", "", metricsLocation}, {"wsgate-ws", wsNativeLines, ""}, {"wsgate-h3", "", ""}} {
		dir := filepath.Join(r.prefix(v.name), "conf")
		if err := os.MkdirAll(filepath.Join(r.prefix(v.name), "logs"), 0o755); err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		conf := fmt.Sprintf(nginxConf, conns, r.ports.app, r.ports.proxy, r.ports.ws, v.extra, r.ports.app, v.server)
		if r.o.cores > 1 {
			conf = strings.Replace(conf, "worker_processes 1;", fmt.Sprintf("worker_processes %d;", r.o.cores), 1)
		}
		// The TLS server goes in the http block, before its closing brace.
		tls := fmt.Sprintf(tlsServer, r.ports.tls, r.ports.ws, v.extra)
		if v.name == "wsgate-h3" {
			// Only wsgate reads this file: nginx 1.22 has no quic.
			at := fmt.Sprintf("listen 127.0.0.1:%d ssl http2;", r.ports.tls)
			tls = strings.Replace(tls, at, at+fmt.Sprintf("\n        listen 127.0.0.1:%d quic;", r.ports.tls), 1)
		}
		conf = strings.TrimSuffix(conf, "}\n") + tls
		if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644); err != nil {
			return err
		}
		if err := writeCert(dir); err != nil {
			return err
		}
		static := filepath.Join(r.prefix(v.name), "html", "static")
		if err := os.MkdirAll(static, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(static, "1k.bin"), bytes.Repeat([]byte("x"), 1024), 0o644); err != nil {
			return err
		}
		origin := filepath.Join(r.prefix(v.name), "html", "origin")
		if err := os.MkdirAll(origin, 0o755); err != nil {
			return err
		}
		for name, n := range map[string]int{"1k.bin": 1 << 10, "1m.bin": 1 << 20} {
			if err := os.WriteFile(filepath.Join(origin, name), bytes.Repeat([]byte("x"), n), 0o644); err != nil {
				return err
			}
		}
		gz := filepath.Join(r.prefix(v.name), "html", "gzip")
		if err := os.MkdirAll(gz, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(gz, "100k.html"), htmlPage(100<<10), 0o644); err != nil {
			return err
		}
	}
	// HAProxy refuses to start when 2×maxconn plus a few exceeds the fd
	// limit it cannot raise.
	maxconn := r.o.idle + 200
	if r.nofile > 0 {
		maxconn = min(maxconn, (r.nofile-100)/2)
	}
	conf := fmt.Sprintf(haproxyConf, maxconn, r.ports.haproxy, r.ports.ws, r.ports.app)
	if r.o.cores > 1 {
		conf = strings.Replace(conf, "nbthread 1", fmt.Sprintf("nbthread %d", r.o.cores), 1)
	}
	return os.WriteFile(filepath.Join(r.work, "haproxy.cfg"), []byte(conf), 0o644)
}

// writeCert writes a self-signed ECDSA P-256 certificate for
// example.com and its key as bench.crt and bench.key in dir.
func writeCert(dir string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "example.com"},
		DNSNames: []string{"example.com"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "bench.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "bench.key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
}

func freePort() int {
	// The kernel picks the port; it is handed to a child after the listener
	// closes, which races only with other programs binding loopback ports.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("listening on a free loopback port: %v", err))
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitPort(port int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// probe checks that addr routes like the seed: GET / and GET /keepalive/
// answer 200 from the app, and /ws/ upgrades and echoes a message.
func probe(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	for _, path := range []string{"/", "/keepalive/"} {
		io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: example.com\r\n\r\n")
		resp, err := wsframe.ReadResponseHead(br)
		if err != nil {
			return fmt.Errorf("GET %s: %w", path, err)
		}
		if resp.Status != 200 {
			return fmt.Errorf("GET %s answered %d; want 200", path, resp.Status)
		}
		if _, err := br.Discard(int(max(resp.ContentLength, 0))); err != nil {
			return fmt.Errorf("GET %s: reading the body: %w", path, err)
		}
	}
	w, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer w.Close()
	w.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(w, "GET /ws/ HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	wr := bufio.NewReader(w)
	resp, err := wsframe.ReadResponseHead(wr)
	if err != nil {
		return fmt.Errorf("upgrading /ws/: %w", err)
	}
	if resp.Status != 101 {
		return fmt.Errorf("upgrading /ws/ answered %d; want 101", resp.Status)
	}
	mask := [4]byte{1, 2, 3, 4}
	w.Write(wsframe.AppendFrame(nil, wsframe.OpText, []byte("probe"), &mask))
	h, err := wsframe.ReadHeader(wr)
	if err != nil {
		return fmt.Errorf("reading echo: %w", err)
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(wr, p); err != nil || !strings.EqualFold(string(p), "probe") {
		return fmt.Errorf("echo %q, %v; want \"probe\"", p, err)
	}
	return nil
}

// htmlPage is an HTML page of size bytes whose text compresses about as
// a real page does (rows of a table with varying numbers), not as one
// repeated byte.
func htmlPage(size int) []byte {
	b := []byte("<!DOCTYPE html>\n<html><head><title>rows</title></head><body><table>\n")
	for i := 0; len(b) < size-32; i++ {
		b = fmt.Appendf(b, "<tr><td class=\"n\">%d</td><td>item %x</td><td>%d.%02d</td></tr>\n", i, i*2654435761%1000003, i*37%1000, i%100)
	}
	b = append(b, "</table></body></html>\n"...)
	return b
}
