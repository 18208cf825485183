package access

import (
	"testing"
)

// TestVerifyPassword checks each htpasswd form against entries made by
// other tools: openssl passwd (-1, -apr1, -5, -6), the SHA-crypt
// specification's rounds= vectors, PHP's password_hash example for
// bcrypt, and {SHA} and {SSHA} made with Python's hashlib.
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

func TestVerifyPasswordUnsupported(t *testing.T) {
	for _, stored := range []string{"abJnggxhB/yWI", "$y$j9T$salt$hash", "plain"} {
		if ok, err := VerifyPassword([]byte("x"), []byte(stored)); ok || err == nil {
			t.Errorf("VerifyPassword(%q) = %v, %v; want false and an error", stored, ok, err)
		}
	}
}
