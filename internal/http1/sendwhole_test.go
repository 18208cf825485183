//go:build linux

package http1

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"wsgate/internal/netpoll"
)

// servePolled serves h on a raw socket (netpoll.Conn), as the server
// does, and returns a client connected to it.
func servePolled(t *testing.T, h Handler) net.Conn {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a, err := netpoll.NewAcceptor(ln.(*net.TCPListener))
	if err != nil {
		ln.Close()
		t.Skip("no raw sockets here:", err)
	}
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	conn, err := a.Accept()
	ln.Close()
	a.Close()
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConnConfig()
	done := make(chan struct{})
	go func() {
		defer close(done)
		Serve(conn, &cfg, h)
	}()
	t.Cleanup(func() {
		client.Close()
		<-done
	})
	return client
}

// A body written whole after its head goes out with it in one sendmsg
// (sendWhole); what the socket does not take at once, when the client
// is slow, follows through the buffer. Either way the client reads the
// head and the body as written, on a connection kept alive.
func TestSendWhole(t *testing.T) {
	tests := []struct {
		name   string
		size   int
		method string
	}{
		{"below the minimum", sendWholeMin - 1, "GET"},
		{"1 KiB", 1024, "GET"},
		{"HEAD", 1024, "HEAD"},
		{"more than the socket takes at once", 8 << 20, "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := make([]byte, tt.size)
			for i := range body {
				body[i] = byte('a' + i%26)
			}
			client := servePolled(t, HandlerFunc(func(w *ResponseWriter, req *Request) {
				w.AddHeader("X-Test", "1")
				if err := w.WriteHeader(200, "", int64(len(body))); err != nil {
					t.Error(err)
					return
				}
				if _, err := w.Write(body); err != nil {
					t.Error(err)
				}
			}))
			// A safety net for a response cut short, not a time asserted.
			client.SetDeadline(time.Now().Add(time.Minute))
			br := bufio.NewReader(client)
			for i := 0; i < 3; i++ {
				if _, err := io.WriteString(client, tt.method+" /x HTTP/1.1\r\nHost: a\r\n\r\n"); err != nil {
					t.Fatal(err)
				}
				resp, err := http.ReadResponse(br, &http.Request{Method: tt.method})
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				want := body
				if tt.method == "HEAD" {
					want = nil
				}
				if resp.StatusCode != 200 || resp.Header.Get("X-Test") != "1" || resp.ContentLength != int64(len(body)) ||
					!bytes.Equal(got, want) || resp.Close {
					t.Fatalf("request %d: %d, X-Test %q, length %d, %d body bytes (want %d), close %v",
						i, resp.StatusCode, resp.Header.Get("X-Test"), resp.ContentLength, len(got), len(want), resp.Close)
				}
			}
		})
	}
}
