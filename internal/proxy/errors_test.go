package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

	"wsgate/internal/config"
)

func TestStatusFor(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
		next config.NextUpstream
	}{
		{"refused", &UpstreamError{Kind: KindConnect, Peer: "127.0.0.1:1", Err: syscall.ECONNREFUSED}, 502, config.NextError},
		{"connect timeout", &UpstreamError{Kind: KindConnectTimeout, Err: os.ErrDeadlineExceeded}, 504, config.NextTimeout},
		{"read timeout", &UpstreamError{Kind: KindReadTimeout}, 504, config.NextTimeout},
		{"send timeout", &UpstreamError{Kind: KindSendTimeout}, 504, config.NextTimeout},
		{"premature close", &UpstreamError{Kind: KindPrematureClose}, 502, config.NextError},
		{"invalid header", &UpstreamError{Kind: KindInvalidHeader}, 502, config.NextInvalidHeader},
		{"too big header", &UpstreamError{Kind: KindTooBigHeader}, 502, config.NextInvalidHeader},
		{"no live", &UpstreamError{Kind: KindNoLive}, 502, 0},
		{"resolve", &UpstreamError{Kind: KindResolve}, 502, 0},
		{"bad url", &UpstreamError{Kind: KindBadURL, Err: ErrZeroLengthURI}, 500, 0},
		{"client gone", fmt.Errorf("reading request: %w", ErrClientGone), 499, 0},
		{"canceled", context.Canceled, 499, 0},
		{"wrapped upstream error", fmt.Errorf("proxying: %w", &UpstreamError{Kind: KindReadTimeout}), 504, config.NextTimeout},
		{"bare deadline", os.ErrDeadlineExceeded, 504, config.NextTimeout},
		{"bare net error", &net.OpError{Op: "dial", Err: syscall.ECONNRESET}, 502, config.NextError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := StatusFor(tc.err); got != tc.want {
				t.Errorf("got %d; want %d", got, tc.want)
			}
			if got := Classify(tc.err).NextUpstream(); got != tc.next {
				t.Errorf("NextUpstream got %v; want %v", got, tc.next)
			}
		})
	}
}

func TestUpstreamErrorChain(t *testing.T) {
	err := fmt.Errorf("proxying: %w", &UpstreamError{Kind: KindConnect, Peer: "[::1]:8080", Err: syscall.ECONNREFUSED})
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("errors.Is(ECONNREFUSED) got false; want true")
	}
	want := "proxying: connect failed (upstream [::1]:8080): connection refused"
	if err.Error() != want {
		t.Errorf("got %q; want %q", err.Error(), want)
	}
}

func TestErrorResponse(t *testing.T) {
	// nginx 1.22.1's 502 (reference §4.1) with "wsgate/1.0" for "nginx/1.22.1".
	body502 := "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n" +
		"<hr><center>wsgate/1.0</center>\r\n</body>\r\n</html>\r\n"
	tests := []struct {
		name string
		e    ErrorResponse
		want string
	}{
		{
			name: "502 keep-alive",
			e:    ErrorResponse{Status: 502, Server: ServerInfo{Version: "1.0", Tokens: true}, Date: []byte(testDate), KeepAlive: true},
			want: "HTTP/1.1 502 Bad Gateway\r\nServer: wsgate/1.0\r\nDate: " + testDate +
				"\r\nContent-Type: text/html\r\nContent-Length: 155\r\nConnection: keep-alive\r\n\r\n" + body502,
		},
		{
			name: "494 as 400, tokens off, head only",
			e:    ErrorResponse{Status: 494, Server: ServerInfo{Version: "1.0"}, Date: []byte(testDate), HeadOnly: true},
			want: "HTTP/1.1 400 Bad Request\r\nServer: wsgate\r\nDate: " + testDate +
				"\r\nContent-Type: text/html\r\nContent-Length: 227\r\nConnection: close\r\n\r\n",
		},
		{
			name: "504 padded",
			e:    ErrorResponse{Status: 504, Server: ServerInfo{}, Date: []byte(testDate), Padding: true},
			want: "HTTP/1.1 504 Gateway Time-out\r\nServer: wsgate\r\nDate: " + testDate +
				"\r\nContent-Type: text/html\r\nContent-Length: 563\r\nConnection: close\r\n\r\n" +
				"<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n" +
				"<hr><center>wsgate</center>\r\n</body>\r\n</html>\r\n" + msiePadding,
		},
		{
			name: "301 with location",
			e:    ErrorResponse{Status: 301, Date: []byte(testDate), Location: []byte("http://example.com/ws/"), KeepAlive: true},
			want: "HTTP/1.1 301 Moved Permanently\r\nServer: wsgate\r\nDate: " + testDate +
				"\r\nContent-Type: text/html\r\nContent-Length: 163\r\nLocation: http://example.com/ws/\r\nConnection: keep-alive\r\n\r\n" +
				"<html>\r\n<head><title>301 Moved Permanently</title></head>\r\n<body>\r\n<center><h1>301 Moved Permanently</h1></center>\r\n" +
				"<hr><center>wsgate</center>\r\n</body>\r\n</html>\r\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			diffBytes(t, AppendErrorResponse(nil, &tc.e), []byte(tc.want))
		})
	}
}

func TestErrorBodyLenMatchesBody(t *testing.T) {
	for status := range errorPages {
		for _, srv := range []ServerInfo{{}, {Version: "1.2.3", Tokens: true}} {
			for _, pad := range []bool{false, true} {
				body := AppendErrorBody(nil, status, srv, pad)
				if n := errorBodyLen(status, srv, pad); n != len(body) {
					t.Errorf("status %d %+v pad %v: errorBodyLen got %d; want %d", status, srv, pad, n, len(body))
				}
			}
		}
	}
}

func TestWantsPadding(t *testing.T) {
	tests := map[string]bool{
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36": true,
		"Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0":                            false,
		"Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)":                                                true,
		"Opera/9.80 (MSIE 6.0)": false,
		"curl/8.0":              false,
	}
	for ua, want := range tests {
		if got := WantsPadding([]byte(ua)); got != want {
			t.Errorf("WantsPadding(%q) got %v; want %v", ua, got, want)
		}
	}
}
