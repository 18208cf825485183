package pipeline_test

import (
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"wsgate/internal/exchange"
	"wsgate/internal/proxytest"
	"wsgate/internal/snapshot"
	"wsgate/internal/vars"
)

const limitsConf = `
events {}
http {
	access_log off;
	limit_req_zone $host zone=one:1m rate=1r/m;
	limit_req_zone $host zone=dry:1m rate=1r/m;
	limit_req_zone $host zone=st:1m rate=1r/m;
	limit_req_zone $http_x_key zone=bykey:1m rate=1r/m;
	limit_conn_zone $host zone=c:1m;
	limit_req_zone $host zone=slow:1m rate=1r/m;
	server {
		listen 127.0.0.1:8080;
		location /burst { limit_req zone=one burst=2 nodelay; proxy_pass http://127.0.0.1:9; }
		location /dry { limit_req zone=dry; limit_req_dry_run on; proxy_pass http://127.0.0.1:9; }
		location /status { limit_req zone=st; limit_req_status 429; error_page 429 /page; proxy_pass http://127.0.0.1:9; }
		location /page { return 200 "page $limit_req_status"; }
		location /bykey { limit_req zone=bykey; proxy_pass http://127.0.0.1:9; }
		location /return { limit_req zone=one; return 200 "return $limit_req_status"; }
		location /conn { limit_conn c 1; proxy_pass http://127.0.0.1:9; }
		location /delayed { limit_req zone=slow burst=5; proxy_pass http://127.0.0.1:9; }
	}
}
`

// TestLimitReq checks limit_req's answers and $limit_req_status through
// the pipeline: a burst with nodelay, a dry run, limit_req_status with an
// error page (which sees the status of the request it answers for, and
// does not count it again), an empty key, and return, which answers in
// the rewrite phase before limit_req runs, as in nginx.
func TestLimitReq(t *testing.T) {
	addr, _ := serve(t, limitsConf, statusEcho{})
	tests := []struct {
		target, key string
		want        string // status line's code and body
	}{
		{"/burst", "", "200 PASSED"},
		{"/burst", "", "200 PASSED"},
		{"/burst", "", "200 PASSED"},
		{"/burst", "", "503 "},
		{"/dry", "", "200 PASSED"},
		{"/dry", "", "200 REJECTED_DRY_RUN"},
		{"/status", "", "200 PASSED"},
		{"/status", "", "429 page REJECTED"},
		{"/return", "", "200 return "},
		{"/bykey", "", "200 []"},
		{"/bykey", "", "200 []"},
		{"/bykey", "a", "200 [PASSED]"},
		{"/bykey", "a", "503 "},
		{"/bykey", "b", "200 [PASSED]"},
	}
	for i, tt := range tests {
		req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n", tt.target)
		if tt.key != "" {
			req += "X-Key: " + tt.key + "\r\n"
		}
		line, body := roundTrip(t, addr, req+"\r\n")
		code := ""
		if len(line) >= 12 {
			code = line[9:12]
		}
		if code == "503" {
			body = ""
		}
		if got := code + " " + body; got != tt.want {
			t.Errorf("request %d (%s key %q): got %q; want %q", i, tt.target, tt.key, got, tt.want)
		}
	}
}

// statusEcho answers "[$limit_req_status]".
type statusEcho struct{}

func (statusEcho) ServeContent(w exchange.ResponseWriter, r *exchange.Request, loc *snapshot.Loc, vc *vars.Ctx) exchange.Result {
	body := vc.LimitReqStatus
	if loc.Location.Path == "/bykey" {
		body = "[" + body + "]"
	}
	w.AddServerDate()
	w.MarkFraming()
	w.WriteHeader(200, "", int64(len(body)))
	w.Write([]byte(body))
	return exchange.Result{}
}

// blocking answers after release is closed, so that its requests stay in
// progress; started tells of each one that began.
type blocking struct {
	started chan struct{}
	release chan struct{}
}

func (h *blocking) ServeContent(w exchange.ResponseWriter, r *exchange.Request, loc *snapshot.Loc, vc *vars.Ctx) exchange.Result {
	h.started <- struct{}{}
	<-h.release
	body := vc.LimitConnStatus
	w.AddServerDate()
	w.MarkFraming()
	w.WriteHeader(200, "", int64(len(body)))
	w.Write([]byte(body))
	return exchange.Result{}
}

// TestLimitConn checks that limit_conn counts a request while it is in
// progress and gives the count back when it ends.
func TestLimitConn(t *testing.T) {
	h := &blocking{started: make(chan struct{}, 4), release: make(chan struct{})}
	addr, _ := serve(t, limitsConf, h)
	type answer struct{ line, body string }
	first := make(chan answer, 1)
	go func() {
		l, b := roundTrip(t, addr, "GET /conn HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
		first <- answer{l, b}
	}()
	select {
	case <-h.started:
	case <-time.After(10 * time.Second):
		t.Fatal("first request never reached content")
	}
	if line, _ := get(t, addr, "/conn"); line != "HTTP/1.1 503 Service Temporarily Unavailable" {
		t.Fatalf("second request while the first is served: got %q; want 503", line)
	}
	close(h.release)
	if a := <-first; a.line != "HTTP/1.1 200 OK" || a.body != "PASSED" {
		t.Fatalf("first request: got %q %q; want 200 PASSED", a.line, a.body)
	}
	var line, body string
	proxytest.Eventually(t, 10*time.Second, func() bool {
		line, body = get(t, addr, "/conn")
		return line == "HTTP/1.1 200 OK"
	}, "request after the first ended: got %q %q; want 200", line, body)
}

// TestLimitReqDelayClientGone checks that a request limit_req delays (here
// by a minute) ends as soon as its client closes, logged 499 with nothing
// sent, as nginx's ngx_http_test_reading ends it.
func TestLimitReqDelayClientGone(t *testing.T) {
	addr, obs := serve(t, limitsConf, statusEcho{})
	if line, _ := get(t, addr, "/delayed"); line != "HTTP/1.1 200 OK" {
		t.Fatalf("first request: got %q; want 200", line)
	}
	if ob := obs.next(t); ob.Status != 200 {
		t.Fatalf("first request logged %d; want 200", ob.Status)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "GET /delayed HTTP/1.1\r\nHost: test\r\n\r\n")
	c.Close()
	if ob := obs.next(t); ob.Status != 499 {
		t.Fatalf("delayed request whose client closed logged %d; want 499", ob.Status)
	}
}
