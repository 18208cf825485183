package proxytest

import (
	"bufio"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fatalRecorder is a testing.TB whose Fatalf records the message instead
// of ending the test, so that the helpers' failures can be checked.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatalf(format string, args ...any) { f.msg = fmt.Sprintf(format, args...) }

func TestPoll(t *testing.T) {
	tests := []struct {
		name    string
		trueAt  int64 // the call from which cond returns true; 0: never
		timeout time.Duration
		want    bool
		calls   func(n int64) bool
	}{
		{"true at once", 1, time.Second, true, func(n int64) bool { return n == 1 }},
		{"true on the fifth call", 5, 10 * time.Second, true, func(n int64) bool { return n == 5 }},
		{"never, zero timeout is one call", 0, 0, false, func(n int64) bool { return n == 1 }},
		{"never", 0, 50 * time.Millisecond, false, func(n int64) bool { return n >= 2 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int64
			got := Poll(tt.timeout, func() bool {
				return n.Add(1) == tt.trueAt
			})
			if got != tt.want {
				t.Errorf("got %v; want %v", got, tt.want)
			}
			if !tt.calls(n.Load()) {
				t.Errorf("cond called %d times", n.Load())
			}
		})
	}
}

func TestEventuallyAndConsistently(t *testing.T) {
	tests := []struct {
		name    string
		run     func(tb testing.TB)
		wantMsg string
	}{
		{"eventually true", func(tb testing.TB) {
			var n atomic.Int64
			Eventually(tb, 10*time.Second, func() bool { return n.Add(1) == 3 }, "never %d", 3)
		}, ""},
		{"eventually false", func(tb testing.TB) {
			Eventually(tb, 10*time.Millisecond, func() bool { return false }, "never %d", 3)
		}, "never 3"},
		{"consistently true", func(tb testing.TB) {
			Consistently(tb, 20*time.Millisecond, func() bool { return true }, "changed")
		}, ""},
		{"consistently turns false", func(tb testing.TB) {
			var n atomic.Int64
			Consistently(tb, 10*time.Second, func() bool { return n.Add(1) < 3 }, "changed at %s", "3")
		}, "changed at 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fatalRecorder{TB: t}
			tt.run(f)
			if f.msg != tt.wantMsg {
				t.Errorf("got failure %q; want %q", f.msg, tt.wantMsg)
			}
		})
	}
}

func TestFixed(t *testing.T) {
	const resp = "HTTP/1.1 204 No Content\r\nX: y\r\n\r\n"
	tests := []struct {
		name       string
		requests   string
		wantResps  int
		wantClosed bool
	}{
		{"keep-alive", "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n", 2, false},
		{"body skipped", "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nGET /xGET / HTTP/1.1\r\n\r\n", 2, false},
		{"connection close", "GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n", 1, true},
	}
	b := NewFixed(t, resp)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, b.Addr)
			io.WriteString(c, tt.requests)
			br := bufio.NewReader(c)
			for i := 0; i < tt.wantResps; i++ {
				r, err := ReadResponse(br, "GET")
				if err != nil {
					t.Fatalf("response %d: %v", i+1, err)
				}
				if string(r.Raw) != resp {
					t.Fatalf("response %d: got %q; want %q", i+1, r.Raw, resp)
				}
			}
			if tt.wantClosed && !closedByPeer(c, br) {
				t.Errorf("connection still open after Connection: close")
			}
			if !tt.wantClosed {
				c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
				if b, err := br.ReadByte(); err == nil {
					t.Errorf("got byte %q beyond %d responses", b, tt.wantResps)
				}
			}
		})
	}
	if len(b.Requests()) != 0 {
		t.Errorf("a fixed backend recorded requests")
	}
}

