package config

import (
	"strings"
	"testing"
)

// TestWSMetricsStatus: ws_metrics and ws_status are a server's or a
// location's content handler, take no argument and are not inherited by
// nested locations, as stub_status.
func TestWSMetricsStatus(t *testing.T) {
	tests := []struct {
		desc, conf string
		err        string // substring of the one error; "" for none
	}{
		{desc: "metrics in a location", conf: "server { location /m { ws_metrics; } }"},
		{desc: "status in a location", conf: "server { location /s { ws_status; } }"},
		{desc: "metrics at server level", conf: "server { ws_metrics; }"},
		{desc: "metrics in http", conf: "ws_metrics;", err: `"ws_metrics" directive is not allowed here`},
		{desc: "status with an argument", conf: "server { location /s { ws_status on; } }", err: `invalid number of arguments in "ws_status" directive`},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			ast, errs := parse("test.conf", []byte(tt.conf), ParseOptions{})
			if len(errs) > 0 {
				t.Fatalf("parsing: %v", errs)
			}
			_, errs = Check(ast)
			switch {
			case tt.err == "" && len(errs) > 0:
				t.Fatalf("got errors %v; want none", errs)
			case tt.err != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), tt.err)):
				t.Fatalf("got errors %v; want one saying %q", errs, tt.err)
			}
		})
	}

	s := checkText(t, "server { location /m { ws_metrics; location /m/x { } } location /s { ws_status; location /s/x { } } }")
	locs := s.HTTP.Servers[0].Locations
	m, st := locs[0], locs[1]
	if !m.Conf.WSMetrics || m.Conf.WSStatus || !st.Conf.WSStatus || st.Conf.WSMetrics {
		t.Errorf("got metrics %v/%v, status %v/%v; want each on its own location", m.Conf.WSMetrics, m.Conf.WSStatus, st.Conf.WSStatus, st.Conf.WSMetrics)
	}
	if m.Locations[0].Conf.WSMetrics || st.Locations[0].Conf.WSStatus {
		t.Error("a nested location inherited ws_metrics or ws_status")
	}
}
