package access

// This file is the traditional crypt(3) of Unix V7 (DES crypt, what
// "htpasswd -d" and "openssl passwd -crypt" write): a 13-character entry,
// two salt characters and eleven of hash. The password's first eight
// characters, each shifted left one bit, are a DES key (FIPS 46-3) that
// encrypts a block of zeros 25 times; the 12-bit salt swaps bit i with bit
// i+24 of the expansion E's output in every round where its bit i is set.
// The 64 bits of the result, padded to 66, are written six at a time,
// most significant first, in crypt's alphabet.

// desIP is the initial permutation; FIPS 46-3's tables number bits from 1,
// the most significant first.
var desIP = [64]uint8{
	58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4,
	62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
	57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3,
	61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
}

// desE expands the 32-bit half block to 48 bits.
var desE = [48]uint8{
	32, 1, 2, 3, 4, 5, 4, 5, 6, 7, 8, 9,
	8, 9, 10, 11, 12, 13, 12, 13, 14, 15, 16, 17,
	16, 17, 18, 19, 20, 21, 20, 21, 22, 23, 24, 25,
	24, 25, 26, 27, 28, 29, 28, 29, 30, 31, 32, 1,
}

// desP permutes the S-boxes' 32 bits.
var desP = [32]uint8{
	16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10,
	2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25,
}

// desPC1 selects the key's 56 bits (parity bits left out).
var desPC1 = [56]uint8{
	57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18,
	10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36,
	63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22,
	14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
}

// desPC2 selects a round's 48 key bits from the two 28-bit halves.
var desPC2 = [48]uint8{
	14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10,
	23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2,
	41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48,
	44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
}

// desShifts are the left rotations of the key halves before each round.
var desShifts = [16]uint8{1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1}

// desS are the eight S-boxes, each four rows of sixteen.
var desS = [8][64]uint8{
	{14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7,
		0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8,
		4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0,
		15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13},
	{15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10,
		3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5,
		0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15,
		13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9},
	{10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8,
		13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1,
		13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7,
		1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12},
	{7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15,
		13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9,
		10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4,
		3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14},
	{2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9,
		14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6,
		4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14,
		11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3},
	{12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11,
		10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8,
		9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6,
		4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13},
	{4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1,
		13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6,
		1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2,
		6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12},
	{13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7,
		1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2,
		7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8,
		2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11},
}

// permute returns the bits of in (inBits wide) that table names, the
// first entry giving the result's most significant bit.
func permute(in uint64, inBits int, table []uint8) uint64 {
	var out uint64
	for _, b := range table {
		out = out<<1 | (in>>(inBits-int(b)))&1
	}
	return out
}

// desSubkeys is DES's key schedule: the sixteen 48-bit round keys.
func desSubkeys(key uint64) [16]uint64 {
	cd := permute(key, 64, desPC1[:])
	c, d := uint32(cd>>28), uint32(cd&0xfffffff)
	var ks [16]uint64
	for i, s := range desShifts {
		c = (c<<s | c>>(28-s)) & 0xfffffff
		d = (d<<s | d>>(28-s)) & 0xfffffff
		ks[i] = permute(uint64(c)<<28|uint64(d), 56, desPC2[:])
	}
	return ks
}

// desEncrypt encrypts block with the round keys ks, the salt's bits
// swapping bits of E's output (saltMask has bit 47-i set for salt bit i,
// in the left 24-bit half).
func desEncrypt(block uint64, ks *[16]uint64, saltMask uint64) uint64 {
	b := permute(block, 64, desIP[:])
	l, r := uint32(b>>32), uint32(b)
	for i := range 16 {
		e := permute(uint64(r), 32, desE[:])
		if saltMask != 0 {
			// Bits of the left half selected by the salt trade
			// places with the bits 24 to their right.
			swap := (e ^ e<<24) & saltMask
			e ^= swap | swap>>24
		}
		e ^= ks[i]
		var s uint64
		for j := range 8 {
			six := (e >> (42 - 6*j)) & 63
			row := (six>>4)&2 | six&1
			col := (six >> 1) & 15
			s = s<<4 | uint64(desS[j][row*16+col])
		}
		f := uint32(permute(s, 32, desP[:]))
		l, r = r, l^f
	}
	return permute(uint64(r)<<32|uint64(l), 64, desFP[:])
}

// desFP is the inverse of desIP.
var desFP = func() (fp [64]uint8) {
	for i, b := range desIP {
		fp[b-1] = uint8(i + 1)
	}
	return fp
}()

// cryptIndex is the value of a character of crypt's alphabet, -1 for
// any other.
func cryptIndex(c byte) int {
	switch {
	case c >= '.' && c <= '9':
		return int(c - '.')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 12
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 38
	}
	return -1
}

// isDESCrypt reports whether stored is a traditional crypt(3) entry:
// thirteen characters of crypt's alphabet.
func isDESCrypt(stored []byte) bool {
	if len(stored) != 13 {
		return false
	}
	for _, c := range stored {
		if cryptIndex(c) < 0 {
			return false
		}
	}
	return true
}

// desCrypt returns the entry crypt(3) makes of pw with the salt of
// stored, a 13-character entry (isDESCrypt).
func desCrypt(pw, stored []byte) []byte {
	salt := cryptIndex(stored[0]) | cryptIndex(stored[1])<<6
	var saltMask uint64
	for i := range 12 {
		if salt>>i&1 != 0 {
			saltMask |= 1 << (47 - i)
		}
	}
	var key uint64
	for i := 0; i < 8 && i < len(pw) && pw[i] != 0; i++ {
		key |= uint64(pw[i]<<1) << (56 - 8*i)
	}
	ks := desSubkeys(key)
	var block uint64
	for range 25 {
		block = desEncrypt(block, &ks, saltMask)
	}
	out := make([]byte, 0, 13)
	out = append(out, stored[0], stored[1])
	// 64 bits padded with two zero bits: six at a time.
	for i := range 10 {
		out = append(out, itoa64[(block>>(58-6*i))&63])
	}
	out = append(out, itoa64[(block&15)<<2])
	return out
}
