package snapshot

import (
	"bytes"
	"fmt"
	"regexp"

	"wsgate/internal/config"
)

// This file rewrites the Set-Cookie lines of proxied responses as
// ngx_http_proxy_rewrite_cookie does (proxy_cookie_domain,
// proxy_cookie_path, proxy_cookie_flags): the value is split into
// attributes at ';' (spaces around names and values trimmed), the Domain
// and Path attributes go through the first rule that matches them, the
// first flags rule that matches the cookie's name edits Secure, HttpOnly
// and SameSite, and a value anything changed is written again as
// "name=value; Attr=value; Flag". One nothing changed is sent as it came.

// cookiePlan is one location's Set-Cookie rewriting; nil when the
// location has none.
type cookiePlan struct {
	domains, paths []cookieRule
	flags          []cookieFlagRule
}

// cookieRule is one proxy_cookie_domain or proxy_cookie_path rule
// (ngx_http_proxy_rewrite_t with its handler).
type cookieRule struct {
	domain   bool // ngx_http_proxy_rewrite_domain_handler: the whole value, case-insensitive, after a leading '.'
	from     Template
	re       *regexp.Regexp // ngx_http_proxy_rewrite_regex_handler: the whole value replaced
	to       Template
	reParts  []replPart // a regex rule's replacement
	constTo  []byte
	constSet bool
}

// cookieFlagRule is one proxy_cookie_flags line.
type cookieFlagRule struct {
	re     *regexp.Regexp // matched against the cookie's name
	name   Template       // else the name, compared case-insensitively
	flags  []Template     // evaluated per response when not constant
	consts cookieFlag     // the constant flags' mask
}

// cookieFlag is ngx_http_proxy_cookie_flags_masks' bits.
type cookieFlag uint8

const (
	flagSecureOn cookieFlag = 1 << iota
	flagSecureOff
	flagHTTPOnlyOn
	flagHTTPOnlyOff
	flagSameSiteStrict
	flagSameSiteLax
	flagSameSiteNone
	flagSameSiteOff

	flagSameSite = flagSameSiteStrict | flagSameSiteLax | flagSameSiteNone
)

var cookieFlagMasks = [...]struct {
	name string
	mask cookieFlag
}{
	{"secure", flagSecureOn}, {"nosecure", flagSecureOff},
	{"httponly", flagHTTPOnlyOn}, {"nohttponly", flagHTTPOnlyOff},
	{"samesite=strict", flagSameSiteStrict}, {"samesite=lax", flagSameSiteLax},
	{"samesite=none", flagSameSiteNone}, {"nosamesite", flagSameSiteOff},
}

// flagMask is the mask v names, 0 for none.
func flagMask(v []byte) cookieFlag {
	for _, m := range cookieFlagMasks {
		if len(v) == len(m.name) && equalFoldLower(v, m.name) {
			return m.mask
		}
	}
	return 0
}

// newCookiePlan compiles pc; nil when it configures nothing.
func newCookiePlan(pc *config.ProxyCookies, compile CompileFunc) (*cookiePlan, error) {
	if !pc.Any() {
		return nil, nil
	}
	p := &cookiePlan{}
	for _, set := range []struct {
		rules  []config.CookieRewrite
		domain bool
		out    *[]cookieRule
		name   string
	}{{pc.Domains, true, &p.domains, "proxy_cookie_domain"}, {pc.Paths, false, &p.paths, "proxy_cookie_path"}} {
		for _, r := range set.rules {
			cr, err := compileCookieRule(r, set.domain, compile)
			if err != nil {
				return nil, &config.Error{Pos: r.Pos, Msg: fmt.Sprintf("%s: %v", set.name, err)}
			}
			*set.out = append(*set.out, cr)
		}
	}
	for _, r := range pc.Flags {
		fr := cookieFlagRule{}
		var err error
		if r.Regex {
			fr.re, err = regexp.Compile("(?i)" + r.Cookie)
		} else {
			fr.name, err = compile(r.Cookie)
		}
		if err != nil {
			return nil, &config.Error{Pos: r.Pos, Msg: fmt.Sprintf("proxy_cookie_flags: %v", err)}
		}
		for _, f := range r.Flags {
			t, err := compile(f)
			if err != nil {
				return nil, &config.Error{Pos: r.Pos, Msg: fmt.Sprintf("proxy_cookie_flags: %v", err)}
			}
			if t.IsConst() {
				fr.consts |= flagMask(t.Append(nil, &EvalCtx{}))
				continue
			}
			fr.flags = append(fr.flags, t)
		}
		p.flags = append(p.flags, fr)
	}
	return p, nil
}

