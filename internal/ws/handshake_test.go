package ws

import (
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
