package faults_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wsgate/internal/proxytest"
	"wsgate/internal/ws"
)

// startBinary runs the wsgate binary bin on the configuration http, an
// http block's body in which ACCESS stands for the access log's path and
// ADDR for the listen address, until the test ends (TERM, as nginx's fast
// stop). Its error log goes to the returned gate's Log.
func startBinary(t *testing.T, bin, http string) *gate {
	t.Helper()
	dir := t.TempDir()
	g := &gate{t: t, Conf: filepath.Join(dir, "nginx.conf"), Log: &proxytest.SyncBuffer{},
		access: filepath.Join(dir, "access.log"), Addr: proxytest.FreeAddr(t)}
	http = strings.NewReplacer("ACCESS", g.access, "ADDR", g.Addr).Replace(http)
	conf := fmt.Sprintf("pid %s;\nerror_log stderr info;\nevents {}\nhttp {\n%s\n}\n", filepath.Join(dir, "wsgate.pid"), http)
	if err := os.WriteFile(g.Conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", g.Conf)
	cmd.Stdout, cmd.Stderr = g.Log, g.Log
	p := proxytest.StartCmd(t, cmd)
	up := proxytest.Poll(10*time.Second, func() bool {
		select {
		case <-p.Exited():
			return true
		default:
		}
		return strings.Contains(g.Log.String(), "wsgate started")
	})
	select {
	case <-p.Exited():
		t.Fatalf("wsgate exited: %v\n%s", p.Err(), g.Log.String())
	default:
	}
	if !up {
		t.Fatalf("wsgate did not start within 10s\n%s", g.Log.String())
	}
	return g
}

// TestBackendResetsAfterClose runs the wsgate binary in front of a backend
// that answers the client's Close and then resets its connection (SO_LINGER
// 0), with proxy_read_timeout 3600s. nginx closes the client's connection
// at once; so must wsgate, and write the access log line then, with the
// client as the side that closed and the code of its Close. The client
// sends its Close alone, or with a data frame behind it, which reaches the
// backend after its reset.
func TestBackendResetsAfterClose(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the wsgate binary")
	}
	bin := wsgateBin(t)
	backend := proxytest.NewAbrupt(t, proxytest.ResetAfterClose)
	g := startBinary(t, bin, fmt.Sprintf(`    log_format ws '$request_uri $status closed_by=$ws_closed_by close_code=$ws_close_code';
    access_log ACCESS ws;
    server {
        listen ADDR;
        location /ws/ {
            proxy_pass http://%s;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_read_timeout 3600s;
        }
    }`, backend.Addr))
	tests := []struct {
		name       string
		path       string
		afterClose []byte // sent behind the Close, in the same write
	}{
		{name: "close", path: "/ws/close"},
		{name: "close and a frame", path: "/ws/close-frame",
			afterClose: frame(ws.OpText, true, []byte("after close"), false)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := g.dialWS(tt.path)
			w.echo(t, "hello")
			start := time.Now()
			if err := w.send(append(frame(ws.OpClose, true, closeBody(ws.CloseNormal), false), tt.afterClose...)); err != nil {
				t.Fatalf("sending Close: %v", err)
			}
			var code uint16
			for code == 0 {
				op, p, err := w.readFrame(5 * time.Second)
				if err != nil {
					t.Fatalf("reading the Close answer: %v", err)
				}
				if op == ws.OpClose {
					code, _, _ = ws.ParseClosePayload(p)
				}
			}
			if code != ws.CloseNormal {
				t.Fatalf("got Close %d; want %d", code, ws.CloseNormal)
			}
			// The client keeps its end open: wsgate must close it.
			if _, _, err := w.readFrame(5 * time.Second); !isEnd(err) {
				t.Fatalf("client read: %v, %v after its Close; want its connection closed", err, time.Since(start))
			}
			t.Logf("client's connection closed %v after its Close", time.Since(start))
			want := tt.path + " 101 closed_by=client close_code=1000"
			if !g.waitAccess(want, 5*time.Second) {
				t.Fatalf("access log has no %q after 5s:\n%s", want, g.accessLog())
			}
			t.Logf("access log line %v after the Close", time.Since(start))
		})
	}
}

func closeBody(code uint16) []byte { return []byte{byte(code >> 8), byte(code)} }

// isEnd reports whether err is the end of a connection (EOF or reset), not
// a read deadline.
func isEnd(err error) bool {
	return err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
}
