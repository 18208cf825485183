package config

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Value syntax shared by many directives: times, sizes, flags and numbers,
// parsed as nginx's core parsers do (core/ngx_parse.c, core/ngx_conf_file.c).

// timeUnit is one unit of nginx's time syntax, largest first. Each unit may
// appear at most once and only after larger ones (ngx_parse_time's step).
type timeUnit struct {
	suffix string
	d      time.Duration
}

var timeUnits = [...]timeUnit{
	{"y", 365 * 24 * time.Hour},
	{"M", 30 * 24 * time.Hour},
	{"w", 7 * 24 * time.Hour},
	{"d", 24 * time.Hour},
	{"h", time.Hour},
	{"ms", time.Millisecond},
	{"m", time.Minute},
	{"s", time.Second},
}

// unitRank orders units for the "larger first" rule; ms is the smallest.
func unitRank(suffix string) int {
	switch suffix {
	case "y":
		return 0
	case "M":
		return 1
	case "w":
		return 2
	case "d":
		return 3
	case "h":
		return 4
	case "m":
		return 5
	case "s":
		return 6
	case "ms":
		return 7
	}
	return -1
}

// ParseTime parses nginx's time syntax (ngx_parse_time): components such as
// "1h", "30m", "500ms" separated by optional spaces ("1h 30m", "1h30m"),
// units y M w d h m s ms in decreasing order, each once; a bare number is
// seconds. With sec (ngx_conf_set_sec_slot directives) the value is counted
// in seconds, "ms" is refused and the limit is 2^31-1 seconds; otherwise
// (ngx_conf_set_msec_slot) "y" and "M" are refused and the limit is 2^31-1
// milliseconds. ok is false for anything else.
func ParseTime(s string, sec bool) (d time.Duration, ok bool) {
	if s == "" {
		return 0, false
	}
	limit := time.Duration(math.MaxInt32) * time.Millisecond
	if sec {
		limit = time.Duration(math.MaxInt32) * time.Second
	}
	last := -1
	var total time.Duration
	for i := 0; i < len(s); {
		if s[i] == ' ' {
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i || j-i > 10 {
			return 0, false
		}
		n, err := strconv.ParseInt(s[i:j], 10, 64)
		if err != nil {
			return 0, false
		}
		unit := time.Second
		rank := 8 // a bare number ends the value
		k := j
		if j < len(s) && s[j] != ' ' {
			matched := false
			for _, u := range timeUnits {
				if strings.HasPrefix(s[j:], u.suffix) {
					unit, rank, k, matched = u.d, unitRank(u.suffix), j+len(u.suffix), true
					break
				}
			}
			if !matched {
				return 0, false
			}
			if sec && rank == 7 || !sec && rank <= 1 {
				return 0, false
			}
		} else if k < len(s) && strings.TrimLeft(s[k:], " ") != "" {
			return 0, false // a bare number must be the last component
		}
		if rank <= last {
			return 0, false
		}
		last = rank
		if time.Duration(n) > limit/unit {
			return 0, false
		}
		total += time.Duration(n) * unit
		if total > limit {
			return 0, false
		}
		i = k
	}
	if last < 0 {
		return 0, false
	}
	return total, true
}

// ParseSize parses nginx's size syntax (ngx_parse_size, ngx_parse_offset):
// a decimal number of bytes optionally followed by k/K (KiB), m/M (MiB) or
// g/G (GiB). ok is false for anything else or on overflow.
func ParseSize(s string) (n int64, ok bool) {
	if s == "" {
		return 0, false
	}
	scale := int64(1)
	switch s[len(s)-1] {
	case 'k', 'K':
		scale = 1 << 10
	case 'm', 'M':
		scale = 1 << 20
	case 'g', 'G':
		scale = 1 << 30
	}
	if scale != 1 {
		s = s[:len(s)-1]
	}
	v, ok := parseNumber(s)
	if !ok || v > math.MaxInt64/scale {
		return 0, false
	}
	return v * scale, true
}

// parseNumber parses a non-negative decimal integer (ngx_atoi): digits only,
// no sign, no spaces.
func parseNumber(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var v int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// ParseFlag parses "on" or "off" (ngx_conf_set_flag_slot; case-insensitive
// as nginx compares with ngx_strcasecmp).
func ParseFlag(s string) (on, ok bool) {
	switch strings.ToLower(s) {
	case "on":
		return true, true
	case "off":
		return false, true
	}
	return false, false
}

// formatDuration renders a duration in nginx's own syntax, largest units
// first ("1h30m", "500ms", "0s"), for dumps.
func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	if d%time.Second == 0 && d < time.Hour && d > 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s" // "75s" reads as nginx docs write it
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	for _, u := range [...]timeUnit{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}, {"ms", time.Millisecond}} {
		if d >= u.d {
			b.WriteString(strconv.FormatInt(int64(d/u.d), 10))
			b.WriteString(u.suffix)
			d %= u.d
		}
	}
	if d > 0 {
		b.WriteString(d.String())
	}
	return b.String()
}
