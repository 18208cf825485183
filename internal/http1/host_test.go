package http1

import "testing"

// validateHostRef is ngx_http_validate_host written as nginx's switch,
// byte by byte: the reference ValidateHost's table must agree with.
func validateHostRef(h []byte) (int, bool) {
	const (
		usual = iota
		literal
		rest
	)
	state := usual
	dotPos, hostLen := -2, len(h)
	for i, ch := range h {
		switch ch {
		case '.':
			if dotPos == i-1 {
				return 0, false
			}
			dotPos = i
		case ':':
			if state == usual {
				hostLen = i
				state = rest
			}
		case '[':
			if i == 0 {
				state = literal
			}
		case ']':
			if state == literal {
				hostLen = i + 1
				state = rest
			}
		default:
			if ch == '/' || ch <= 0x20 || ch == 0x7f {
				return 0, false
			}
		}
	}
	if dotPos == hostLen-1 {
		hostLen--
	}
	if hostLen <= 0 {
		return 0, false
	}
	return hostLen, true
}

func TestValidateHost(t *testing.T) {
	hosts := []string{
		"example.com", "Example.COM.", "example.com:8080", "a..b", ".", "..", "a.", "[::1]", "[::1]:80",
		"[::1].", "a:b:c", "a]b", "[a", "x/y", "a b", "\x7f", "\x80\xff.example", ":80", "[]", "a.:1", "",
	}
	for c := 0; c < 256; c++ {
		for _, f := range []string{"a%cb", "%c", "[%c]:1", "a.%c", "%c.a"} {
			hosts = append(hosts, string(sprintfByte(f, byte(c))))
		}
	}
	for _, h := range hosts {
		n, ok := ValidateHost([]byte(h))
		wn, wok := validateHostRef([]byte(h))
		if n != wn || ok != wok {
			t.Errorf("ValidateHost(%q) = %d, %v; want %d, %v", h, n, ok, wn, wok)
		}
	}
}

// sprintfByte puts c where f has "%c" (any byte, unlike fmt's rune).
func sprintfByte(f string, c byte) []byte {
	var b []byte
	for i := 0; i < len(f); i++ {
		if f[i] == '%' && i+1 < len(f) && f[i+1] == 'c' {
			b = append(b, c)
			i++
			continue
		}
		b = append(b, f[i])
	}
	return b
}
