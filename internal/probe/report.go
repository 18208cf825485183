package probe

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// shownHeaders are the response headers the text report always shows, in
// this order; the others are shown with Verbose.
var shownHeaders = []string{"Upgrade", "Connection", "Sec-WebSocket-Accept", "Sec-WebSocket-Protocol",
	"Sec-WebSocket-Extensions", "Sec-WebSocket-Version", "Server", "Location", "Content-Type"}

// WriteText writes r for a person: what was sent and received, the round
// trips, and the verdict with its cause and fix. verbose adds the request
// head and every response header.
func (r *Result) WriteText(w io.Writer, verbose bool) {
	pf := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	pf("probe %s\n", r.URL)
	if r.RemoteAddr != "" {
		pf("  connected to %s in %.1f ms\n", r.RemoteAddr, r.ConnectMS)
	}
	if t := r.TLS; t != nil {
		alpn := t.ALPN
		if alpn == "" {
			alpn = "none"
		}
		verified := "certificate verified"
		if !t.Verified {
			verified = "certificate NOT verified (--insecure)"
		}
		pf("  TLS %s, ALPN %s, server name %s, %s\n", t.Version, alpn, t.ServerName, verified)
	}
	if verbose && len(r.Request) > 0 {
		pf("  request:\n")
		for _, l := range r.Request {
			pf("    > %s\n", l)
		}
	}
	if r.StatusLine != "" {
		pf("  response (%.1f ms):\n", r.HandshakeMS)
		pf("    < %s\n", r.StatusLine)
		for _, h := range r.Headers {
			if !verbose && !isShown(h.Name) {
				continue
			}
			note := ""
			if strings.EqualFold(h.Name, "Sec-WebSocket-Accept") {
				if r.AcceptOK {
					note = "   (verified: matches the key sent)"
				} else {
					note = "   (WRONG: does not match the key sent)"
				}
			}
			pf("    < %s: %s%s\n", h.Name, h.Value, note)
		}
		if r.Body != "" {
			pf("    < (body) %s\n", oneLine(r.Body, 160))
		}
	}
	if r.Upgraded {
		sub, ext := r.Subprotocol, r.Extensions
		if sub == "" {
			sub = "none"
		}
		if ext == "" {
			ext = "none"
		}
		pf("  upgrade: yes (101 Switching Protocols); subprotocol: %s; extensions: %s\n", sub, ext)
	} else if r.Status != 0 {
		pf("  upgrade: NO\n")
	}
	if e := r.Echo; e != nil {
		if e.Received > 0 {
			pf("  echo: %d/%d messages of %d bytes came back; round trip min %.2f / avg %.2f / max %.2f ms\n",
				e.Received, e.Sent, e.Size, e.MinMS, e.AvgMS, e.MaxMS)
		} else {
			pf("  echo: 0/%d messages came back\n", e.Sent)
		}
	}
	if p := r.Ping; p != nil {
		if p.Pong {
			pf("  ping: pong in %.2f ms\n", p.RTTMS)
		} else {
			pf("  ping: no pong\n")
		}
	}
	for _, m := range r.Other {
		pf("  the server also sent: %s\n", oneLine(m, 160))
	}
	if h := r.Hold; h != nil {
		if h.Survived {
			pf("  hold: idle for %.1fs, still open\n", h.RequestedMS/1000)
		} else {
			pf("  hold: cut after %.1fs idle (%s)\n", h.CutAfterMS/1000, h.How)
		}
	}
	for _, n := range r.Notes {
		pf("  note: %s\n", n)
	}
	if r.OK {
		pf("OK: %s speaks WebSocket\n", r.URL)
		return
	}
	pf("FAILED (%s): %s\n", r.Cause, r.Explanation)
	if r.Fix != "" {
		pf("fix: %s\n", strings.ReplaceAll(r.Fix, "\n", "\n     "))
	}
}

// WriteJSON writes r as one JSON object on one line.
func (r *Result) WriteJSON(w io.Writer) error {
	return json.NewEncoder(w).Encode(r)
}

func isShown(name string) bool {
	for _, s := range shownHeaders {
		if strings.EqualFold(s, name) {
			return true
		}
	}
	return false
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
