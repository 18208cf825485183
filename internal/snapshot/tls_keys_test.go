package snapshot

import (
	"crypto/x509"
	"encoding/pem"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/upstream"
)

// TestDecryptKeyPEM decrypts keys the openssl binary encrypts, as nginx
// reads them with ssl_password_file: PKCS#8 (what OpenSSL 3 writes) and
// legacy PEM, the right password found among wrong ones.
func TestDecryptKeyPEM(t *testing.T) {
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("no openssl binary")
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		desc string
		args []string
	}{
		{"PKCS#8 AES-128", []string{"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes128", "-pass", "pass:secret"}},
		{"PKCS#8 AES-256", []string{"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes256", "-pass", "pass:secret"}},
		{"PKCS#8 3DES", []string{"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-des3", "-pass", "pass:secret"}},
		{"legacy PEM", []string{"genrsa", "-traditional", "-aes128", "-passout", "pass:secret", "1024"}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			out := filepath.Join(dir, "key.pem")
			if b, err := exec.Command(bin, append([]string{tc.args[0], "-out", out}, tc.args[1:]...)...).CombinedOutput(); err != nil {
				t.Skipf("openssl: %v: %s", err, b)
			}
			enc, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			plain, err := decryptKeyPEM(enc, []string{"wrong", "secret"})
			if err != nil {
				t.Fatalf("decrypting: %v", err)
			}
			blk, _ := pem.Decode(plain)
			if blk == nil {
				t.Fatal("no PEM block")
			}
			_, err1 := x509.ParsePKCS8PrivateKey(blk.Bytes)
			_, err2 := x509.ParsePKCS1PrivateKey(blk.Bytes)
			if err1 != nil && err2 != nil {
				t.Errorf("decrypted key does not parse: %v, %v", err1, err2)
			}
			if _, err := decryptKeyPEM(enc, []string{"wrong"}); err == nil {
				t.Error("a wrong password decrypted the key")
			}
		})
	}
}

// TestPasswordFileLoads builds configurations whose encrypted key is read
// with ssl_password_file, as nginx-tests' ssl_password_file.t does: the
// passphrase from a named pipe that a writer fills once, and on a server
// that does not listen with ssl (nginx loads every server's certificate);
// a wrong passphrase fails the build there too, and a pipe nobody writes
// fails it after passFIFOWait instead of holding it.
func TestPasswordFileLoads(t *testing.T) {
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("no openssl binary")
	}
	dir := t.TempDir()
	key, crt := filepath.Join(dir, "k.key"), filepath.Join(dir, "k.crt")
	if b, err := exec.Command(bin, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
		"-subj", "/CN=k", "-passout", "pass:secret", "-keyout", key, "-out", crt).CombinedOutput(); err != nil {
		t.Skipf("openssl: %v: %s", err, b)
	}
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fifo := func(name string) string {
		p := filepath.Join(dir, name)
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
		return p
	}
	for _, tc := range []struct {
		desc    string
		pass    func() string
		writer  string // written to the pipe once, when pass is one
		wantErr string
	}{
		{"file, plain server", func() string { return write("good", "wrong\r\nsecret\r\n") }, "", ""},
		{"wrong passphrase, plain server", func() string { return write("bad", "wrong\n") }, "", "password"},
		{"named pipe", func() string { return fifo("fifo") }, "secret\n", ""},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			pass := tc.pass()
			done := make(chan error, 1)
			if tc.writer != "" {
				go func() {
					f, err := os.OpenFile(pass, os.O_WRONLY, 0) // waits for the reader
					if err == nil {
						_, err = f.WriteString(tc.writer)
						f.Close()
					}
					done <- err
				}()
			}
			conf := write("nginx.conf", "events {}\nhttp {\n ssl_certificate "+crt+"; ssl_certificate_key "+key+";\n"+
				" server { listen 127.0.0.1:1; ssl_password_file "+pass+"; }\n}\n")
			spec, errs := config.Load(conf, config.ParseOptions{})
			if errs != nil {
				t.Fatal(errs)
			}
			_, err := Build(t.Context(), spec, &Env{Upstreams: upstream.NewRegistry(upstream.Options{})})
			if tc.wantErr == "" && err != nil {
				t.Fatalf("build: %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("build error %v; want one with %q", err, tc.wantErr)
			}
			if tc.writer != "" {
				select {
				case err := <-done:
					if err != nil {
						t.Fatalf("writer: %v", err)
					}
				case <-time.After(10 * time.Second):
					// Release the writer before failing.
					if f, err := os.OpenFile(pass, os.O_RDONLY, 0); err == nil {
						io.Copy(io.Discard, f)
						f.Close()
					}
					t.Fatal("the build did not read the named pipe")
				}
			}
		})
	}
}
