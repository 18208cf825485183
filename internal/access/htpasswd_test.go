package access

import (
	"crypto/des"
	"encoding/binary"
	"testing"
)

// TestVerifyPassword checks each htpasswd form against entries made by
// other tools: openssl passwd (-1, -apr1, -5, -6), the SHA-crypt
// specification's rounds= vectors, PHP's password_hash example for
// bcrypt, {SHA} and {SSHA} made with Python's hashlib, and DES crypt
// entries of glibc's crypt(3).
func TestVerifyPassword(t *testing.T) {
	tests := []struct {
		name, password, stored string
		want                   bool
	}{
		{"plain", "secret", "{PLAIN}secret", true},
		{"plain wrong", "secreT", "{PLAIN}secret", false},
		{"sha", "secret", "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", true},
		{"sha wrong", "secret2", "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", false},
		{"ssha", "secret", "{SSHA}gVK8WC9YyFT1gMsQHTGCgT3sSv5zYWx0", true},
		{"ssha wrong", "secreu", "{SSHA}gVK8WC9YyFT1gMsQHTGCgT3sSv5zYWx0", false},
		{"md5", "Hello world!", "$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1", true},
		{"md5 wrong", "Hello world", "$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1", false},
		{"apr1", "Hello world!", "$apr1$saltstri$aGfuB7Lcvs2TUeFTqUVfN0", true},
		{"apr1 wrong", "hello world!", "$apr1$saltstri$aGfuB7Lcvs2TUeFTqUVfN0", false},
		{"sha256", "Hello world!", "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", true},
		{"sha256 rounds", "Hello world!", "$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA", true},
		{"sha256 wrong", "Hello world?", "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", false},
		{"sha512", "Hello world!", "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", true},
		{"sha512 rounds", "Hello world!", "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.", true},
		{"sha512 wrong", "", "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", false},
		{"bcrypt", "rasmuslerdorf", "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a", true},
		{"bcrypt wrong", "rasmuslerdorF", "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a", false},
		// Traditional DES crypt: entries of glibc's crypt(3) (perl's crypt()).
		{"des crypt password ab", "password", "abJnggxhB/yWI", true},
		{"des crypt password ..", "password", "..UZoIyj/Hy/c", true},
		{"des crypt password Az", "password", "AzSzB2uy8JFlk", true},
		{"des crypt empty zz", "", "zz6dpSdr.LHZw", true},
		{"des crypt a ..", "a", "..4/MD05HLWjI", true},
		{"des crypt a zz", "a", "zzJZ5PtvFqi9o", true},
		{"des crypt 12345678 zz", "12345678", "zzRtj6pNdfpLE", true},
		{"des crypt 123456789 zz", "123456789", "zzRtj6pNdfpLE", true},
		{"des crypt 123456789 Az", "123456789", "Azc.VARqxkTMU", true},
		{"des crypt hello_world /.", "hello world", "/.W2oXH8hmpsg", true},
		{"des crypt UPPER_lower ab", "UPPER lower", "abYP6bfJ.qOzA", true},
		{"des crypt UPPER_lower Az", "UPPER lower", "Azh4W36ASeS5E", true},
		{"des crypt wrong", "passwore", "abJnggxhB/yWI", false},
		{"des crypt ninth character ignored", "123456789", "ab1iBa.N.U2C6", true},
		{"des crypt high bit lost", "\xff\xc3\xa9t\x80", "x9plr68qrCugY", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := VerifyPassword([]byte(tt.password), []byte(tt.stored))
			if err != nil || got != tt.want {
				t.Errorf("VerifyPassword(%q, %q) = %v, %v; want %v", tt.password, tt.stored, got, err, tt.want)
			}
		})
	}
}

// TestDESBlock checks the DES of DES crypt without a salt against
// crypto/des, which has no salt.
func TestDESBlock(t *testing.T) {
	for _, key := range []uint64{0, 0x133457799bbcdff1, 0x0123456789abcdef, 0xfedcba9876543210} {
		for _, block := range []uint64{0, 0x0123456789abcdef, 0xffffffffffffffff} {
			var k, in, want [8]byte
			binary.BigEndian.PutUint64(k[:], key)
			binary.BigEndian.PutUint64(in[:], block)
			c, err := des.NewCipher(k[:])
			if err != nil {
				t.Fatal(err)
			}
			c.Encrypt(want[:], in[:])
			ks := desSubkeys(key)
			if got := desEncrypt(block, &ks, 0); got != binary.BigEndian.Uint64(want[:]) {
				t.Errorf("key %016x block %016x: %016x; want %x", key, block, got, want)
			}
		}
	}
}

func TestVerifyPasswordUnsupported(t *testing.T) {
	for _, stored := range []string{"$y$j9T$salt$hash", "plain"} {
		if ok, err := VerifyPassword([]byte("x"), []byte(stored)); ok || err == nil {
			t.Errorf("VerifyPassword(%q) = %v, %v; want false and an error", stored, ok, err)
		}
	}
}
