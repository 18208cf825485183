package h3

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"wsgate/internal/exchange"
)

// testHandler answers "/" with "ok" and the request's Host and protocol,
// "/body" with the length of the body it read (or the body error's
// status), and an extended CONNECT by taking the stream over and echoing
// what the client sends until it ends its side.
type testHandler struct{}

func (h testHandler) Open(net.Addr, net.Addr, *tls.ConnectionState) ConnHandler { return h }

func (testHandler) ServeStream(w exchange.ResponseWriter, req *exchange.Request) func() {
	switch {
	case req.Upgrade != nil:
		c, _, err := w.Upgrade(func(dst []byte, _ exchange.Framing) []byte {
			return append(dst, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: x\r\nX-Key: "+string(req.Header("Sec-WebSocket-Key"))+"\r\n\r\n"...)
		})
		if err != nil {
			return nil
		}
		go func() {
			io.Copy(c, c)
			c.(interface{ CloseWrite() error }).CloseWrite()
			c.Close()
		}()
	case string(req.Path) == "/body":
		w.SetLimits(exchange.Limits{ClientMaxBodySize: 1 << 20})
		req.Body.Begin()
		n, err := io.Copy(io.Discard, req.Body)
		if s := exchange.StatusOf(err); s != 0 {
			w.WriteError(s)
			return nil
		}
		s := strconv.FormatInt(n, 10)
		if req.Chunked {
			s += " chunked"
		}
		w.WriteHeader(200, "", int64(len(s)))
		w.Write([]byte(s))
	default:
		w.AddHeader("X-Host", string(req.Host))
		w.AddHeader("X-Proto", req.Proto())
		w.WriteHeader(200, "", 2)
		w.Write([]byte("ok"))
	}
	return nil
}

func (testHandler) ServeHeadError(w exchange.ResponseWriter, req *exchange.Request, status int) func() {
	w.WriteError(status)
	return nil
}

// certificate makes a self-signed certificate for a.test.
func certificate(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "a.test"},
		DNSNames: []string{"a.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// serve runs a Server on a loopback UDP socket and returns its address.
func serve(t *testing.T, cfg Config, h Handler) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(&cfg, &tls.Config{Certificates: []tls.Certificate{certificate(t)}}, h)
	done := make(chan struct{})
	go func() { defer close(done); s.Serve(pc) }()
	t.Cleanup(func() { s.Close(); <-done; pc.Close() })
	return pc.LocalAddr().String()
}

func clientTLS() *tls.Config {
	return &tls.Config{InsecureSkipVerify: true, ServerName: "a.test", NextProtos: []string{http3.NextProtoH3}}
}

func client(t *testing.T, addr string) *http.Client {
	tr := &http3.Transport{TLSClientConfig: clientTLS(),
		Dial: func(ctx context.Context, _ string, tc *tls.Config, qc *quic.Config) (*quic.Conn, error) {
			return quic.DialAddr(ctx, addr, tc, qc)
		}}
	t.Cleanup(func() { tr.Close() })
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// TestRequests: ordinary requests over HTTP/3 reach the handler as
// nginx builds them (:authority as Host, HTTP/3.0), and bodies arrive
// whole, with a declared length and without one (then Chunked), above
// the stream window; client_max_body_size answers 413.
func TestRequests(t *testing.T) {
	cfg := DefaultConfig()
	cfg.StreamBufferSize = 16 << 10
	addr := serve(t, cfg, testHandler{})
	c := client(t, addr)

	resp, err := c.Get("https://a.test/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "ok" || resp.Header.Get("X-Host") != "a.test" || resp.Header.Get("X-Proto") != "HTTP/3.0" {
		t.Fatalf("GET: %d %q %v", resp.StatusCode, b, resp.Header)
	}
	if d := resp.Header.Get("Date"); d != "" {
		t.Errorf("Date %q added to a head without one", d)
	}

	body := bytes.Repeat([]byte("0123456789abcdef"), 300<<10/16)
	for _, tt := range []struct {
		name   string
		length int64
		size   int
		want   string
		status int
	}{
		{"declared", int64(len(body)), len(body), strconv.Itoa(len(body)), 200},
		{"undeclared", -1, len(body), strconv.Itoa(len(body)) + " chunked", 200},
		{"too large", -1, 2 << 20, "", 413},
		{"too large, declared", 2 << 20, 2 << 20, "", 413},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := bytes.Repeat([]byte("z"), tt.size)
			req, _ := http.NewRequest("POST", "https://a.test/body", io.NopCloser(bytes.NewReader(b)))
			req.ContentLength = tt.length
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || tt.status == 200 && string(got) != tt.want {
				t.Fatalf("%d %q; want %d %q", resp.StatusCode, got, tt.status, tt.want)
			}
		})
	}
}

// TestExtendedConnect: a WebSocket over HTTP/3 (RFC 9220): the server
// offers SETTINGS_ENABLE_CONNECT_PROTOCOL, the extended CONNECT reaches
// the handler as an HTTP/1.1 Upgrade with a fresh Sec-WebSocket-Key, the
// 101 goes out as a 200 without the handshake's lines, the stream
// carries bytes both ways, and the client's end of its side ends the
// server's; CONNECT without :protocol is 405.
func TestExtendedConnect(t *testing.T) {
	addr := serve(t, DefaultConfig(), testHandler{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	qc, err := quic.DialAddr(ctx, addr, clientTLS(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer qc.CloseWithError(0, "")
	cc := (&http3.Transport{}).NewClientConn(qc)
	select {
	case <-cc.ReceivedSettings():
	case <-ctx.Done():
		t.Fatal("no SETTINGS")
	}
	if !cc.Settings().EnableExtendedConnect {
		t.Fatal("SETTINGS_ENABLE_CONNECT_PROTOCOL not offered")
	}

	rs, err := cc.OpenRequestStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("CONNECT", "https://a.test/ws", nil)
	req.Proto = "websocket"
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "client-key")
	if err := rs.SendRequestHeader(req); err != nil {
		t.Fatal(err)
	}
	resp, err := rs.ReadResponse()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Sec-WebSocket-Accept") != "" || resp.Header.Get("Upgrade") != "" {
		t.Fatalf("answer %d %v; want 200 without the handshake's lines", resp.StatusCode, resp.Header)
	}
	if k := resp.Header.Get("X-Key"); k == "" || k == "client-key" {
		t.Fatalf("backend key %q; want a fresh one", k)
	}
	rs.SetDeadline(time.Now().Add(10 * time.Second))
	for _, msg := range []string{"hello", string(bytes.Repeat([]byte("x"), 100<<10))} {
		if _, err := rs.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(rs, got); err != nil || string(got) != msg {
			t.Fatalf("echo of %d bytes: %v", len(msg), err)
		}
	}
	rs.Close()
	if n, err := io.Copy(io.Discard, rs); err != nil || n != 0 {
		t.Fatalf("after the client's FIN: %d bytes, %v; want the server's FIN", n, err)
	}

	rs, err = cc.OpenRequestStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequest("CONNECT", "https://a.test:443", nil)
	if err := rs.SendRequestHeader(req); err != nil {
		t.Fatal(err)
	}
	if resp, err = rs.ReadResponse(); err != nil || resp.StatusCode != 405 {
		t.Fatalf("CONNECT: %v %v; want 405", resp, err)
	}
}
