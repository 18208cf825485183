package geo

// MurmurHash2 is ngx_murmur_hash2, which split_clients hashes its string
// with (seed 0, the length mixed in first, little-endian words).
func MurmurHash2(data []byte) uint32 {
	const m = 0x5bd1e995
	h := uint32(len(data))
	for len(data) >= 4 {
		k := uint32(data[0]) | uint32(data[1])<<8 | uint32(data[2])<<16 | uint32(data[3])<<24
		k *= m
		k ^= k >> 24
		k *= m
		h *= m
		h ^= k
		data = data[4:]
	}
	switch len(data) {
	case 3:
		h ^= uint32(data[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(data[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(data[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}

// ParsePercent is ngx_atofp(s without its "%", 2): a percentage with at
// most two decimals, in hundredths ("0.5%" is 50). ok is false for
// anything else and for 0 (nginx's "invalid percent value"); a total
// above 100% is NewSplit's error.
func ParsePercent(s string) (hundredths uint32, ok bool) {
	if len(s) < 2 || s[len(s)-1] != '%' {
		return 0, false
	}
	s = s[:len(s)-1]
	point, dot := 2, false
	var v uint64
	for i := 0; i < len(s); i++ {
		if point == 0 {
			return 0, false
		}
		c := s[i]
		if c == '.' {
			if dot {
				return 0, false
			}
			dot = true
			continue
		}
		if c < '0' || c > '9' {
			return 0, false
		}
		if v = v*10 + uint64(c-'0'); v > 1<<40 {
			return 0, false
		}
		if dot {
			point--
		}
	}
	for ; point > 0; point-- {
		v *= 10
	}
	if v == 0 || v > 1<<32-1 {
		return 0, false
	}
	return uint32(v), true
}

// Split is a split_clients{} block's parts, compiled
// (ngx_conf_split_clients_block): each part's upper bound on the hash.
type Split struct {
	bound  []uint32 // 0: "*", every hash
	values []string
}

// NewSplit compiles the parts, percentages in hundredths of a percent
// (0 for "*"), in file order. The error is nginx's when the total
// passes 100% (also for a part after "*").
func NewSplit(percents []uint32, values []string) (*Split, error) {
	sp := &Split{values: values}
	var sum, last uint32
	for _, p := range percents {
		if p == 0 {
			sum = 10000
		} else {
			sum += p
		}
		if sum > 10000 {
			return nil, errPercentTotal
		}
		b := uint32(0)
		if p != 0 {
			last += uint32(uint64(p) * 0xffffffff / 10000)
			b = last
		}
		sp.bound = append(sp.bound, b)
	}
	return sp, nil
}

type splitError string

func (e splitError) Error() string { return string(e) }

const errPercentTotal = splitError("percent total is greater than 100%")

// Pick is ngx_http_split_clients_variable: the value of the first part
// whose bound is above the hash of s, or "*"'s; "" when the parts add up
// to less than 100% and none took it.
func (sp *Split) Pick(s []byte) string {
	h := MurmurHash2(s)
	for i, b := range sp.bound {
		if h < b || b == 0 {
			return sp.values[i]
		}
	}
	return ""
}
