package main

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/net/http2"

	"wsgate/bench/internal/result"
)

// This file is the TLS cases: handshakes (m), and the WebSockets of
// cases n, o, q and r over TLS, HTTP/1.1 and HTTP/2.

// tlsHandshake runs a full TLS 1.3 handshake on c offering proto by
// ALPN: X25519 only (what nginx's OpenSSL and Go's server share; Go's
// client would offer a post-quantum share first), no session cache, the
// proxy's self-signed certificate taken unchecked.
func tlsHandshake(c net.Conn, proto string) (*tls.Conn, error) {
	tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true, ServerName: "example.com",
		NextProtos: []string{proto}, CurvePreferences: []tls.CurveID{tls.X25519}, MinVersion: tls.VersionTLS13})
	tc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := tc.Handshake(); err != nil {
		c.Close()
		return nil, fmt.Errorf("TLS handshake: %w", err)
	}
	tc.SetDeadline(time.Time{})
	if got := tc.ConnectionState().NegotiatedProtocol; got != proto {
		tc.Close()
		return nil, fmt.Errorf("ALPN chose %q; want %q", got, proto)
	}
	return tc, nil
}

// tlsHandshakes is case m: workers repeat connect, handshake, close. One
// op is one handshake.
func (l *loader) tlsHandshakes(res *result.Load) error {
	var wg sync.WaitGroup
	for range l.cfg.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !l.stop.Load() {
				t := time.Now()
				c, err := l.dial()
				if err != nil {
					l.fail(err)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				tc, err := tlsHandshake(c, "http/1.1")
				if err != nil {
					l.fail(err)
					continue
				}
				if l.measuring.Load() {
					l.h.Record(time.Since(t))
				}
				l.ops.Add(1)
				tc.Close()
			}
		}()
	}
	l.window(res, 0)
	wg.Wait()
	return nil
}

// h2Dial opens a WebSocket over HTTP/2 on c (RFC 8441): a TLS handshake
// offering h2, then an extended CONNECT to /ws/ on a connection of its
// own.
func (l *loader) h2Dial(c net.Conn, bufSize int) (*wsConn, error) {
	tc, cc, err := h2Connect(c)
	if err != nil {
		return nil, err
	}
	w, err := l.h2Open(cc, tc, bufSize, true)
	if err != nil {
		cc.Close()
	}
	return w, err
}

// h2Connect runs the TLS handshake offering h2 on c and starts an HTTP/2
// client connection on it.
func h2Connect(c net.Conn) (*tls.Conn, *http2.ClientConn, error) {
	tc, err := tlsHandshake(c, "h2")
	if err != nil {
		return nil, nil, err
	}
	cc, err := (&http2.Transport{}).NewClientConn(tc)
	if err != nil {
		tc.Close()
		return nil, nil, fmt.Errorf("HTTP/2 connection: %w", err)
	}
	return tc, cc, nil
}

// h2Open sends an extended CONNECT to /ws/ on cc, carried by tc. The
// client's frames go through the request body, the server's come on the
// response body. A stream that owns its connection (own) closes it when
// it closes; one of several (case r) ends its stream only.
func (l *loader) h2Open(cc *http2.ClientConn, tc net.Conn, bufSize int, own bool) (*wsConn, error) {
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("CONNECT", "https://"+l.cfg.host+"/ws/", pr)
	req.Header.Set(":protocol", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	resp, err := cc.RoundTrip(req)
	if err != nil {
		pw.Close()
		return nil, fmt.Errorf("extended CONNECT: %w", err)
	}
	if resp.StatusCode != 200 {
		resp.Body.Close()
		pw.Close()
		return nil, fmt.Errorf("extended CONNECT answered %d; want 200", resp.StatusCode)
	}
	s := &h2Stream{Conn: tc, cc: cc, pw: pw, body: resp.Body, own: own}
	return &wsConn{c: s, r: bufio.NewReaderSize(s, bufSize)}, nil
}

// h2Stream is a WebSocket's HTTP/2 stream as a net.Conn: deadlines are
// the TLS connection's, which carries this stream (and, in case r, its
// neighbours: a deadline set for one stream's end applies to all).
type h2Stream struct {
	net.Conn
	cc   *http2.ClientConn
	pw   *io.PipeWriter
	body io.ReadCloser
	own  bool
}

func (s *h2Stream) Read(p []byte) (int, error)  { return s.body.Read(p) }
func (s *h2Stream) Write(p []byte) (int, error) { return s.pw.Write(p) }

func (s *h2Stream) Close() error {
	s.pw.Close()
	s.body.Close()
	if !s.own {
		return nil
	}
	s.cc.Close()
	return s.Conn.Close()
}