func TestFunc(t *testing.T) {
	b := NewFunc(t, func(c net.Conn, br *bufio.Reader) {
		line, _ := br.ReadString('\n')
		io.WriteString(c, strings.ToUpper(line))
	})
	c := dial(t, b.Addr)
	io.WriteString(c, "hello\n")
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "HELLO\n" {
		t.Fatalf("got %q, %v; want \"HELLO\\n\" and the connection closed", got, err)
	}
	if n := b.Accepted(); n != 1 {
		t.Errorf("Accepted: got %d; want 1", n)
	}
	Eventually(t, 10*time.Second, func() bool { return b.Open() == 0 }, "connection still open after serve returned")
}

func TestListenAddrs(t *testing.T) {
	got := ListenAddrs([]byte("server {\n  listen 127.0.0.1:1;\n listen [::1]:2 default_server;\n}\nserver { listen 127.0.0.1:1; }\nserver {listen 80;}\n"))
	want := []string{"127.0.0.1:1", "[::1]:2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q; want %q", got, want)
	}
}

func TestNginx(t *testing.T) {
	be := NewRecording(t, "")
	n := StartNginx(t, NginxHTTP(fmt.Sprintf(`
    server {
        listen %s;
        location / { proxy_pass http://%s; }
    }
    server {
        listen %s;
        return 204;
    }`, FreeAddr(t), be.Addr, FreeAddr(t))))
	if len(n.Addrs) != 2 || n.Addr != n.Addrs[0] {
		t.Fatalf("got Addr %q, Addrs %q; want the two listen addresses", n.Addr, n.Addrs)
	}
	tests := []struct {
		addr   string
		status int
		reqs   int
	}{
		{n.Addrs[0], 200, 1},
		{n.Addrs[1], 204, 0},
	}
	for _, tt := range tests {
		be.Reset()
		c := dial(t, tt.addr)
		io.WriteString(c, "GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
		r, err := ReadResponse(bufio.NewReader(c), "GET")
		if err != nil {
			t.Fatalf("%s: %v\n%s", tt.addr, err, n.Output())
		}
		if r.Status != tt.status {
			t.Errorf("%s: got status %d; want %d", tt.addr, r.Status, tt.status)
		}
		if got := len(be.WaitRequests(tt.reqs, 10*time.Second)); got != tt.reqs {
			t.Errorf("%s: backend got %d requests; want %d", tt.addr, got, tt.reqs)
		}
	}
	n.Stop()
	select {
	case <-n.Exited():
	default:
		t.Fatal("nginx still running after Stop")
	}
}

func TestNginxTest(t *testing.T) {
	bin := NeedNginx(t)
	tests := []struct {
		name, conf string
		ok         bool
		out        string
	}{
		{"good", "events {}\nhttp { access_log off; }\n", true, "syntax is ok"},
		{"unknown directive", "events {}\nfoo;\n", false, `unknown directive "foo"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := t.TempDir() + "/x.conf"
			if err := os.WriteFile(path, []byte(tt.conf), 0o644); err != nil {
				t.Fatal(err)
			}
			ok, out := NginxTest(t, bin, path)
			if ok != tt.ok || !strings.Contains(out, tt.out) {
				t.Errorf("got %v, %q; want %v and %q", ok, out, tt.ok, tt.out)
			}
		})
	}
}

func TestNginxRefusesConfiguration(t *testing.T) {
	NeedNginx(t)
	f := &fatalRecorder{TB: t}
	StartNginx(f, NginxHTTP(fmt.Sprintf("server { listen %s; no_such_directive; }", FreeAddr(t))))
	if !strings.Contains(f.msg, "exited before listening") || !strings.Contains(f.msg, `unknown directive "no_such_directive"`) {
		t.Errorf("got failure %q; want nginx's exit and its message", f.msg)
	}
}

// TestImportsNoWsgatePackage holds the package doc's promise: the tests of
// proxy, tunnel, upstream and the rest import proxytest, so it imports no
// wsgate package (gatetest, which does, is a package of its own).
func TestImportsNoWsgatePackage(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("listing the package's files: %v (%d found)", err, len(files))
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); strings.HasPrefix(path, "wsgate/") {
				t.Errorf("%s imports %q; want no wsgate package", name, path)
			}
		}
	}
}
