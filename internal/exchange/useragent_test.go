package exchange

import "testing"

// TestBrowsers: the User-Agents ngx_http_process_user_agent marks msie6
// or safari.
func TestBrowsers(t *testing.T) {
	tests := []struct {
		ua            string
		msie6, safari bool
	}{
		{"Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)", true, false},
		{"Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)", false, false},
		{"Mozilla/4.0 (compatible; MSIE 5.5; Windows 98)", true, false},
		{"Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.0)", false, false},
		{"Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1) Opera 8.0", false, false},
		{"MSIE 6.", false, false}, // nothing behind the version's dot
		{"MSIE 6.0", true, false},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15", false, true},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36", false, false},
		{"Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 (KHTML, like Gecko) Safari/537.36", false, false},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:120.0) Gecko/20100101 Firefox/120.0", false, false},
		{"mozilla/4.0 (compatible; msie 6.0; windows nt 5.1)", false, false}, // nginx matches case
		{"curl/8.0", false, false},
	}
	for _, tt := range tests {
		if got := MSIE6(tt.ua); got != tt.msie6 {
			t.Errorf("MSIE6(%q) = %v; want %v", tt.ua, got, tt.msie6)
		}
		if got := Safari(tt.ua); got != tt.safari {
			t.Errorf("Safari(%q) = %v; want %v", tt.ua, got, tt.safari)
		}
	}
}