func compileCookieRule(r config.CookieRewrite, domain bool, compile CompileFunc) (cookieRule, error) {
	cr := cookieRule{domain: domain && !r.Regex}
	if r.Regex {
		pat := r.From
		if r.NoCase {
			pat = "(?i)" + pat
		}
		re, err := regexp.Compile(pat)
		if err != nil {
			return cr, err
		}
		cr.re = re
		cr.reParts, err = splitReplacement(r.To, re)
		return cr, err
	}
	var err error
	if cr.from, err = compile(r.From); err != nil {
		return cr, err
	}
	if cr.to, err = compile(r.To); err != nil {
		return cr, err
	}
	if cr.to.IsConst() {
		cr.constTo, cr.constSet = cr.to.Append(nil, &EvalCtx{}), true
	}
	return cr, nil
}

// cookieAttr is one attribute of a Set-Cookie value (ngx_keyval_t):
// val is nil for an attribute without '='.
type cookieAttr struct {
	key, val []byte
	removed  bool
}

// parseCookie is ngx_http_proxy_parse_cookie.
func parseCookie(v []byte, attrs []cookieAttr) []cookieAttr {
	for {
		last := bytes.IndexByte(v, ';')
		part := v
		if last >= 0 {
			part = v[:last]
		}
		for len(part) > 0 && part[0] == ' ' {
			part = part[1:]
		}
		a := cookieAttr{key: part}
		if eq := bytes.IndexByte(part, '='); eq >= 0 {
			a.key = part[:eq]
			val := part[eq+1:]
			for len(val) > 0 && val[0] == ' ' {
				val = val[1:]
			}
			a.val = bytes.TrimRight(val, " ")
			if a.val == nil {
				a.val = val[:0:0]
			}
		}
		a.key = bytes.TrimRight(a.key, " ")
		attrs = append(attrs, a)
		if last < 0 {
			return attrs
		}
		v = v[last+1:]
	}
}

// appendCookie appends the Set-Cookie value v as p rewrites it, or as it
// is when nothing changes.
func (p *cookiePlan) appendCookie(dst, v []byte, c *EvalCtx) []byte {
	var buf [8]cookieAttr
	attrs := parseCookie(v, buf[:0])
	if attrs[0].val == nil {
		return append(dst, v...)
	}
	changed := false
	for i := 1; i < len(attrs); i++ {
		a := &attrs[i]
		if a.val == nil {
			continue
		}
		var rules []cookieRule
		switch {
		case len(a.key) == 6 && equalFoldLower(a.key, "domain"):
			rules = p.domains
		case len(a.key) == 4 && equalFoldLower(a.key, "path"):
			rules = p.paths
		}
		for j := range rules {
			if nv, ok := rules[j].rewrite(a.val, c); ok {
				a.val, changed = nv, true
				break
			}
		}
	}
	if f := p.flagsFor(attrs[0].key, c); f != 0 {
		attrs = editCookieFlags(attrs, f)
		changed = true
	}
	if !changed {
		return append(dst, v...)
	}
	for i, a := range attrs {
		if a.removed {
			continue
		}
		if i > 0 {
			dst = append(dst, "; "...)
		}
		dst = append(dst, a.key...)
		if a.val != nil {
			dst = append(dst, '=')
			dst = append(dst, a.val...)
		}
	}
	return dst
}

