package http1

import (
	"strings"
	"testing"
)

// TestServeErrorStatus checks what SetErrorStatus and AddErrorHeader do
// to each way of writing a head: the status error_page chose replaces a
// handler's and a composed head's, with nginx's reason text; an error
// page keeps its own; the lines AddErrorHeader queued end every head.
func TestServeErrorStatus(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		status  string // the status line
		present []string
		absent  []string
	}{
		{"own head", "/own", "HTTP/1.1 404 Not Found\r\n", []string{"Content-Length: 2\r\nConnection: close\r\nWWW-Authenticate: Basic\r\nX-A: a\r\n\r\nok"}, []string{"200"}},
		{"own reason replaced", "/reason", "HTTP/1.1 502 Bad Gateway\r\n", []string{"\r\nWWW-Authenticate: Basic\r\n\r\nok"}, []string{"Fine"}},
		{"composed head", "/composed", "HTTP/1.1 404 Not Found\r\n", []string{"X-Up: 1\r\nWWW-Authenticate: Basic\r\n\r\nok"}, []string{"200 OK"}},
		{"error page keeps its own", "/error", "HTTP/1.1 410 Gone\r\n", []string{"<title>410 Gone</title>", "WWW-Authenticate: Basic\r\n\r\n"}, []string{"404"}},
		{"none", "/none", "HTTP/1.1 200 OK\r\n", []string{"X-A: a\r\n\r\nok"}, []string{"WWW-Authenticate"}},
	}
	cfg := DefaultConnConfig()
	addr, _ := startServer(t, cfg, func(w *ResponseWriter, r *Request) {
		path := string(r.NormalizedPath)
		if path != "/none" {
			w.SetErrorStatus(404)
			w.AddErrorHeader([]byte("WWW-Authenticate"), []byte("Basic"))
			w.AddErrorHeader([]byte("Bad"), []byte("a\r\nX: smuggled"))
		}
		switch path {
		case "/own", "/none":
			w.AddServerDate()
			w.MarkFraming()
			w.AddHeader("X-A", "a")
			w.WriteHeader(200, "", 2)
		case "/reason":
			w.SetErrorStatus(502)
			w.WriteHeader(200, "Fine", 2)
		case "/composed":
			w.WriteComposedHeader(200, 2, func(dst []byte, f Framing) []byte {
				return append(dst, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Up: 1\r\n\r\n"...)
			})
		case "/error":
			w.WriteError(410)
			return
		}
		w.Write([]byte("ok"))
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := roundTrip(t, addr, "GET "+tt.path+" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false)
			if !strings.HasPrefix(out, tt.status) {
				t.Errorf("got %q; want it to start with %q", out, tt.status)
			}
			for _, s := range tt.present {
				if !strings.Contains(out, s) {
					t.Errorf("got %q; want %q in it", out, s)
				}
			}
			for _, s := range append(tt.absent, "smuggled") {
				if strings.Contains(out, s) {
					t.Errorf("got %q; want no %q in it", out, s)
				}
			}
		})
	}
}
