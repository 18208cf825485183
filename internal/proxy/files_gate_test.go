package proxy_test

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"wsgate/internal/proxytest"
	"wsgate/internal/server"
)

// TestCertificateNotRegular: a certificate or key path that names a device,
// a named pipe or a directory fails the start with what the file is, at
// once: /dev/zero is not read until memory runs out, a pipe is not waited
// on.
func TestCertificateNotRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.pem")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	tests := []struct {
		desc, cert, want string
	}{
		{"device", "/dev/zero", `"/dev/zero" is a character device, not a regular file`},
		{"named pipe", fifo, `pipe.pem" is a named pipe, not a regular file`},
		{"directory", dir, `is a directory, not a regular file`},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			conf := filepath.Join(dir, "nginx.conf")
			text := "events {}\nhttp {\naccess_log off;\nserver {\nlisten " + proxytest.FreeAddr(t) + " ssl;\nssl_certificate " + tc.cert + ";\nssl_certificate_key " + tc.cert + ";\nlocation / { return 200; }\n}\n}\n"
			if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			srv, err := server.Start(server.Options{ConfPath: conf, Prefix: dir + "/", Version: "1.2.3", Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err == nil {
				srv.Stop()
				t.Fatalf("started with ssl_certificate %s; want an error", tc.cert)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "loading certificate") {
				t.Fatalf("got error %q; want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestAccessLogPipe: an access log that is a named pipe with no reader
// fails the start at once instead of waiting for one; with a reader, the
// lines go into the pipe.
func TestAccessLogPipe(t *testing.T) {
	be := proxytest.NewRecording(t, "")
	dir := t.TempDir()
	fifo := filepath.Join(dir, "access.pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	conf := filepath.Join(dir, "nginx.conf")
	addr := proxytest.FreeAddr(t)
	text := "events {}\nhttp {\nlog_format p \"$request_uri\";\naccess_log " + fifo + " p;\nserver {\nlisten " + addr + ";\nlocation / { proxy_pass http://" + be.Addr + "; }\n}\n}\n"
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	start := func() (*server.Server, error) {
		return server.Start(server.Options{ConfPath: conf, Prefix: dir + "/", Version: "1.2.3", Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	}
	srv, err := start()
	if err == nil {
		srv.Stop()
		t.Fatalf("started with an access log pipe that no process reads; want an error")
	}
	if !strings.Contains(err.Error(), "no process reads") {
		t.Fatalf("got error %q; want it to say that no process reads the pipe", err)
	}

	r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if srv, err = start(); err != nil {
		t.Fatalf("with a reader: %v", err)
	}
	defer srv.Stop()
	g := &gate{t: t, addr: addr, dir: dir, srv: srv}
	if resp := g.get("/logged"); resp.Status != 200 {
		t.Fatalf("got status %d; want 200", resp.Status)
	}
	r.SetReadDeadline(time.Now().Add(10 * time.Second))
	var got []byte
	buf := make([]byte, 64)
	for !strings.Contains(string(got), "\n") {
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("reading the pipe: got %q, %v", got, err)
		}
	}
	if string(got) != "/logged\n" {
		t.Fatalf("log line: got %q; want %q", got, "/logged\n")
	}
}
