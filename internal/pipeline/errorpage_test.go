package pipeline_test

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"wsgate/internal/exchange"
	"wsgate/internal/snapshot"
	"wsgate/internal/vars"
)

// failing is a content handler that leaves the error its location's
// entry in errs names to the pipeline, as the proxy does with a 502, and
// otherwise answers 200 with the location, method, $uri and $args.
type failing struct {
	errs  map[string]int // by location path
	calls atomic.Int32
}

func (h *failing) ServeContent(w exchange.ResponseWriter, r *exchange.Request, loc *snapshot.Loc, vc *vars.Ctx) exchange.Result {
	h.calls.Add(1)
	if code, ok := h.errs[loc.Location.Path]; ok {
		return exchange.Result{Error: code}
	}
	body := fmt.Sprintf("%s %s uri=%s args=%s", loc.Name, vc.Method, vc.URI, vc.Args)
	w.AddServerDate()
	w.MarkFraming()
	w.WriteHeader(200, "", int64(len(body)))
	io.WriteString(w, body)
	return exchange.Result{}
}

const errorPageConf = `
events {}
http {
	access_log off;
	server {
		listen 127.0.0.1:8080;
		location /down { proxy_pass http://127.0.0.1:9; error_page 502 /oops?from=down; }
		location /keep { proxy_pass http://127.0.0.1:9; error_page 502 = @fallback; }
		location /code { proxy_pass http://127.0.0.1:9; error_page 502 =200 /page; }
		location /missing { proxy_pass http://127.0.0.1:9; error_page 502 @nowhere; error_page 500 /page; }
		location /missing-rec { proxy_pass http://127.0.0.1:9; recursive_error_pages on; error_page 502 @nowhere; error_page 500 /page; }
		location /plain { proxy_pass http://127.0.0.1:9; }
		location /loop { proxy_pass http://127.0.0.1:9; recursive_error_pages on; error_page 502 /loop; }
		location /oops { proxy_pass http://127.0.0.1:9; }
		location /page { proxy_pass http://127.0.0.1:9; }
		location /secret { internal; proxy_pass http://127.0.0.1:9; }
		location /to-secret { proxy_pass http://127.0.0.1:9; error_page 502 /secret/x; }
		location /to-auto { proxy_pass http://127.0.0.1:9; error_page 502 /dir; }
		location /dir/ { proxy_pass http://127.0.0.1:9; }
		location @fallback { proxy_pass http://127.0.0.1:9; }
	}
}
`

// TestErrorPage checks the pipeline's side of error_page: an error the
// content handler leaves (Result.Error) is answered by the location's
// page, a URI (as GET, with the error's status) or a named location (the
// method and the target's status kept), "=code" changes the status; a
// named location that does not exist is a 500, which gets a page only
// with recursive_error_pages; internal refuses clients and lets error
// pages in; the trailing-slash redirect of the page's location answers
// with its own 301; a page that sends the request back to itself ends in
// the 500 of the redirect limit; the log phase sees the status sent and
// the client's $request.
func TestErrorPage(t *testing.T) {
	h := &failing{errs: map[string]int{"/down": 502, "/keep": 502, "/code": 502, "/missing": 502, "/missing-rec": 502, "/plain": 502, "/loop": 502, "/to-secret": 502, "/to-auto": 502}}
	addr, obs := serve(t, errorPageConf, h)
	tests := []struct {
		desc, method, target string
		wantStatus           string
		wantBody             string // "" when not checked
		wantCalls            int32
		wantLoc              string // the location the log phase reports
	}{
		{"uri", "POST", "/down", "HTTP/1.1 502 Bad Gateway", "location /oops GET uri=/oops args=from=down", 2, "location /oops"},
		{"uri keeps HEAD", "HEAD", "/down", "HTTP/1.1 502 Bad Gateway", "", 2, "location /oops"},
		{"named", "DELETE", "/keep/1?q", "HTTP/1.1 200 OK", "location @fallback DELETE uri=/keep/1 args=q", 2, "location @fallback"},
		{"=200", "GET", "/code", "HTTP/1.1 200 OK", "location /page GET uri=/page args=", 2, "location /page"},
		{"named location missing", "GET", "/missing", "HTTP/1.1 500 Internal Server Error", "", 1, "location /missing"},
		{"named location missing, recursive", "GET", "/missing-rec", "HTTP/1.1 500 Internal Server Error", "location /page GET uri=/page args=", 2, "location /page"},
		{"no page", "GET", "/plain", "HTTP/1.1 502 Bad Gateway", "", 1, "location /plain"},
		{"internal from outside", "GET", "/secret/x", "HTTP/1.1 404 Not Found", "", 0, "location /secret"},
		{"internal from an error page", "GET", "/to-secret", "HTTP/1.1 502 Bad Gateway", "location /secret GET uri=/secret/x args=", 2, "location /secret"},
		{"a redirect keeps its own status", "GET", "/to-auto", "HTTP/1.1 301 Moved Permanently", "", 1, "location /dir/"},
		{"cycle", "GET", "/loop", "HTTP/1.1 500 Internal Server Error", "", 11, "location /loop"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			h.calls.Store(0)
			status, body := roundTrip(t, addr, tt.method+" "+tt.target+" HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
			if status != tt.wantStatus {
				t.Errorf("got status %q; want %q", status, tt.wantStatus)
			}
			if tt.wantBody != "" && body != tt.wantBody {
				t.Errorf("got body %q; want %q", body, tt.wantBody)
			}
			if got := h.calls.Load(); got != tt.wantCalls {
				t.Errorf("got %d content calls; want %d", got, tt.wantCalls)
			}
			ob := obs.next(t)
			code, _ := strconv.Atoi(strings.Fields(tt.wantStatus)[1])
			if ob.Location != tt.wantLoc || ob.Status != code {
				t.Errorf("log phase saw %q %d; want %q %d", ob.Location, ob.Status, tt.wantLoc, code)
			}
			if want := tt.method + " " + tt.target + " HTTP/1.1"; ob.Request != want {
				t.Errorf("log phase saw $request %q; want the client's %q", ob.Request, want)
			}
		})
	}
}

