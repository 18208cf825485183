package headers

import (
	"strings"
	"testing"

	"wsgate/internal/config"
	"wsgate/internal/exchange"
	"wsgate/internal/vars"
)

// TestInput pins more_set_input_headers and more_clear_input_headers to
// headers-more's ngx_http_set_header_helper: the first line of a name
// takes the value and the others go, a missing one is appended (not
// with -r), an empty value or a clear removes every line of the name or
// prefix, -t compares the request's whole Content-Type.
func TestInput(t *testing.T) {
	set := func(n, v string) config.MoreHeader { return config.MoreHeader{Name: n, Value: v} }
	in := []string{"Host: h", "X-A: 1", "Content-Type: text/plain", "x-a: 2", "X-Secret-1: s", "X-Secret-2: t"}
	tests := []struct {
		name string
		cmds []config.MoreHeaders
		want string
	}{
		{
			name: "set replaces the first and removes the others",
			cmds: []config.MoreHeaders{{Headers: []config.MoreHeader{set("x-A", "new $http_host")}}},
			want: "Host: h|X-A: new h|Content-Type: text/plain|X-Secret-1: s|X-Secret-2: t",
		},
		{
			name: "set adds a missing header at the end",
			cmds: []config.MoreHeaders{{Headers: []config.MoreHeader{set("X-New", "v")}}},
			want: "Host: h|X-A: 1|Content-Type: text/plain|x-a: 2|X-Secret-1: s|X-Secret-2: t|X-New: v",
		},
		{
			name: "-r sets only what is there",
			cmds: []config.MoreHeaders{{Replace: true, Headers: []config.MoreHeader{set("X-New", "v"), set("Host", "other")}}},
			want: "Host: other|X-A: 1|Content-Type: text/plain|x-a: 2|X-Secret-1: s|X-Secret-2: t",
		},
		{
			name: "clear by name and by prefix",
			cmds: []config.MoreHeaders{{Headers: []config.MoreHeader{set("X-A", ""), {Name: "X-Secret-", Wildcard: true}}}},
			want: "Host: h|Content-Type: text/plain",
		},
		{
			name: "an empty value removes",
			cmds: []config.MoreHeaders{{Headers: []config.MoreHeader{set("Host", "$arg_none")}}},
			want: "X-A: 1|Content-Type: text/plain|x-a: 2|X-Secret-1: s|X-Secret-2: t",
		},
		{
			name: "-t on a type the request has",
			cmds: []config.MoreHeaders{{Types: []string{"text/html", "text/plain"}, Headers: []config.MoreHeader{set("X-T", "1")}}},
			want: "Host: h|X-A: 1|Content-Type: text/plain|x-a: 2|X-Secret-1: s|X-Secret-2: t|X-T: 1",
		},
		{
			name: "-t on another type",
			cmds: []config.MoreHeaders{{Types: []string{"application/json"}, Headers: []config.MoreHeader{set("X-T", "1")}}, {Types: []string{"text/html"}, Headers: []config.MoreHeader{set("X-A", "")}}},
			want: "Host: h|X-A: 1|Content-Type: text/plain|x-a: 2|X-Secret-1: s|X-Secret-2: t",
		},
	}
	vc, err := vars.NewCompiler(nil)
	if err != nil {
		t.Fatal(err)
	}
	compile := func(raw string) (Value, error) {
		v, err := vc.Compile(raw)
		if err != nil {
			return nil, err
		}
		return v, nil
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inp, err := CompileInput(&config.HeadersConf{MoreInput: tt.cmds}, compile)
			if err != nil {
				t.Fatal(err)
			}
			var hs []exchange.Header
			var vh []vars.Header
			for _, l := range in {
				n, v, _ := strings.Cut(l, ": ")
				hs = append(hs, exchange.Header{Name: []byte(n), Value: []byte(v)})
				vh = append(vh, vars.Header{Name: n, Value: v})
			}
			before := fmtHeaders(hs)
			out, _ := inp.Apply(nil, hs, &vars.Ctx{Headers: vh}, nil)
			if got := fmtHeaders(out); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if fmtHeaders(hs) != before {
				t.Errorf("the request's lines changed: %s", fmtHeaders(hs))
			}
		})
	}
}

func fmtHeaders(hs []exchange.Header) string {
	var parts []string
	for _, h := range hs {
		parts = append(parts, string(h.Name)+": "+string(h.Value))
	}
	return strings.Join(parts, "|")
}
