package access

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"hash"
	"strconv"

	"golang.org/x/crypto/bcrypt"
)

// This file checks a password against an htpasswd entry, in every form
// nginx accepts (ngx_crypt and, for the others, the C library's crypt(3)
// on glibc/libxcrypt): {PLAIN}, {SHA}, {SSHA}, MD5-crypt ($1$ and
// Apache's $apr1$), SHA-crypt ($5$, $6$, with rounds=), bcrypt ($2a$,
// $2b$, $2y$) and the traditional DES crypt (descrypt.go). Computed hashes
// are compared in constant time.

// errHashFormat is an entry whose form wsgate cannot check (yescrypt,
// scrypt and the like).
var errHashFormat = errors.New("unsupported password hash format")

// VerifyPassword reports whether password matches the htpasswd entry
// stored. An error means the entry's form is unsupported; nginx, whose
// crypt(3) may know more forms, would check it.
func VerifyPassword(password, stored []byte) (bool, error) {
	switch {
	case bytes.HasPrefix(stored, []byte("{PLAIN}")):
		return subtle.ConstantTimeCompare(password, stored[len("{PLAIN}"):]) == 1, nil
	case bytes.HasPrefix(stored, []byte("{SHA}")):
		sum := sha1.Sum(password)
		want := make([]byte, base64.StdEncoding.EncodedLen(len(sum)))
		base64.StdEncoding.Encode(want, sum[:])
		return subtle.ConstantTimeCompare(want, stored[len("{SHA}"):]) == 1, nil
	case bytes.HasPrefix(stored, []byte("{SSHA}")):
		return verifySSHA(password, stored[len("{SSHA}"):]), nil
	case bytes.HasPrefix(stored, []byte("$apr1$")):
		return constantEqual(md5Crypt(password, stored, "$apr1$"), stored), nil
	case bytes.HasPrefix(stored, []byte("$1$")):
		return constantEqual(md5Crypt(password, stored, "$1$"), stored), nil
	case bytes.HasPrefix(stored, []byte("$5$")):
		return constantEqual(shaCrypt(password, stored, "$5$", sha256.New, sha256Order), stored), nil
	case bytes.HasPrefix(stored, []byte("$6$")):
		return constantEqual(shaCrypt(password, stored, "$6$", sha512.New, sha512Order), stored), nil
	case bytes.HasPrefix(stored, []byte("$2a$")), bytes.HasPrefix(stored, []byte("$2b$")), bytes.HasPrefix(stored, []byte("$2y$")):
		err := bcrypt.CompareHashAndPassword(stored, password)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return false, nil
		}
		return false, err
	case isDESCrypt(stored):
		return constantEqual(desCrypt(password, stored), stored), nil
	}
	return false, errHashFormat
}

