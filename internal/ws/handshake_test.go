package ws

import (
	"errors"
	"net/http"
	"testing"
)

func TestAcceptKey(t *testing.T) {
	// The example of RFC 6455 1.3.
	got := AcceptKey("dGhlIHNhbXBsZSBub25jZQ==")
	if want := "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; got != want {
		t.Fatalf("AcceptKey = %q; want %q", got, want)
	}
}

func validClientHeader() http.Header {
	return http.Header{
		"Upgrade":               {"websocket"},
		"Connection":            {"keep-alive, Upgrade"},
		"Sec-Websocket-Key":     {"dGhlIHNhbXBsZSBub25jZQ=="},
		"Sec-Websocket-Version": {"13"},
	}
}

func TestCheckClientHandshake(t *testing.T) {
	tests := []struct {
		desc       string
		method     string
		major      int
		minor      int
		edit       func(h http.Header)
		wantStatus int // 0: accepted
	}{
		{desc: "valid", method: "GET", major: 1, minor: 1},
		{desc: "upper-case tokens", method: "GET", major: 1, minor: 1, edit: func(h http.Header) {
			h.Set("Upgrade", "WebSocket")
			h.Set("Connection", "UPGRADE")
		}},
		{desc: "connection split over two lines", method: "GET", major: 1, minor: 1, edit: func(h http.Header) {
			h["Connection"] = []string{"keep-alive", " upgrade "}
		}},
		{desc: "POST", method: "POST", major: 1, minor: 1, wantStatus: 400},
		{desc: "HTTP/1.0", method: "GET", major: 1, minor: 0, wantStatus: 400},
		{desc: "no upgrade", method: "GET", major: 1, minor: 1, edit: func(h http.Header) { h.Del("Upgrade") }, wantStatus: 400},
		{desc: "upgrade h2c", method: "GET", major: 1, minor: 1, edit: func(h http.Header) { h.Set("Upgrade", "h2c") }, wantStatus: 400},
		{desc: "connection without upgrade", method: "GET", major: 1, minor: 1, edit: func(h http.Header) { h.Set("Connection", "keep-alive") }, wantStatus: 400},
		{desc: "connection upgrades is not upgrade", method: "GET", major: 1, minor: 1, edit: func(h http.Header) { h.Set("Connection", "upgrades") }, wantStatus: 400},
		{desc: "no key", method: "GET", major: 1, minor: 1, edit: func(h http.Header) { h.Del("Sec-WebSocket-Key") }, wantStatus: 400},
		{desc: "key of 15 bytes", method: "GET", major: 1, minor: 1, edit: func(h http.Header) { h.Set("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAA") }, wantStatus: 400},
		{desc: "key not base64", method: "GET", major: 1, minor: 1, edit: func(h http.Header) { h.Set("Sec-WebSocket-Key", "!!!!!!!!!!!!!!!!!!!!!!==") }, wantStatus: 400},
		{desc: "two keys", method: "GET", major: 1, minor: 1, edit: func(h http.Header) { h.Add("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==") }, wantStatus: 400},
		{desc: "version 8", method: "GET", major: 1, minor: 1, edit: func(h http.Header) { h.Set("Sec-WebSocket-Version", "8") }, wantStatus: 426},
		{desc: "no version", method: "GET", major: 1, minor: 1, edit: func(h http.Header) { h.Del("Sec-WebSocket-Version") }, wantStatus: 426},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			h := validClientHeader()
			if tt.edit != nil {
				tt.edit(h)
			}
			err := CheckClientHandshake(tt.method, tt.major, tt.minor, h)
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("got %v; want nil", err)
				}
				return
			}
			var he *HandshakeError
			if !errors.As(err, &he) {
				t.Fatalf("got %v; want a *HandshakeError", err)
			}
			if he.Status != tt.wantStatus {
				t.Fatalf("got status %d (%v); want %d", he.Status, err, tt.wantStatus)
			}
		})
	}
}

func TestIsWebSocketUpgrade(t *testing.T) {
	tests := []struct {
		desc       string
		upgrade    []string
		connection []string
		want       bool
	}{
		{"plain", []string{"websocket"}, []string{"Upgrade"}, true},
		{"lists", []string{"foo, WebSocket"}, []string{"keep-alive,upgrade"}, true},
		{"no connection", []string{"websocket"}, nil, false},
		{"no upgrade", nil, []string{"upgrade"}, false},
		{"other protocol", []string{"h2c"}, []string{"upgrade"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			h := http.Header{}
			if tt.upgrade != nil {
				h["Upgrade"] = tt.upgrade
			}
			if tt.connection != nil {
				h["Connection"] = tt.connection
			}
			if got := IsWebSocketUpgrade(h); got != tt.want {
				t.Fatalf("IsWebSocketUpgrade(%v) = %v; want %v", h, got, tt.want)
			}
		})
	}
}

func TestCheckServerResponse(t *testing.T) {
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	good := func() http.Header {
		return http.Header{
			"Upgrade":              {"websocket"},
			"Connection":           {"Upgrade"},
			"Sec-Websocket-Accept": {"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
		}
	}
	tests := []struct {
		desc   string
		status int
		edit   func(http.Header)
		ok     bool
	}{
		{desc: "valid", status: 101, ok: true},
		{desc: "200", status: 200},
		{desc: "no upgrade", status: 101, edit: func(h http.Header) { h.Del("Upgrade") }},
		{desc: "no connection", status: 101, edit: func(h http.Header) { h.Del("Connection") }},
		{desc: "wrong accept", status: 101, edit: func(h http.Header) { h.Set("Sec-WebSocket-Accept", "x") }},
		{desc: "no accept", status: 101, edit: func(h http.Header) { h.Del("Sec-WebSocket-Accept") }},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			h := good()
			if tt.edit != nil {
				tt.edit(h)
			}
			err := CheckServerResponse(tt.status, h, key)
			if (err == nil) != tt.ok {
				t.Fatalf("got %v; want ok=%v", err, tt.ok)
			}
		})
	}
}