// rewrite applies one rule to an attribute's value: the new value, or
// ok=false when the rule does not match.
func (r *cookieRule) rewrite(v []byte, c *EvalCtx) ([]byte, bool) {
	if r.re != nil {
		m := r.re.FindSubmatchIndex(v)
		if m == nil {
			return nil, false
		}
		var out []byte
		for _, part := range r.reParts {
			if part.group < 0 {
				out = append(out, part.lit...)
			} else if 2*part.group+1 < len(m) && m[2*part.group] >= 0 {
				out = append(out, v[m[2*part.group]:m[2*part.group+1]]...)
			}
		}
		return nonNil(out), true
	}
	from := r.from.Append(nil, c)
	prefix := 0
	if r.domain {
		if len(v) > 0 && v[0] == '.' {
			prefix = 1
		}
		if len(from) != len(v)-prefix || !bytes.EqualFold(from, v[prefix:]) {
			return nil, false
		}
	} else if len(from) > len(v) || !bytes.Equal(from, v[:len(from)]) {
		return nil, false
	}
	out := append([]byte{}, v[:prefix]...)
	if r.constSet {
		out = append(out, r.constTo...)
	} else {
		out = r.to.Append(out, c)
	}
	if !r.domain {
		out = append(out, v[len(from):]...)
	}
	return out, true
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// flagsFor is ngx_http_proxy_rewrite_cookie_flags' choice: the flags of
// the first rule whose cookie matches name, 0 for none.
func (p *cookiePlan) flagsFor(name []byte, c *EvalCtx) cookieFlag {
	for i := range p.flags {
		r := &p.flags[i]
		if r.re != nil {
			if !r.re.Match(name) {
				continue
			}
		} else if n := r.name.Append(nil, c); !bytes.EqualFold(n, name) {
			continue
		}
		f := r.consts
		for _, t := range r.flags {
			f |= flagMask(t.Append(nil, c))
		}
		return f
	}
	return 0
}

// editCookieFlags is ngx_http_proxy_edit_cookie_flags.
func editCookieFlags(attrs []cookieAttr, f cookieFlag) []cookieAttr {
	for i := 1; i < len(attrs); i++ {
		a := &attrs[i]
		switch {
		case len(a.key) == 6 && equalFoldLower(a.key, "secure"):
			if f&flagSecureOn != 0 {
				f &^= flagSecureOn
			} else if f&flagSecureOff != 0 {
				a.removed = true
			}
		case len(a.key) == 8 && equalFoldLower(a.key, "httponly"):
			if f&flagHTTPOnlyOn != 0 {
				f &^= flagHTTPOnlyOn
			} else if f&flagHTTPOnlyOff != 0 {
				a.removed = true
			}
		case len(a.key) == 8 && equalFoldLower(a.key, "samesite"):
			want := ""
			switch {
			case f&flagSameSiteStrict != 0:
				want, f = "Strict", f&^flagSameSiteStrict
			case f&flagSameSiteLax != 0:
				want, f = "Lax", f&^flagSameSiteLax
			case f&flagSameSiteNone != 0:
				want, f = "None", f&^flagSameSiteNone
			case f&flagSameSiteOff != 0:
				a.removed = true
			}
			if want != "" && !bytes.EqualFold(a.val, []byte(want)) {
				a.key, a.val = []byte("SameSite"), []byte(want)
			}
		}
	}
	if f&flagSecureOn != 0 {
		attrs = append(attrs, cookieAttr{key: []byte("Secure")})
	}
	if f&flagHTTPOnlyOn != 0 {
		attrs = append(attrs, cookieAttr{key: []byte("HttpOnly")})
	}
	if f&flagSameSite != 0 {
		v := "None"
		switch {
		case f&flagSameSiteStrict != 0:
			v = "Strict"
		case f&flagSameSiteLax != 0:
			v = "Lax"
		}
		attrs = append(attrs, cookieAttr{key: []byte("SameSite"), val: []byte(v)})
	}
	return attrs
}
