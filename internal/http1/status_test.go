package http1

import (
	"strconv"
	"strings"
	"testing"
)

const (
	chromeUA  = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
	firefoxUA = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
)

func TestWantsPadding(t *testing.T) {
	tests := map[string]bool{
		chromeUA:  true,
		firefoxUA: false,
		"Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)": true,
		"Opera/9.80 (MSIE 6.0)":                              false,
		"curl/8.0":                                           false,
		"":                                                   false,
	}
	for ua, want := range tests {
		if got := WantsPadding([]byte(ua)); got != want {
			t.Errorf("WantsPadding(%q) got %v; want %v", ua, got, want)
		}
	}
}

func TestAppendErrorPadding(t *testing.T) {
	for _, tc := range []struct {
		code int
		want bool
	}{{301, false}, {204, false}, {426, false}, {400, true}, {404, true}, {StatusRequestHeaderTooLarge, true}, {502, true}, {504, true}} {
		t.Run(strconv.Itoa(tc.code), func(t *testing.T) {
			got := string(AppendErrorPadding([]byte("x"), tc.code))
			want := "x"
			if tc.want {
				want += errorPagePadding
			}
			if got != want {
				t.Errorf("got %q; want %q", got, want)
			}
		})
	}
}

// TestServeErrorPadding checks WriteError on the wire: nginx pads 4xx and
// 5xx pages for MSIE and Chrome clients of HTTP/1.0 and later.
func TestServeErrorPadding(t *testing.T) {
	addr, _ := startServer(t, DefaultConnConfig(), func(w *ResponseWriter, r *Request) {
		code, _ := strconv.Atoi(strings.TrimPrefix(string(r.Path), "/"))
		w.WriteError(code)
	})
	page504 := "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n" +
		"<hr><center>wsgate</center>\r\n</body>\r\n</html>\r\n"
	tests := []struct {
		name, path, proto, ua string
		padded                bool
		noHost                bool // a head error: 400 before the handler
	}{
		{"chrome 504", "/504", "HTTP/1.1", chromeUA, true, false},
		{"chrome http/1.0 404", "/404", "HTTP/1.0", chromeUA, true, false},
		{"msie 502", "/502", "HTTP/1.1", "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)", true, false},
		{"firefox 504", "/504", "HTTP/1.1", firefoxUA, false, false},
		{"no user agent 504", "/504", "HTTP/1.1", "", false, false},
		{"chrome 301", "/301", "HTTP/1.1", chromeUA, false, false},
		{"chrome head error", "/200", "HTTP/1.1", chromeUA, true, true},
		{"firefox head error", "/200", "HTTP/1.1", firefoxUA, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := "GET " + tc.path + " " + tc.proto + "\r\nConnection: close\r\n"
			if !tc.noHost {
				raw += "Host: a\r\n"
			}
			if tc.ua != "" {
				raw += "User-Agent: " + tc.ua + "\r\n"
			}
			out := roundTrip(t, addr, raw+"\r\n", false)
			_, body, ok := strings.Cut(out, "\r\n\r\n")
			if !ok {
				t.Fatalf("got no complete head in %q", out)
			}
			if got := strings.HasSuffix(body, errorPagePadding); got != tc.padded {
				t.Errorf("got padded %v; want %v\n%s", got, tc.padded, out)
			}
			if tc.noHost && !strings.HasPrefix(out, "HTTP/1.1 400 ") {
				t.Errorf("got %q; want a 400", out)
			}
			if !strings.Contains(out, "\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n") {
				t.Errorf("got no Content-Length %d in %q", len(body), out)
			}
			if tc.path == "/504" && tc.padded {
				// nginx 1.22.1's padded 504 with "wsgate" for "nginx/1.22.1".
				if want := page504 + errorPagePadding; body != want || len(body) != 563 {
					t.Errorf("got body %q (%d bytes); want %q (563 bytes)", body, len(body), want)
				}
			}
		})
	}
}

// TestAppendStatusLine pins the one status table against nginx 1.22's
// ngx_http_status_lines: no text for 1xx, for 494 or for codes the table
// leaves empty (426), and a zero-padded code below 100.
func TestAppendStatusLine(t *testing.T) {
	for _, tc := range []struct {
		code int
		want string
	}{
		{100, "100 "}, {101, "101 "}, {200, "200 OK"}, {302, "302 Moved Temporarily"},
		{405, "405 Not Allowed"}, {426, "426 "}, {494, "494 "}, {499, "499 "},
		{503, "503 Service Temporarily Unavailable"}, {504, "504 Gateway Time-out"},
		{599, "599 "}, {5, "005 "}, {42, "042 "},
	} {
		t.Run(strconv.Itoa(tc.code), func(t *testing.T) {
			if got := string(AppendStatusLine(nil, tc.code)); got != tc.want {
				t.Errorf("got %q; want %q", got, tc.want)
			}
		})
	}
}

// TestServeStatusLine checks the status line of responses the server
// makes itself, as nginx 1.22.1 sends them ("return 101 x" is
// "HTTP/1.1 101 ", "return 494" is nginx's 400 page).
func TestServeStatusLine(t *testing.T) {
	addr, _ := startServer(t, DefaultConnConfig(), func(w *ResponseWriter, r *Request) {
		code, _ := strconv.Atoi(strings.TrimPrefix(string(r.Path), "/"))
		if r.Header("X-Page") != nil {
			w.WriteError(code)
			return
		}
		w.WriteHeader(code, "", 0)
	})
	for _, tc := range []struct {
		name, path string
		page       bool
		want       string
	}{
		{"101", "/101", false, "HTTP/1.1 101 \r\n"},
		{"426", "/426", false, "HTTP/1.1 426 \r\n"},
		{"494", "/494", false, "HTTP/1.1 494 \r\n"},
		{"404", "/404", false, "HTTP/1.1 404 Not Found\r\n"},
		{"494 page", "/494", true, "HTTP/1.1 400 Bad Request\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := "GET " + tc.path + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
			if tc.page {
				raw += "X-Page: 1\r\n"
			}
			out := roundTrip(t, addr, raw+"\r\n", false)
			if !strings.HasPrefix(out, tc.want) {
				t.Errorf("got %q; want it to start with %q", out, tc.want)
			}
		})
	}
}
