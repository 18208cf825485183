package vars

import (
	"regexp"
	"strings"

	"wsgate/internal/config"
	"wsgate/internal/geo"
)

// compiledMap is one map{} block (ngx_http_map_module).
type compiledMap struct {
	cfg    *config.Map
	index  int
	src    *Template
	exact  map[string]*mapValue // lower-cased keys
	wcHead map[string]*mapValue // hostnames: "*.x" and ".x" keyed ".x"
	wcTail map[string]*mapValue // hostnames: "x.*" keyed "x."
	regex  []mapRegex           // in file order
	def    *mapValue
	// geo and split, when set, make this a geo{} or split_clients{}
	// block (geo.go).
	geo   *geoVar
	split *geo.Split
}

type mapRegex struct {
	re     *regexp.Regexp
	names  []string
	groups bool
	val    *mapValue
}

// mapValue is a map's value: a constant, or a template evaluated at lookup.
type mapValue struct {
	s string
	t *Template // nil for a constant
}

func (m *compiledMap) compile(c *Compiler, errs *config.ErrorList) {
	cfg := m.cfg
	if cfg.Geo != nil && cfg.Source == "" {
		m.geo = compileGeo(cfg.Geo)
		return
	}
	src, err := c.Compile(cfg.Source)
	if err != nil {
		errs.Add(cfg.Pos, "compiling map source %q: %v", cfg.Source, err)
	}
	m.src = src
	switch {
	case cfg.Geo != nil:
		m.geo = compileGeo(cfg.Geo)
		return
	case cfg.Split != nil:
		m.split = compileSplit(cfg.Split)
		return
	}
	value := func(pos config.Pos, s string) *mapValue {
		t, err := c.Compile(s)
		if err != nil {
			errs.Add(pos, "compiling map value %q: %v", s, err)
			return &mapValue{s: s}
		}
		if t.IsConst() {
			return &mapValue{s: s}
		}
		return &mapValue{t: t}
	}
	m.def = value(cfg.Pos, cfg.Default)
	if cfg.Hostnames {
		m.wcHead = make(map[string]*mapValue)
		m.wcTail = make(map[string]*mapValue)
	}
	for _, e := range cfg.Entries {
		v := value(e.Pos, e.Value)
		if e.Regex {
			pat := e.Key
			if e.NoCase {
				pat = "(?i)" + pat
			}
			re, err := regexp.Compile(pat)
			if err != nil {
				errs.Add(e.Pos, "compiling map regex %q: %v", e.Key, err)
				continue
			}
			m.regex = append(m.regex, mapRegex{re: re, names: re.SubexpNames(), groups: re.NumSubexp() > 0, val: v})
			continue
		}
		key := lower(e.Key)
		table := m.exact
		if cfg.Hostnames {
			switch {
			case strings.HasPrefix(key, "*.") && len(key) > 2:
				key, table = key[1:], m.wcHead
			case strings.HasPrefix(key, ".") && len(key) > 1:
				// ".x" is "x" and "*.x" (ngx_hash_add_key, NGX_HASH_WILDCARD_KEY).
				if _, dup := m.exact[key[1:]]; !dup {
					m.exact[key[1:]] = v
				}
				table = m.wcHead
			case strings.HasSuffix(key, ".*") && len(key) > 2:
				key, table = key[:len(key)-1], m.wcTail
			}
		}
		if _, dup := table[key]; dup {
			errs.Add(e.Pos, "conflicting parameter %q", e.Key)
			continue
		}
		table[key] = v
	}
}

// value returns the map's value for c, evaluating it on first use and
// caching it in c unless the map is volatile (ngx_http_map_variable).
// A map that uses itself evaluates to "" inside the cycle.
func (m *compiledMap) value(cp *Compiler, c *Ctx) string {
	slot := c.slot(m.index, len(cp.maps))
	switch slot.state {
	case 2:
		return slot.val
	case 1:
		return "" // cycle while evaluating the variable
	}
	slot.state = 1
	v := m.eval(c)
	if m.cfg.Volatile {
		slot.state = 0
	} else {
		slot.state, slot.val = 2, v
	}
	return v
}

func (m *compiledMap) eval(c *Ctx) string {
	switch {
	case m.geo != nil:
		return m.geo.eval(m, c)
	case m.split != nil:
		if m.src == nil {
			return ""
		}
		return m.evalSplit(c)
	}
	if m.src == nil {
		return ""
	}
	mark := len(c.scratch)
	defer func() { c.scratch = c.scratch[:mark] }()
	if len(m.src.parts) == 1 {
		// A lone string variable (the usual $http_upgrade) is read in place.
		if s, _, ok := m.src.c.stringValue(c, &m.src.parts[0]); ok {
			if m.cfg.Hostnames && len(s) > 0 && s[len(s)-1] == '.' {
				s = s[:len(s)-1]
			}
			if !hasUpper(s) {
				if v := find(m, s); v != nil {
					return v.eval(c)
				}
				return m.matchRegex(c, s)
			}
			c.scratch = append(c.scratch, s...)
		}
	}
	if len(c.scratch) == mark {
		c.scratch = m.src.Append(c.scratch, c)
		if n := len(c.scratch); m.cfg.Hostnames && n > mark && c.scratch[n-1] == '.' {
			c.scratch = c.scratch[:n-1]
		}
	}
	// Keys are lower-case (ngx_hash_strlow); regexes see the original.
	n := len(c.scratch)
	c.scratch = append(c.scratch, c.scratch[mark:n]...)
	low := c.scratch[n:]
	for i, ch := range low {
		if ch >= 'A' && ch <= 'Z' {
			low[i] = ch | 0x20
		}
	}
	if v := find(m, low); v != nil {
		return v.eval(c)
	}
	if len(m.regex) == 0 || n == mark {
		return m.def.eval(c)
	}
	return m.matchRegex(c, string(c.scratch[mark:n]))
}

// matchRegex tries the regex keys in order on src (V:ngx_http_map_find:
// only when src is not empty), else returns the default.
func (m *compiledMap) matchRegex(c *Ctx, src string) string {
	if src != "" {
		for i := range m.regex {
			r := &m.regex[i]
			if !r.groups {
				if r.re.MatchString(src) {
					c.Captures = captures("", nil, nil)
					return r.val.eval(c)
				}
				continue
			}
			if idx := r.re.FindStringSubmatchIndex(src); idx != nil {
				// ngx_http_regex_exec: a map regex sets $1..$9 too.
				c.Captures = captures(src, idx, r.names)
				return r.val.eval(c)
			}
		}
	}
	return m.def.eval(c)
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// find looks low up among the string keys: exact, then with hostnames the
// longest "*.x" suffix and the longest "x.*" prefix (ngx_hash_find_combined).
func find[T string | []byte](m *compiledMap, low T) *mapValue {
	if v := m.exact[string(low)]; v != nil {
		return v
	}
	if m.wcHead == nil || len(low) == 0 {
		return nil
	}
	for i := 0; i < len(low); i++ {
		if low[i] == '.' {
			if v := m.wcHead[string(low[i:])]; v != nil {
				return v
			}
		}
	}
	for i := len(low) - 2; i >= 0; i-- {
		if low[i] == '.' {
			if v := m.wcTail[string(low[:i+1])]; v != nil {
				return v
			}
		}
	}
	return nil
}

func (v *mapValue) eval(c *Ctx) string {
	if v.t == nil {
		return v.s
	}
	return string(v.t.Append(nil, c))
}

func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if ch := s[i]; ch >= 'A' && ch <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] |= 0x20
				}
			}
			return string(b)
		}
	}
	return s
}
