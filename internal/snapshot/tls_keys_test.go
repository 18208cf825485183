package snapshot

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
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
