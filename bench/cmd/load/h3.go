package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// h3Dial opens a WebSocket over HTTP/3 (RFC 9220, case p): a QUIC
// connection of its own to -addr (UDP), then an extended CONNECT to /ws/,
// whose stream carries the frames as DATA.
func (l *loader) h3Dial(bufSize int) (*wsConn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tc := &tls.Config{InsecureSkipVerify: true, ServerName: l.cfg.host, NextProtos: []string{http3.NextProtoH3},
		CurvePreferences: []tls.CurveID{tls.X25519}}
	qc, err := quic.DialAddr(ctx, l.cfg.addr, tc, &quic.Config{KeepAlivePeriod: 10 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("QUIC handshake: %w", err)
	}
	cc := (&http3.Transport{}).NewClientConn(qc)
	select {
	case <-cc.ReceivedSettings():
	case <-ctx.Done():
		qc.CloseWithError(0, "")
		return nil, fmt.Errorf("no SETTINGS from %s", l.cfg.addr)
	}
	rs, err := cc.OpenRequestStream(ctx)
	if err != nil {
		qc.CloseWithError(0, "")
		return nil, fmt.Errorf("opening a stream: %w", err)
	}
	req, _ := http.NewRequest("CONNECT", "https://"+l.cfg.host+"/ws/", nil)
	req.Proto = "websocket"
	req.Header.Set("Sec-WebSocket-Version", "13")
	if err := rs.SendRequestHeader(req); err != nil {
		qc.CloseWithError(0, "")
		return nil, fmt.Errorf("extended CONNECT: %w", err)
	}
	resp, err := rs.ReadResponse()
	if err != nil || resp.StatusCode != 200 {
		qc.CloseWithError(0, "")
		return nil, fmt.Errorf("extended CONNECT: %v %v; want 200", resp, err)
	}
	s := &h3Stream{rs: rs, qc: qc}
	return &wsConn{c: s, r: bufio.NewReaderSize(s, bufSize)}, nil
}

// h3Stream is a WebSocket's HTTP/3 stream as a net.Conn.
type h3Stream struct {
	rs *http3.RequestStream
	qc *quic.Conn
}

func (s *h3Stream) Read(p []byte) (int, error)  { return s.rs.Read(p) }
func (s *h3Stream) Write(p []byte) (int, error) { return s.rs.Write(p) }

func (s *h3Stream) Close() error {
	s.rs.Close()
	return s.qc.CloseWithError(0, "")
}

func (s *h3Stream) LocalAddr() net.Addr                { return s.qc.LocalAddr() }
func (s *h3Stream) RemoteAddr() net.Addr               { return s.qc.RemoteAddr() }
func (s *h3Stream) SetDeadline(t time.Time) error      { return s.rs.SetDeadline(t) }
func (s *h3Stream) SetReadDeadline(t time.Time) error  { return s.rs.SetReadDeadline(t) }
func (s *h3Stream) SetWriteDeadline(t time.Time) error { return s.rs.SetWriteDeadline(t) }
