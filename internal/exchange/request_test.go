package exchange

import "testing"

func TestRequestHeaders(t *testing.T) {
	r := &Request{Headers: []Header{
		{Name: []byte("Connection"), Value: []byte("keep-alive")},
		{Name: []byte("connection"), Value: []byte(" Upgrade ,x")},
		{Name: []byte("Host"), Value: []byte("a")},
	}}
	tests := []struct {
		desc, name, token string
		want              bool
	}{
		{desc: "token on a later line", name: "Connection", token: "upgrade", want: true},
		{desc: "first line", name: "CONNECTION", token: "keep-alive", want: true},
		{desc: "absent token", name: "Connection", token: "close"},
		{desc: "absent header", name: "Upgrade", token: "websocket"},
		{desc: "no prefix match", name: "Connection", token: "upgr"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if got := r.HasToken(tt.name, tt.token); got != tt.want {
				t.Errorf("HasToken(%q, %q) = %v; want %v", tt.name, tt.token, got, tt.want)
			}
		})
	}
	if got := string(r.Header("host")); got != "a" {
		t.Errorf("Header(host) = %q; want %q", got, "a")
	}
	if got := r.Header("Upgrade"); got != nil {
		t.Errorf("Header(Upgrade) = %q; want nil", got)
	}
}

func TestRequestProto(t *testing.T) {
	tests := []struct {
		major, minor int
		want         string
	}{
		{1, 1, "HTTP/1.1"}, {1, 0, "HTTP/1.0"}, {0, 9, "HTTP/0.9"}, {2, 0, "HTTP/2.0"}, {3, 0, "HTTP/3.0"}, {1, 2, "HTTP/1.2"},
	}
	for _, tt := range tests {
		r := &Request{ProtoMajor: tt.major, ProtoMinor: tt.minor}
		if got := r.Proto(); got != tt.want {
			t.Errorf("Proto() of %d.%d = %q; want %q", tt.major, tt.minor, got, tt.want)
		}
	}
}

func TestStatusOf(t *testing.T) {
	if got := StatusOf(statusErr(413)); got != 413 {
		t.Errorf("StatusOf = %d; want 413", got)
	}
	if got := StatusOf(errPlain{}); got != 0 {
		t.Errorf("StatusOf(plain) = %d; want 0", got)
	}
}

type statusErr int

func (e statusErr) Error() string   { return "status" }
func (e statusErr) StatusCode() int { return int(e) }

type errPlain struct{}

func (errPlain) Error() string { return "plain" }
