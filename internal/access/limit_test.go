package access

import (
	"testing"

	"wsgate/internal/config"
)

// TestLimitApplies pins which methods limit_except's block checks: all
// but those it names, unknown and lower-case ones included.
func TestLimitApplies(t *testing.T) {
	var errs config.ErrorList
	l := CompileLimit(&config.LimitExcept{Methods: []string{"GET", "POST", "HEAD"}, Conf: &config.LocConf{}}, nil, "", &errs)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	tests := []struct {
		method string
		want   bool
	}{
		{"GET", false}, {"HEAD", false}, {"POST", false},
		{"PUT", true}, {"DELETE", true}, {"OPTIONS", true}, {"FOO", true}, {"get", true},
	}
	for _, tt := range tests {
		if got := l.Applies([]byte(tt.method)); got != tt.want {
			t.Errorf("Applies(%s) = %v; want %v", tt.method, got, tt.want)
		}
	}
}
