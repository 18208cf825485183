package proxy

import (
	"bufio"
	"net"
	"strings"
	"testing"

	"wsgate/internal/config"
	"wsgate/internal/exchange"
	"wsgate/internal/http1"
)

// writesConn records each Write.
type writesConn struct {
	net.Conn
	writes []string
}

func (c *writesConn) Write(p []byte) (int, error) {
	c.writes = append(c.writes, string(p))
	return len(p), nil
}

// TestSendPreread: body bytes that came with the request's head go
// upstream in the head's write, as nginx sends its preread
// (ngx_http_upstream_send_request; nginx-tests proxy_request_buffering.t,
// "preread"); a body not there yet leaves the head to go alone, at once.
func TestSendPreread(t *testing.T) {
	const head = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n"
	tests := []struct {
		name     string
		buffered bool // the body is in the connection's buffer already
		want     []string
	}{
		{"preread", true, []string{head + "0123456789"}},
		{"not yet there", false, []string{head, "0123456789"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			br := bufio.NewReader(strings.NewReader("0123456789"))
			if tc.buffered {
				br.Peek(1)
			}
			var body http1.Body
			body.Reset(br, 10, false)
			req := &exchange.Request{Body: &body}
			conn := &writesConn{}
			c := &clientConn{}
			if err := c.send(&attempt{conn: conn}, &config.LocConf{}, []byte(head), req, nil, true); err != nil {
				t.Fatal(err)
			}
			if strings.Join(conn.writes, "|") != strings.Join(tc.want, "|") {
				t.Errorf("writes %q; want %q", conn.writes, tc.want)
			}
		})
	}
}