const serverErrorPageConf = `
events {}
http {
	access_log off;
	server {
		listen 127.0.0.1:8080;
		server_name uri;
		return 503;
		error_page 503 /maintenance;
		location /maintenance { proxy_pass http://127.0.0.1:9; }
	}
	server {
		listen 127.0.0.1:8080;
		server_name named;
		return 503;
		error_page 503 @maintenance;
		location @maintenance { proxy_pass http://127.0.0.1:9; }
	}
}
`

// TestErrorPageServerLevel checks that an internal redirect to a URI
// runs the server rewrite phase again, as ngx_http_internal_redirect
// does, and a named location does not: a server-level return's error
// page to a URI meets the return again and gets nginx's own page; to a
// named location it is served.
func TestErrorPageServerLevel(t *testing.T) {
	h := &failing{}
	addr, _ := serve(t, serverErrorPageConf, h)
	tests := []struct {
		host, wantBody string
		wantCalls      int32
	}{
		{"uri", "", 0},
		{"named", "location @maintenance GET uri=/x args=", 1},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			h.calls.Store(0)
			status, body := roundTrip(t, addr, "GET /x HTTP/1.1\r\nHost: "+tt.host+"\r\nConnection: close\r\n\r\n")
			if status != "HTTP/1.1 503 Service Temporarily Unavailable" {
				t.Errorf("got status %q; want 503", status)
			}
			if tt.wantBody != "" && body != tt.wantBody {
				t.Errorf("got body %q; want %q", body, tt.wantBody)
			}
			if got := h.calls.Load(); got != tt.wantCalls {
				t.Errorf("got %d content calls; want %d", got, tt.wantCalls)
			}
		})
	}
}

const tooLargeConf = `
events {}
http {
	access_log off;
	server {
		listen 127.0.0.1:8080;
		client_max_body_size 4;
		location /up { proxy_pass http://127.0.0.1:9; error_page 413 /page; }
		location /page { proxy_pass http://127.0.0.1:9; }
	}
}
`

// TestErrorPageTooLarge checks that a body over client_max_body_size
// gets the location's error page, and that the page's location does not
// refuse the body again (nginx discards it once refused).
func TestErrorPageTooLarge(t *testing.T) {
	h := &failing{}
	addr, _ := serve(t, tooLargeConf, h)
	status, body := roundTrip(t, addr, "POST /up HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\n0123456789")
	if status != "HTTP/1.1 413 Request Entity Too Large" || body != "location /page GET uri=/page args=" {
		t.Errorf("got %q %q; want the 413 with the page's body", status, body)
	}
}
