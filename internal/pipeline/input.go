package pipeline

import (
	"bytes"

	"wsgate/internal/access"
	"wsgate/internal/exchange"
	"wsgate/internal/headers"
	"wsgate/internal/http1"
	"wsgate/internal/vars"
)

// This file is the end of the rewrite phase where headers-more's input
// commands run (more_set_input_headers, more_clear_input_headers): they
// change the request's header lines, which the access phase, the content
// handler (the headers sent upstream) and $http_NAME then read.

// inputHeaders runs in over r's headers and makes the result the
// request's: r.Headers and $http_NAME, and, when a command names them,
// $host (the Host header, validated as nginx validates it; cleared, the
// server name), the upgrade the request asks for, and the Basic
// credentials ($remote_user, auth_basic).
func (pc *Conn) inputHeaders(r *exchange.Request, in *headers.Input) {
	pc.inHdrs, pc.inBuf = in.Apply(pc.inHdrs[:0], r.Headers, &pc.vc, pc.inBuf)
	r.Headers = pc.inHdrs
	hdrs := pc.hdrs[:0]
	for _, h := range r.Headers {
		hdrs = append(hdrs, vars.Header{Name: bstr(h.Name), Value: bstr(h.Value)})
	}
	pc.hdrs = hdrs
	pc.vc.Headers = hdrs
	if in.Names("Host") {
		r.Host, pc.vc.Host = nil, ""
		if v := r.Header("Host"); v != nil {
			if n, ok := http1.ValidateHost(v); ok && n > 0 {
				start := len(pc.inBuf)
				pc.inBuf = append(pc.inBuf, bytes.ToLower(v[:n])...)
				r.Host = pc.inBuf[start:len(pc.inBuf):len(pc.inBuf)]
				pc.vc.Host = bstr(r.Host)
			}
		}
	}
	if in.Names("Upgrade") {
		r.Upgrade = r.Header("Upgrade")
	}
	if in.Names("Authorization") {
		pc.basic = access.BasicRequest{Vars: &pc.vc}
		if v := r.Header("Authorization"); v != nil {
			pc.basic.User, pc.basic.Password, pc.authBuf, pc.basic.HasCredentials = access.ParseBasic(v, pc.authBuf[:0])
		}
		pc.vc.RemoteUser = bstr(pc.basic.User)
	}
}
