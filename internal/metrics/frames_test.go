package metrics

import (
	"bytes"
	"strings"
	"testing"

	"wsgate/internal/proxy"
	"wsgate/internal/tunnel"
	"wsgate/internal/ws"
)

// TestFrameCounts: continuation frames count under their message's
// opcode, a control frame between fragments does not end the message, and
// a message's size is the payload of all its frames.
func TestFrameCounts(t *testing.T) {
	m := New(Options{})
	m.SetEnabled(true)
	o := m.TunnelStart(proxy.Tunnel{Server: "s", Location: "location /", Pool: "u", Upstream: "p", Client: "c:1", FrameAware: true}).(*Tunnel)
	frames := []tunnel.Frame{
		{FromClient: true, Opcode: ws.OpText, Length: 100},
		{FromClient: true, Opcode: ws.OpPing, Fin: true, Length: 4},
		{FromClient: false, Opcode: ws.OpBinary, Fin: true, Length: 7},
		{FromClient: true, Opcode: ws.OpContinuation, Length: 100},
		{FromClient: true, Opcode: ws.OpContinuation, Fin: true, Length: 100},
		{FromClient: true, Opcode: ws.OpBinary, Fin: true, Length: 0},
	}
	for _, f := range frames {
		o.Frame(f)
	}
	s := o.s
	tests := []struct {
		name      string
		got, want uint64
	}{
		{"text frames in", s.frames[dirIn][opText].Load(), 3},
		{"text payload in", s.payload[dirIn][opText].Load(), 300},
		{"ping frames in", s.frames[dirIn][opPing].Load(), 1},
		{"text messages in", count(s.sizes[dirIn][opText]), 1},
		{"binary messages in", count(s.sizes[dirIn][opBinary]), 1},
		{"binary messages out", count(s.sizes[dirOut][opBinary]), 1},
		{"text message sizes in, 256 B bucket", s.sizes[dirIn][opText].counts[1].Load(), 0},
		{"text message sizes in, 1 KiB bucket", s.sizes[dirIn][opText].counts[2].Load(), 1},
		{"binary message sizes in, 64 B bucket", s.sizes[dirIn][opBinary].counts[0].Load(), 1},
		{"text message sizes in, sum", s.sizes[dirIn][opText].sum.Load(), 300},
		{"tunnel's messages in", o.Messages[dirIn].Load(), 2},
		{"tunnel's payload in", o.Payload[dirIn].Load(), 300},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %d; want %d", tt.name, tt.got, tt.want)
		}
	}
}

func count(h *hist) uint64 {
	n, _, _ := h.read(1)
	return n
}

// TestCodeIndex: registered codes have a series each; 3xxx and 4xxx are
// one class each, so that peers cannot grow the label set.
func TestCodeIndex(t *testing.T) {
	tests := []struct {
		code uint16
		want string
	}{
		{0, "none"}, {1000, "1000"}, {1001, "1001"}, {1015, "1015"}, {1016, "other"},
		{2999, "other"}, {3000, "3xxx"}, {3999, "3xxx"}, {4000, "4xxx"}, {4999, "4xxx"}, {5000, "other"},
	}
	for _, tt := range tests {
		if got := codeName(codeIndex(tt.code)); got != tt.want {
			t.Errorf("code %d: got %q; want %q", tt.code, got, tt.want)
		}
	}
}

// TestInvalidUTF8Labels: a label value from the configuration that is not
// UTF-8 (a regex location may hold any byte) is made valid, and the
// exposition is still written.
func TestInvalidUTF8Labels(t *testing.T) {
	m := New(Options{})
	m.SetEnabled(true)
	m.Request(proxy.Request{Server: "s", Location: "location ~ ^/\xff", Status: 200})
	var b bytes.Buffer
	if err := m.Write(&b); err != nil {
		t.Fatalf("writing the exposition: %v", err)
	}
	if want := `wsgate_http_requests_total{code="2xx",location="location ~ ^/` + "\uFFFD" + `",server="s"} 1`; !strings.Contains(b.String(), want) {
		t.Errorf("exposition lacks %s", want)
	}
}
