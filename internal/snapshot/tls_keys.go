package snapshot

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"time"

	"wsgate/internal/config"
)

// loadKeyPairPass is loadKeyPair for a key that may be encrypted:
// ssl_password_file's (and proxy_ssl_password_file's) passphrases, one a
// line, are tried in turn, as nginx does. Encrypted keys are PKCS#8
// ("ENCRYPTED PRIVATE KEY", PBES2 with PBKDF2 and AES or 3DES-CBC: what
// OpenSSL 3 writes) or legacy PEM ("Proc-Type: 4,ENCRYPTED").
func loadKeyPairPass(certFile, keyFile, passFile string) (tls.Certificate, error) {
	if passFile == "" {
		return loadKeyPair(certFile, keyFile)
	}
	cert, err := config.ReadFile(certFile, maxPEMSize)
	if err != nil {
		return tls.Certificate{}, err
	}
	key, err := config.ReadFile(keyFile, maxPEMSize)
	if err != nil {
		return tls.Certificate{}, err
	}
	pf, err := readPasswordFile(passFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("reading the password file: %w", err)
	}
	var passwords []string
	for _, l := range strings.Split(string(pf), "\n") {
		if l = strings.TrimSuffix(l, "\r"); l != "" {
			passwords = append(passwords, l)
		}
	}
	plain, err := decryptKeyPEM(key, passwords)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(cert, plain)
}

// passFIFOWait bounds the wait for a writer and its passphrases when the
// password file is a named pipe.
const passFIFOWait = 5 * time.Second

// readPasswordFile reads ssl_password_file: a regular file
// (config.ReadFile), or a named pipe, which nginx reads too so that
// passphrases need not rest on disk (a secrets agent writes them once
// per read). A pipe is read until its writer closes it, at most 1 MiB;
// a pipe without a writer, or one that does not close, fails after
// passFIFOWait instead of holding the start or reload forever.
func readPasswordFile(path string) ([]byte, error) {
	if st, err := os.Stat(path); err != nil || st.Mode()&fs.ModeNamedPipe == 0 {
		return config.ReadFile(path, 1<<20)
	}
	// O_NONBLOCK: the open does not wait for a writer, and the pipe is
	// read through the runtime poller, under a deadline.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	deadline := time.Now().Add(passFIFOWait)
	if err := f.SetReadDeadline(deadline); err != nil {
		return nil, err
	}
	var b []byte
	buf := make([]byte, 4096)
	for {
		n, err := f.Read(buf)
		b = append(b, buf[:n]...)
		if len(b) > 1<<20 {
			return nil, &config.TooLargeError{Path: path, Limit: 1 << 20}
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			if len(b) > 0 {
				return b, nil
			}
			// No writer yet (a pipe without one reads as ended): wait
			// for one.
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("no writer on the named pipe %q within %v", path, passFIFOWait)
			}
			time.Sleep(10 * time.Millisecond)
		case errors.Is(err, os.ErrDeadlineExceeded):
			return nil, fmt.Errorf("the named pipe %q was not closed within %v", path, passFIFOWait)
		default:
			return nil, err
		}
	}
}

// decryptKeyPEM returns keyPEM with its private key decrypted by the
// first password that works; an unencrypted key comes back as it is.
func decryptKeyPEM(keyPEM []byte, passwords []string) ([]byte, error) {
	rest := keyPEM
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			return keyPEM, nil
		}
		if !strings.HasSuffix(blk.Type, "PRIVATE KEY") {
			continue
		}
		// Legacy PEM encryption is deprecated in crypto/x509 for its
		// weakness; old keys still carry it, and nginx reads them.
		legacy := x509.IsEncryptedPEMBlock(blk)
		if blk.Type != "ENCRYPTED PRIVATE KEY" && !legacy {
			return keyPEM, nil
		}
		for _, pw := range passwords {
			var der []byte
			var err error
			typ := blk.Type
			if legacy {
				der, err = x509.DecryptPEMBlock(blk, []byte(pw))
			} else {
				der, err = decryptPKCS8(blk.Bytes, pw)
				typ = "PRIVATE KEY"
			}
			if err == nil {
				return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), nil
			}
		}
		return nil, errors.New("no password in the password file decrypts the key")
	}
}

