package snapshot

import (
	"testing"
	"time"

	"wsgate/internal/config"
)

// TestSessionCache checks the server-side session cache: an identity
// resumes once, an expired one not at all, the oldest goes when the cache
// is full, and the sizes ssl_session_cache names.
func TestSessionCache(t *testing.T) {
	c := &sessionCache{max: 2, m: map[string]cachedSession{}}
	later := time.Now().Add(time.Hour)
	c.put("a", []byte("A"), later)
	if got := c.take("a"); string(got) != "A" {
		t.Fatalf("take a: %q", got)
	}
	if got := c.take("a"); got != nil {
		t.Errorf("a resumed twice")
	}
	c.put("old", []byte("O"), time.Now().Add(-time.Second))
	if got := c.take("old"); got != nil {
		t.Errorf("an expired session resumed")
	}
	c.put("b", []byte("B"), later)
	c.put("c", []byte("C"), later)
	c.put("d", []byte("D"), later)
	if c.take("b") != nil || c.take("c") == nil || c.take("d") == nil {
		t.Errorf("a full cache did not drop its oldest")
	}
	for i := 0; i < 1000; i++ {
		c.put("x", nil, later)
		c.take("x")
	}
	if len(c.order) > 2*c.max+17 {
		t.Errorf("identities resumed pile up: %d", len(c.order))
	}

	for _, tc := range []struct {
		conf string
		max  int // 0: no cache
	}{
		{"off", 0}, {"none", 0}, {"builtin", builtinSessions}, {"builtin:1000", 1000},
		{"shared:T1:1m", 4000}, {"builtin:10 shared:T2:2m", 8000},
	} {
		sc := sessionCacheFor(&config.TLSConf{SessionCache: tc.conf})
		if got := 0; sc != nil {
			got = sc.max
			if got != tc.max {
				t.Errorf("%q: %d sessions; want %d", tc.conf, got, tc.max)
			}
		} else if tc.max != 0 {
			t.Errorf("%q: no cache; want %d sessions", tc.conf, tc.max)
		}
	}
}
