package server

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// TestProxyProtocol checks "listen ... proxy_protocol" on a plain and an
// ssl address: the header comes first (before the TLS ClientHello), its
// addresses are the $proxy_protocol_* variables while $remote_addr stays
// the connection's, and a connection without a valid header is closed
// without an answer, as nginx closes it. As ssl, proxy_protocol on one
// listen of an address holds for the address.
func TestProxyProtocol(t *testing.T) {
	plain, sslAddr, other := proxytest.FreeAddr(t), proxytest.FreeAddr(t), proxytest.FreeAddr(t)
	cert, key := writeCert(t, t.TempDir(), "a.test")
	body := `"$proxy_protocol_addr:$proxy_protocol_port>$proxy_protocol_server_addr:$proxy_protocol_server_port $remote_addr $https"`
	conf := "events {}\nhttp {\n    access_log off;\n" +
		"    server { listen " + plain + " proxy_protocol; listen " + sslAddr + " ssl proxy_protocol; listen " + other + ";\n" +
		"        ssl_certificate " + cert + "; ssl_certificate_key " + key + ";\n" +
		"        location / { return 200 " + body + "; } }\n" +
		// An address has proxy_protocol when any of its listens says so.
		"    server { listen " + plain + "; server_name other.test; }\n}\n"
	start(t, conf, Options{})

	v1 := "PROXY TCP4 192.0.2.1 192.0.2.2 1234 443\r\n"
	v2 := "\r\n\r\n\x00\r\nQUIT\n\x21\x21\x00\x24" + "\x20\x01\x0d\xb8" + string(make([]byte, 11)) + "\x01" +
		"\x20\x01\x0d\xb8" + string(make([]byte, 11)) + "\x02" + "\x00\x50\x01\xbb"
	for _, tc := range []struct {
		name, addr, header string
		tls                bool
		want               string // "" : closed without an answer
	}{
		{"v1 plain", plain, v1, false, "192.0.2.1:1234>192.0.2.2:443 127.0.0.1 "},
		{"v2 plain", plain, v2, false, "2001:db8::1:80>2001:db8::2:443 127.0.0.1 "},
		{"unknown plain", plain, "PROXY UNKNOWN\r\n", false, ":>: 127.0.0.1 "},
		{"v1 before TLS", sslAddr, v1, true, "192.0.2.1:1234>192.0.2.2:443 127.0.0.1 on"},
		{"v2 before TLS", sslAddr, v2, true, "2001:db8::1:80>2001:db8::2:443 127.0.0.1 on"},
		{"no header", plain, "", false, ""},
		{"no header before TLS", sslAddr, "", true, ""},
		{"broken header", plain, "PROXY TCP4 x\r\n", false, ""},
		{"address without proxy_protocol", other, "", false, ":>: 127.0.0.1 "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.DialTimeout("tcp", tc.addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			io.WriteString(c, tc.header)
			var rw net.Conn = c
			if tc.tls {
				tc := tls.Client(c, &tls.Config{ServerName: "a.test", InsecureSkipVerify: true})
				if err := tc.Handshake(); err != nil {
					rw = nil
				} else {
					rw = tc
				}
			}
			var got string
			if rw != nil {
				io.WriteString(rw, "GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
				if r, err := proxytest.ReadResponse(bufio.NewReader(rw), "GET"); err == nil {
					got = string(r.Body)
				}
			}
			if got != tc.want {
				t.Errorf("got %q; want %q", got, tc.want)
			}
		})
	}
}

// TestProxyProtocolTimeout checks that client_header_timeout bounds the
// wait for a PROXY protocol header, on a plain and an ssl address: a
// client that sends nothing, or half a header, is closed.
func TestProxyProtocolTimeout(t *testing.T) {
	plain, sslAddr := proxytest.FreeAddr(t), proxytest.FreeAddr(t)
	cert, key := writeCert(t, t.TempDir(), "a.test")
	conf := "events {}\nhttp {\n    access_log off;\n    client_header_timeout 200ms;\n" +
		"    server { listen " + plain + " proxy_protocol; listen " + sslAddr + " ssl proxy_protocol;\n" +
		"        ssl_certificate " + cert + "; ssl_certificate_key " + key + ";\n" +
		"        location / { return 200 ok; } }\n}\n"
	start(t, conf, Options{})
	for _, tc := range []struct{ name, addr, send string }{
		{"nothing, plain", plain, ""},
		{"half a header, plain", plain, "PROXY TCP4 192.0.2.1 "},
		{"nothing, ssl", sslAddr, ""},
		{"half a v2 header, ssl", sslAddr, "\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c\xc0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.DialTimeout("tcp", tc.addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			io.WriteString(c, tc.send)
			// The bound is the test's safety net, far above the 200 ms.
			c.SetReadDeadline(time.Now().Add(20 * time.Second))
			n, err := c.Read(make([]byte, 1))
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("the connection is still open after 20 s")
			}
			if n != 0 {
				t.Errorf("got %d bytes of an answer; want the connection closed", n)
			}
		})
	}
}