var (
	oidPBES2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3CBC = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
)

// decryptPKCS8 decrypts an EncryptedPrivateKeyInfo (RFC 5958 §3) under
// PBES2 (RFC 8018 §6.2) into PKCS#8 DER.
func decryptPKCS8(der []byte, password string) ([]byte, error) {
	var info struct {
		Algo pkix.AlgorithmIdentifier
		Data []byte
	}
	if _, err := asn1.Unmarshal(der, &info); err != nil {
		return nil, err
	}
	if !info.Algo.Algorithm.Equal(oidPBES2) {
		return nil, fmt.Errorf("key encryption %v is not PBES2", info.Algo.Algorithm)
	}
	var params struct{ KDF, Enc pkix.AlgorithmIdentifier }
	if _, err := asn1.Unmarshal(info.Algo.Parameters.FullBytes, &params); err != nil {
		return nil, err
	}
	if !params.KDF.Algorithm.Equal(oidPBKDF2) {
		return nil, fmt.Errorf("key derivation %v is not PBKDF2", params.KDF.Algorithm)
	}
	var kdf struct {
		Salt   []byte
		Iter   int
		KeyLen int                      `asn1:"optional"`
		PRF    pkix.AlgorithmIdentifier `asn1:"optional"`
	}
	if _, err := asn1.Unmarshal(params.KDF.Parameters.FullBytes, &kdf); err != nil {
		return nil, err
	}
	var prf func() hash.Hash
	switch {
	case len(kdf.PRF.Algorithm) == 0 || kdf.PRF.Algorithm.Equal(oidHMACSHA1):
		prf = sha1.New
	case kdf.PRF.Algorithm.Equal(oidHMACSHA256):
		prf = sha256.New
	case kdf.PRF.Algorithm.Equal(oidHMACSHA512):
		prf = sha512.New
	default:
		return nil, fmt.Errorf("PBKDF2 function %v not supported", kdf.PRF.Algorithm)
	}
	var iv []byte
	if _, err := asn1.Unmarshal(params.Enc.Parameters.FullBytes, &iv); err != nil {
		return nil, err
	}
	var keyLen int
	var newCipher func([]byte) (cipher.Block, error)
	switch {
	case params.Enc.Algorithm.Equal(oidAES128CBC):
		keyLen, newCipher = 16, aes.NewCipher
	case params.Enc.Algorithm.Equal(oidAES192CBC):
		keyLen, newCipher = 24, aes.NewCipher
	case params.Enc.Algorithm.Equal(oidAES256CBC):
		keyLen, newCipher = 32, aes.NewCipher
	case params.Enc.Algorithm.Equal(oidDESEDE3CBC):
		keyLen, newCipher = 24, des.NewTripleDESCipher
	default:
		return nil, fmt.Errorf("key cipher %v not supported", params.Enc.Algorithm)
	}
	key, err := pbkdf2.Key(prf, password, kdf.Salt, kdf.Iter, keyLen)
	if err != nil {
		return nil, err
	}
	block, err := newCipher(key)
	if err != nil {
		return nil, err
	}
	if len(iv) != block.BlockSize() || len(info.Data) == 0 || len(info.Data)%block.BlockSize() != 0 {
		return nil, errors.New("malformed encrypted key")
	}
	out := make([]byte, len(info.Data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, info.Data)
	// PKCS#7 padding: a wrong password shows here, or in the parse below.
	n := int(out[len(out)-1])
	if n == 0 || n > block.BlockSize() || !bytes.Equal(out[len(out)-n:], bytes.Repeat([]byte{byte(n)}, n)) {
		return nil, errors.New("wrong password")
	}
	out = out[:len(out)-n]
	if _, err := x509.ParsePKCS8PrivateKey(out); err != nil {
		return nil, errors.New("wrong password")
	}
	return out, nil
}