func constantEqual(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// verifySSHA checks {SSHA}: base64 of SHA-1(password + salt) + salt
// (ngx_crypt_ssha).
func verifySSHA(password, enc []byte) bool {
	raw := make([]byte, base64.StdEncoding.DecodedLen(len(enc)))
	n, err := base64.StdEncoding.Decode(raw, enc)
	if err != nil || n < sha1.Size {
		return false
	}
	raw = raw[:n]
	h := sha1.New()
	h.Write(password)
	h.Write(raw[sha1.Size:])
	return subtle.ConstantTimeCompare(h.Sum(nil), raw[:sha1.Size]) == 1
}

// itoa64 is crypt(3)'s alphabet.
const itoa64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// to64 appends the n low 6-bit groups of v, least significant first.
func to64(dst []byte, v uint32, n int) []byte {
	for ; n > 0; n-- {
		dst = append(dst, itoa64[v&0x3f])
		v >>= 6
	}
	return dst
}

// cryptSalt is the salt of a "$magic$salt$hash" entry: at most max
// bytes, ending at the next '$'.
func cryptSalt(s []byte, max int) []byte {
	if i := bytes.IndexByte(s, '$'); i >= 0 {
		s = s[:i]
	}
	if len(s) > max {
		s = s[:max]
	}
	return s
}

// md5Crypt is Poul-Henning Kamp's MD5-crypt with magic "$1$" (crypt(3))
// or "$apr1$" (Apache, ngx_crypt_apr1): it returns magic, salt, "$" and
// the hash, for stored's salt.
func md5Crypt(pw, stored []byte, magic string) []byte {
	salt := cryptSalt(stored[len(magic):], 8)
	ctx := md5.New()
	ctx.Write(pw)
	ctx.Write([]byte(magic))
	ctx.Write(salt)
	alt := md5.New()
	alt.Write(pw)
	alt.Write(salt)
	alt.Write(pw)
	final := alt.Sum(nil)
	for n := len(pw); n > 0; n -= 16 {
		ctx.Write(final[:min(n, 16)])
	}
	for i := len(pw); i != 0; i >>= 1 {
		if i&1 != 0 {
			ctx.Write([]byte{0})
		} else {
			ctx.Write(pw[:1])
		}
	}
	final = cryptRounds(md5.New(), 1000, pw, salt, ctx.Sum(nil))
	out := append(append(append([]byte(magic), salt...), '$'), make([]byte, 0, 22)...)
	f := final
	for _, g := range [][3]int{{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}} {
		out = to64(out, uint32(f[g[0]])<<16|uint32(f[g[1]])<<8|uint32(f[g[2]]), 4)
	}
	return to64(out, uint32(f[11]), 2)
}

// The byte order in which SHA-crypt encodes its digest, three bytes
// (most significant first) to four characters; a last group of fewer.
var (
	sha256Order = []int{0, 10, 20, 21, 1, 11, 12, 22, 2, 3, 13, 23, 24, 4, 14, 15, 25, 5, 6, 16, 26, 27, 7, 17, 18, 28, 8, 9, 19, 29, -1, 31, 30}
	sha512Order = []int{0, 21, 42, 22, 43, 1, 44, 2, 23, 3, 24, 45, 25, 46, 4, 47, 5, 26, 6, 27, 48, 28, 49, 7, 50, 8, 29,
		9, 30, 51, 31, 52, 10, 53, 11, 32, 12, 33, 54, 34, 55, 13, 56, 14, 35, 15, 36, 57, 37, 58, 16, 59, 17, 38,
		18, 39, 60, 40, 61, 19, 62, 20, 41, -1, -1, 63}
)

// SHA-crypt's rounds (Ulrich Drepper's "Unix crypt using SHA-256 and
// SHA-512"): 5000 unless "rounds=N$" says otherwise, clamped.
const (
	shaRoundsDefault = 5000
	shaRoundsMin     = 1000
	shaRoundsMax     = 999999999
)

// shaCrypt is SHA-crypt with magic "$5$" (SHA-256) or "$6$" (SHA-512):
// it returns the entry crypt(3) makes of pw with stored's rounds and salt.
func shaCrypt(pw, stored []byte, magic string, newHash func() hash.Hash, order []int) []byte {
	rest := stored[len(magic):]
	rounds, custom := shaRoundsDefault, false
	if r, ok := bytes.CutPrefix(rest, []byte("rounds=")); ok {
		if i := bytes.IndexByte(r, '$'); i > 0 {
			if n, err := strconv.ParseUint(string(r[:i]), 10, 64); err == nil {
				rounds, custom, rest = int(min(max(n, shaRoundsMin), shaRoundsMax)), true, r[i+1:]
			}
		}
	}
	salt := cryptSalt(rest, 16)

	b := newHash()
	b.Write(pw)
	b.Write(salt)
	b.Write(pw)
	bSum := b.Sum(nil)
	size := len(bSum)
	a := newHash()
	a.Write(pw)
	a.Write(salt)
	n := len(pw)
	for ; n > size; n -= size {
		a.Write(bSum)
	}
	a.Write(bSum[:n])
	for n := len(pw); n > 0; n >>= 1 {
		if n&1 != 0 {
			a.Write(bSum)
		} else {
			a.Write(pw)
		}
	}
	aSum := a.Sum(nil)

	dp := newHash()
	for range len(pw) {
		dp.Write(pw)
	}
	p := repeatTo(dp.Sum(nil), len(pw))
	ds := newHash()
	for range 16 + int(aSum[0]) {
		ds.Write(salt)
	}
	s := repeatTo(ds.Sum(nil), len(salt))

	aSum = cryptRounds(newHash(), rounds, p, s, aSum)

	out := []byte(magic)
	if custom {
		out = append(append(append(out, "rounds="...), strconv.Itoa(rounds)...), '$')
	}
	out = append(append(out, salt...), '$')
	for i := 0; i < len(order); i += 3 {
		var v uint32
		k := 0
		for _, j := range order[i : i+3] {
			v <<= 8
			if j >= 0 {
				v |= uint32(aSum[j])
				k++
			}
		}
		out = to64(out, v, k+1)
	}
	return out
}

// repeatTo is sum repeated to n bytes.
func repeatTo(sum []byte, n int) []byte {
	out := make([]byte, 0, n)
	for len(out) < n {
		out = append(out, sum[:min(len(sum), n-len(out))]...)
	}
	return out
}

// cryptRounds is the stretching loop MD5-crypt and SHA-crypt share: round
// i hashes, by i's parity and divisibility by 3 and 7, the password bytes p,
// the salt bytes s and the previous digest sum, starting from sum. It
// returns the last digest, in sum's memory.
func cryptRounds(h hash.Hash, rounds int, p, s, sum []byte) []byte {
	for i := range rounds {
		h.Reset()
		if i&1 != 0 {
			h.Write(p)
		} else {
			h.Write(sum)
		}
		if i%3 != 0 {
			h.Write(s)
		}
		if i%7 != 0 {
			h.Write(p)
		}
		if i&1 != 0 {
			h.Write(sum)
		} else {
			h.Write(p)
		}
		sum = h.Sum(sum[:0])
	}
	return sum
}
