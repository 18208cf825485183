package files

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkSmallFile serves a 1 KiB file over one keep-alive loopback
// connection, the request the bench suite's case h repeats.
func BenchmarkSmallFile(b *testing.B) {
	dir := b.TempDir()
	os.MkdirAll(filepath.Join(dir, "static"), 0o755)
	os.WriteFile(filepath.Join(dir, "static", "1k.bin"), []byte(strings.Repeat("x", 1024)), 0o644)
	c := DefaultConfig(dir)
	c.Root = dir
	addr := serveHandler(b, newHandler(b, c))
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReaderSize(conn, 8192)
	req := []byte("GET /static/1k.bin HTTP/1.1\r\nHost: x\r\n\r\n")
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		conn.Write(req)
		// Head then 1024 body bytes.
		n := 0
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				b.Fatal(err)
			}
			if len(line) == 2 {
				break
			}
			n++
		}
		if _, err := br.Discard(1024); err != nil {
			b.Fatal(err)
		}
	}
}
