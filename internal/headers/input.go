package headers

import (
	"bytes"
	"fmt"

	"wsgate/internal/config"
	"wsgate/internal/exchange"
	"wsgate/internal/vars"
)

// This file is headers-more's input side (ngx_http_headers_more_headers_in.c):
// more_set_input_headers and more_clear_input_headers, which change the
// request's headers at the end of the rewrite phase, before the access
// phase and the content handler read them (the headers sent upstream,
// $http_NAME, $host).

// Input is one location's compiled input commands; nil when it has none.
// It is immutable and safe for concurrent use.
type Input struct {
	cmds []inputCmd
}

type inputCmd struct {
	types   [][]byte
	replace bool
	headers []moreLine
}

// CompileInput compiles a location's input commands; nil (and no error)
// when there are none.
func CompileInput(h *config.HeadersConf, compile CompileFunc) (*Input, error) {
	if len(h.MoreInput) == 0 {
		return nil, nil
	}
	in := &Input{}
	for _, m := range h.MoreInput {
		cmd := inputCmd{replace: m.Replace}
		for _, t := range m.Types {
			cmd.types = append(cmd.types, []byte(t))
		}
		for _, x := range m.Headers {
			l := moreLine{name: x.Name, wildcard: x.Wildcard}
			if x.Value != "" {
				v, err := compile(x.Value)
				if err != nil {
					return nil, &config.Error{Pos: m.Pos, Msg: fmt.Sprintf("more_set_input_headers: %v", err)}
				}
				l.value = v
			}
			cmd.headers = append(cmd.headers, l)
		}
		in.cmds = append(in.cmds, cmd)
	}
	return in, nil
}

// Apply runs the commands over hs, the request's header lines, and
// returns the new list in dst (hs is not changed); values evaluated with
// c's variables go into buf, which the returned lines then reference.
// As ngx_http_set_header_helper: a header that is set replaces the value
// of the first line of that name (case-insensitive) and removes the
// others, or is added at the end when there is none (unless -r); an empty
// value, or more_clear_input_headers, removes every line of that name
// (with a trailing "*", of that prefix). -t runs a command only when the
// request's Content-Type is one of the types, compared whole.
func (in *Input) Apply(dst, hs []exchange.Header, c *vars.Ctx, buf []byte) ([]exchange.Header, []byte) {
	dst = append(dst[:0], hs...)
	for i := range in.cmds {
		cmd := &in.cmds[i]
		if len(cmd.types) > 0 && !typeIn(dst, cmd.types) {
			continue
		}
		for j := range cmd.headers {
			l := &cmd.headers[j]
			var v []byte
			if l.value != nil {
				start := len(buf)
				buf = l.value.Append(buf, c)
				v = buf[start:len(buf):len(buf)]
			}
			dst = setInput(dst, l, v, cmd.replace)
		}
	}
	return dst, buf
}

// setInput sets (or with an empty v removes) header l in hs.
func setInput(hs []exchange.Header, l *moreLine, v []byte, replace bool) []exchange.Header {
	matched := false
	out := hs[:0]
	for _, h := range hs {
		match := false
		if l.wildcard {
			match = len(v) == 0 && len(h.Name) >= len(l.name) && exchange.EqualFold(h.Name[:len(l.name)], l.name)
		} else {
			match = exchange.EqualFold(h.Name, l.name)
		}
		if !match {
			out = append(out, h)
			continue
		}
		if len(v) == 0 || matched {
			continue // removed
		}
		matched = true
		out = append(out, exchange.Header{Name: h.Name, Value: v})
	}
	if matched || len(v) == 0 || replace {
		return out
	}
	return append(out, exchange.Header{Name: []byte(l.name), Value: v})
}

// typeIn reports whether the request's Content-Type (its first line) is
// one of types.
func typeIn(hs []exchange.Header, types [][]byte) bool {
	for _, h := range hs {
		if exchange.EqualFold(h.Name, "content-type") {
			if len(h.Value) == 0 {
				return false
			}
			for _, t := range types {
				if bytes.Equal(h.Value, t) {
					return true
				}
			}
			return false
		}
	}
	return false
}

// Names reports whether a command of in sets or clears the header name,
// by its name or a wildcard prefix: the pipeline then reads
// again what it took from that header (Host, Upgrade, Authorization).
func (in *Input) Names(name string) bool {
	for i := range in.cmds {
		for _, l := range in.cmds[i].headers {
			if l.wildcard && len(name) >= len(l.name) && equalFoldMixed(name[:len(l.name)], l.name) ||
				!l.wildcard && equalFoldMixed(name, l.name) {
				return true
			}
		}
	}
	return false
}
