package headers

import (
	"strings"
	"testing"

	"wsgate/internal/config"
	"wsgate/internal/vars"
)

// TestSentVariables checks what $sent_http_NAME and $sent_trailer_NAME
// read inside the filter, as nginx-tests' http_headers_multi.t and
// trailers.t check nginx: an add_header value sees the lines added
// before it (Cache-Control joined with ", "), and an add_trailer value
// sees the head as it went out and the trailers added before it.
func TestSentVariables(t *testing.T) {
	f := compileTest(t, config.HeadersConf{
		Add: []config.AddHeader{
			{Name: "Cache-Control", Value: "foo"}, {Name: "Cache-Control", Value: "bar"},
			{Name: "X-Sent-CC", Value: "$sent_http_cache_control"},
		},
		Trailers: []config.AddHeader{
			{Name: "X-Var", Value: "v"},
			{Name: "X-Sent-HTTP", Value: "$sent_http_x_sent_cc"},
			{Name: "X-Sent-Trailer", Value: "$sent_trailer_x_var"},
		},
	})
	c := &vars.Ctx{}
	b := &Bound{F: f, Vars: c}
	in := head("HTTP/1.1 200 OK", "Server: s", "Connection: close")
	got := string(b.FilterHead([]byte(in), 0, -1, 200))
	if !strings.Contains(got, "X-Sent-CC: foo, bar\r\n") {
		t.Errorf("head:\n%s\nwant X-Sent-CC: foo, bar", got)
	}
	tr := string(b.AppendTrailers(nil, 200))
	if want := "X-Var: v\r\nX-Sent-HTTP: foo, bar\r\nX-Sent-Trailer: v\r\n"; tr != want {
		t.Errorf("trailers %q; want %q", tr, want)
	}
}
