package proxy_test

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// TestLimitConnSequential checks that limit_conn gives a proxied
// request's count back before the client sees the connection close
// (nginx frees the request, and its count, before it closes the
// connection): requests one after another, each read to the end of its
// connection, all pass "limit_conn one 1".
func TestLimitConnSequential(t *testing.T) {
	be := proxytest.NewRecording(t, "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nConnection: close\r\n\r\nno\n")
	g := startGate(t, `
limit_conn_zone $binary_remote_addr zone=one:1m;
server { listen {{listen}};
  location / { limit_conn one 1; proxy_pass http://{{b}}; }
}`, map[string]string{"b": be.Addr})
	for i := 0; i < 50; i++ {
		c, err := net.Dial("tcp", g.addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, "GET /x HTTP/1.0\r\nHost: h\r\n\r\n")
		b, _ := io.ReadAll(c)
		c.Close()
		if !strings.HasPrefix(string(b), "HTTP/1.1 404 ") {
			line, _, _ := strings.Cut(string(b), "\r\n")
			t.Fatalf("request %d: got %q; want 404 from the backend", i, line)
		}
	}
}
