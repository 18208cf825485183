//go:build linux

package netpoll

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestAcceptor: connections taken with accept4 carry bytes both ways and
// name both ends as net's do, and a Close of the listener ends a waiting
// Accept with net.ErrClosed.
func TestAcceptor(t *testing.T) {
	for _, tc := range []struct{ desc, listen string }{
		{"specific address (local address known)", "127.0.0.1:0"},
		{"wildcard address (getsockname)", "0.0.0.0:0"},
	} {
		t.Run(tc.desc, func(t *testing.T) { testAcceptor(t, tc.listen) })
	}
}

func testAcceptor(t *testing.T, listen string) {
	ln, err := net.Listen("tcp4", listen)
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewAcceptor(ln.(*net.TCPListener))
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", fmt.Sprint(ln.Addr().(*net.TCPAddr).Port))
	for i := range 3 {
		peer, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer peer.Close()
		c, err := a.Accept()
		if err != nil {
			t.Fatalf("accept %d: %v", i, err)
		}
		defer c.Close()
		if got, want := c.RemoteAddr().String(), peer.LocalAddr().String(); got != want {
			t.Errorf("remote %s; want %s", got, want)
		}
		if got, want := c.LocalAddr().String(), addr; got != want {
			t.Errorf("local %s; want %s", got, want)
		}
		peer.Write([]byte("ping"))
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		b := make([]byte, 4)
		if _, err := io.ReadFull(c, b); err != nil || string(b) != "ping" {
			t.Fatalf("got %q, %v; want \"ping\"", b, err)
		}
		c.Write([]byte("pong"))
		peer.SetReadDeadline(time.Now().Add(20 * time.Second))
		if _, err := io.ReadFull(peer, b); err != nil || string(b) != "pong" {
			t.Fatalf("peer got %q, %v; want \"pong\"", b, err)
		}
	}
	done := make(chan struct{})
	var aerr error
	go func() { _, aerr = a.Accept(); close(done) }()
	ln.Close()
	a.Close()
	within(t, done, "Accept after the listener's Close")
	if !errors.Is(aerr, net.ErrClosed) {
		t.Errorf("got %v; want net.ErrClosed", aerr)
	}
}

// TestConnReadFrom: a file goes out with sendfile, whole or limited by an
// io.LimitedReader (whose N and the file's offset move by what was
// sent), also when it is larger than the socket takes at once; another
// reader is copied.
func TestConnReadFrom(t *testing.T) {
	c, peer := dialPair(t)
	data := make([]byte, 6<<20)
	for i := range data {
		data[i] = byte(i * 13)
	}
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := make(chan []byte, 1)
	go func() {
		peer.SetReadDeadline(time.Now().Add(30 * time.Second))
		b, _ := io.ReadAll(peer)
		got <- b
	}()
	f.Seek(100, io.SeekStart)
	lr := &io.LimitedReader{R: f, N: 5 << 20}
	c.SetWriteDeadline(time.Now().Add(30 * time.Second))
	n, err := io.CopyBuffer(c, lr, make([]byte, 1)) // the buffer is never used
	if n != 5<<20 || err != nil || lr.N != 0 {
		t.Fatalf("sent %d, %v, N left %d; want %d bytes", n, err, lr.N, 5<<20)
	}
	if off, _ := f.Seek(0, io.SeekCurrent); off != 100+5<<20 {
		t.Errorf("file offset %d; want %d", off, 100+5<<20)
	}
	if n, err := c.ReadFrom(bytes.NewReader([]byte("tail"))); n != 4 || err != nil {
		t.Fatalf("ReadFrom of a bytes.Reader: %d, %v", n, err)
	}
	c.CloseWrite()
	b := <-got
	want := append(append([]byte{}, data[100:100+5<<20]...), "tail"...)
	if !bytes.Equal(b, want) {
		t.Fatalf("peer got %d bytes that differ from the %d sent", len(b), len(want))
	}
}
