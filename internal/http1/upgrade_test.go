package http1

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestUpgrade checks that Upgrade writes the composed 101 head, hands over
// the connection with the bytes the client sent past the head, and that
// the connection then carries the new protocol both ways.
func TestUpgrade(t *testing.T) {
	for _, tc := range []struct {
		name  string
		early string // bytes the client sends right behind the head
	}{
		{"no early bytes", ""},
		{"early bytes", "\x81\x05hello"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := make(chan string, 1)
			addr, _ := startServer(t, DefaultConnConfig(), func(w *ResponseWriter, r *Request) {
				conn, rest, err := w.Upgrade(func(dst []byte, f Framing) []byte {
					return append(dst, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n"...)
				})
				if err != nil {
					got <- "error: " + err.Error()
					return
				}
				got <- string(rest)
				io.WriteString(conn, "after")
				conn.Close()
			})
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"+tc.early)
			br := bufio.NewReader(c)
			head, err := br.ReadString('\n')
			if err != nil || head != "HTTP/1.1 101 Switching Protocols\r\n" {
				t.Fatalf("got status line %q, %v; want the 101", head, err)
			}
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					t.Fatal(err)
				}
				if line == "\r\n" {
					break
				}
			}
			rest, err := io.ReadAll(br)
			if err != nil {
				t.Fatal(err)
			}
			if string(rest) != "after" {
				t.Errorf("got %q after the head; want %q", rest, "after")
			}
			// The early bytes may arrive after the head was read: the
			// handler sees what had arrived, which with one write is all.
			if early := <-got; early != tc.early && !strings.HasPrefix(tc.early, early) {
				t.Errorf("got early bytes %q; want %q", early, tc.early)
			}
		})
	}
}
