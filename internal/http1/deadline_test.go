package http1

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestServeHeadDeadlines checks the read deadlines around a keep-alive
// request: a head that arrives whole gets no client_header_timeout and the
// handler's body reads do not inherit keepalive_timeout; a head that
// arrives in parts is bounded by client_header_timeout from its first byte.
func TestServeHeadDeadlines(t *testing.T) {
	cfg := DefaultConnConfig()
	cfg.Limits.KeepaliveTimeout = 300 * time.Millisecond
	cfg.Limits.ClientBodyTimeout = 0 // no deadline of its own for body reads
	cfg.ClientHeaderTimeout = 300 * time.Millisecond
	addr, _ := startServer(t, cfg, echoHandler)
	for _, tc := range []struct {
		name       string
		first      string // sent at once after the first response
		later      string // sent after the pause
		wantStatus int    // 0: closed without an answer
		wantBody   string
	}{
		{"body after the keepalive deadline", "POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", "hello", 200, "POST /b hello"},
		{"head in parts", "GET /p HTTP/1.1\r\n", "Host: a\r\n\r\n", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			br := bufio.NewReader(c)
			io.WriteString(c, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n")
			if st, _ := readResponse(t, br); st != 200 {
				t.Fatalf("first request: got status %d; want 200", st)
			}
			io.WriteString(c, tc.first)
			time.Sleep(700 * time.Millisecond) // past both 300 ms deadlines
			io.WriteString(c, tc.later)
			st, body := readResponse(t, br)
			if st != tc.wantStatus || body != tc.wantBody {
				t.Errorf("got status %d body %q; want %d %q", st, body, tc.wantStatus, tc.wantBody)
			}
		})
	}
}

// readResponse reads one response with Content-Length; status 0 when the
// connection closed first.
func readResponse(t *testing.T, br *bufio.Reader) (int, string) {
	t.Helper()
	line, err := br.ReadString('\n')
	if err != nil {
		return 0, ""
	}
	var status int
	if len(line) >= 12 {
		for _, ch := range line[9:12] {
			status = status*10 + int(ch-'0')
		}
	}
	cl := 0
	for {
		h, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading head: %v", err)
		}
		if h == "\r\n" {
			break
		}
		if v, ok := strings.CutPrefix(h, "Content-Length: "); ok {
			for _, ch := range strings.TrimSpace(v) {
				cl = cl*10 + int(ch-'0')
			}
		}
	}
	body := make([]byte, cl)
	if _, err := io.ReadFull(br, body); err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return status, string(body)
}

// TestServeSendTimeout checks that send_timeout still ends a response the
// client does not read, although writes the socket takes at once go
// without a deadline.
func TestServeSendTimeout(t *testing.T) {
	cfg := DefaultConnConfig()
	cfg.Limits.SendTimeout = 300 * time.Millisecond
	done := make(chan error, 1)
	big := make([]byte, 1<<20)
	addr, _ := startServer(t, cfg, func(w *ResponseWriter, r *Request) {
		w.WriteHeader(200, "", -1)
		var err error
		for range 256 { // 256 MiB: more than any socket buffers
			if _, err = w.Write(big); err != nil {
				break
			}
		}
		done <- err
	})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("got no write error; want send_timeout to end the response")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("handler still writing after 10s; want send_timeout to end it")
	}
}

// TestServeKeepaliveMoves checks that keepalive_timeout counts from the
// end of the connection's latest response, although a response moves the
// read deadline only when it is timerLazyDelay away from the armed one:
// requests spaced well within the timeout keep the connection open for
// longer than the timeout.
func TestServeKeepaliveMoves(t *testing.T) {
	cfg := DefaultConnConfig()
	cfg.Limits.KeepaliveTimeout = time.Second
	addr, _ := startServer(t, cfg, echoHandler)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(c)
	for end := time.Now().Add(2500 * time.Millisecond); time.Now().Before(end); {
		io.WriteString(c, "GET /k HTTP/1.1\r\nHost: a\r\n\r\n")
		if st, _ := readResponse(t, br); st != 200 {
			t.Fatalf("got status %d (0: closed); want 200", st)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
