package files

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"wsgate/internal/proxytest"
)

// TestBigFileConstantMemory serves a 1 GiB (sparse) file and a range deep
// inside it: the body goes to the socket by sendfile, so the process
// allocates next to nothing and its memory does not grow with the file.
func TestBigFileConstantMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 1 GiB over loopback")
	}
	const size = 1 << 30
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("END"), size-3)
	f.Close()
	c := DefaultConfig(dir)
	c.Root = dir
	addr := serveHandler(t, newHandler(t, c))

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Minute))
	br := bufio.NewReaderSize(conn, 1<<20)
	fmt.Fprintf(conn, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
	head, n := readHead(t, br)
	if !strings.HasPrefix(head, "HTTP/1.1 200 ") || n != size {
		t.Fatalf("head %q, length %d", head, n)
	}
	got, err := io.Copy(io.Discard, io.LimitReader(br, n))
	if err != nil || got != size {
		t.Fatalf("read %d of %d: %v", got, size, err)
	}
	fmt.Fprintf(conn, "GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=-3\r\n\r\n")
	resp, err := proxytest.ReadResponse(br, "GET")
	if err != nil || resp.Status != 206 || string(resp.Body) != "END" {
		t.Fatalf("range at the end: %v %v %q", err, resp, resp.Body)
	}

	runtime.ReadMemStats(&after)
	t.Logf("1 GiB served: %d bytes allocated, Sys grew by %d", after.TotalAlloc-before.TotalAlloc, int64(after.Sys)-int64(before.Sys))
	if grown := int64(after.TotalAlloc - before.TotalAlloc); grown > 8<<20 {
		t.Errorf("serving 1 GiB allocated %d bytes; want it independent of the file's size", grown)
	}
	if grown := int64(after.Sys) - int64(before.Sys); grown > 16<<20 {
		t.Errorf("memory from the OS grew by %d bytes serving 1 GiB", grown)
	}
}

// readHead reads a response head and returns it with its Content-Length.
func readHead(t *testing.T, br *bufio.Reader) (string, int64) {
	t.Helper()
	var head strings.Builder
	n := int64(-1)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		head.WriteString(line)
		if line == "\r\n" {
			return head.String(), n
		}
		if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
			n, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
}
