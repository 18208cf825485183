package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// This file holds wsgate's own upstream directives, for upstreams whose
// peers move: ws_health_check (active checks, NGINX Plus's health_check
// parameters), ws_drain_removed and ws_drain_window (the tunnels of a peer
// that DNS removed), ws_rebalance (moving tunnels off the busiest peers),
// and the checks of the "server ... resolve" lines (nginx 1.27.3).

// upstreamWSDirectives are wsgate's own directives of upstream{} blocks.
func upstreamWSDirectives() map[string]*directive {
	return map[string]*directive{
		"ws_health_check":  {ctx: ctxUpstream, min: 0, max: unbounded, once: true, set: setHealthCheck},
		"ws_drain_removed": {ctx: ctxUpstream, min: 1, max: 1, once: true, set: setDrainRemoved},
		"ws_rebalance":     {ctx: ctxUpstream, min: 1, max: 2, once: true, set: setRebalance},
	}
}

// HealthCheck is ws_health_check: an active check of every peer of an
// upstream, every Interval, by its own connection.
type HealthCheck struct {
	Pos Pos
	// Interval between two checks of a peer (interval=, default 5s).
	Interval time.Duration
	// Fails and Passes are how many checks in a row take a peer out and
	// put it back (fails=, passes=, default 1 each).
	Fails, Passes int
	// URI is the request target (uri=, default "/").
	URI string
	// WebSocket makes the check a WebSocket handshake (type=websocket)
	// that must get 101; otherwise (type=http) a GET that must get a 2xx
	// or 3xx status, as NGINX Plus's default.
	WebSocket bool
	// Send is a text message sent after the handshake and Expect the text
	// the answer must contain (send=, expect=; websocket only). The check
	// ends with Close 1000 (RFC 6455 §7.4.1).
	Send, Expect string
	// Timeout bounds one whole check (timeout=, default 5s).
	Timeout time.Duration
	// Mandatory peers start unhealthy until their first check passes
	// (mandatory); otherwise they start healthy.
	Mandatory bool
}

// Rebalance is ws_rebalance.
type Rebalance struct {
	Pos Pos
	// Threshold is how far, in percent above the mean of its upstream's
	// usable peers, a peer's open tunnels may go before the excess is
	// closed (threshold=, default 20%).
	Threshold int
	// Rate bounds the closes per second, over the whole upstream (rate=N/s
	// or N/m).
	Rate float64
}

// setHealthCheck reads "ws_health_check [interval=TIME] [fails=N]
// [passes=N] [uri=URI] [type=http|websocket] [send=TEXT] [expect=TEXT]
// [timeout=TIME] [mandatory]".
func setHealthCheck(c *checker, f *frame, d *Directive, _ bool) {
	hc := &HealthCheck{Pos: d.Pos, Interval: 5 * time.Second, Fails: 1, Passes: 1, URI: "/", Timeout: 5 * time.Second}
	for _, a := range d.Args {
		k, v, hasV := strings.Cut(a.Text, "=")
		bad := func() { c.errorf(a.Pos, "invalid parameter %q", a.Text) }
		switch {
		case k == "interval" && hasV, k == "timeout" && hasV:
			t, ok := ParseTime(v, false)
			if !ok || t <= 0 {
				bad()
				return
			}
			if k == "interval" {
				hc.Interval = t
			} else {
				hc.Timeout = t
			}
		case k == "fails" && hasV, k == "passes" && hasV:
			n, ok := parseNumber(v)
			if !ok || n == 0 || n > 1<<31-1 {
				bad()
				return
			}
			if k == "fails" {
				hc.Fails = int(n)
			} else {
				hc.Passes = int(n)
			}
		case k == "uri" && hasV:
			if !strings.HasPrefix(v, "/") {
				bad()
				return
			}
			hc.URI = v
		case k == "type" && hasV:
			switch v {
			case "http":
				hc.WebSocket = false
			case "websocket":
				hc.WebSocket = true
			default:
				bad()
				return
			}
		case k == "send" && hasV:
			hc.Send = v
		case k == "expect" && hasV:
			hc.Expect = v
		case a.Text == "mandatory":
			hc.Mandatory = true
		case k == "match" && hasV:
			c.errorf(a.Pos, "\"match\" blocks are an NGINX Plus feature; ws_health_check takes type=, uri=, send= and expect=")
			return
		default:
			bad()
			return
		}
	}
	if (hc.Send != "" || hc.Expect != "") && !hc.WebSocket {
		c.errorf(d.Pos, "\"send\" and \"expect\" need type=websocket in %q directive", d.Name)
		return
	}
	f.ups.HealthCheck = hc
}

// setDrainRemoved reads "ws_drain_removed TIME|off".
func setDrainRemoved(c *checker, f *frame, d *Directive, _ bool) {
	if d.Args[0].Text == "off" {
		f.ups.DrainRemoved = 0
		return
	}
	t, ok := ParseTime(d.Args[0].Text, false)
	if !ok || t <= 0 {
		c.errorf(d.Args[0].Pos, "%q directive invalid value", d.Name)
		return
	}
	f.ups.DrainRemoved = t
}

// setRebalance reads "ws_rebalance threshold=N% rate=N/s|N/m" (or
// "ws_rebalance off").
func setRebalance(c *checker, f *frame, d *Directive, _ bool) {
	if len(d.Args) == 1 && d.Args[0].Text == "off" {
		f.ups.Rebalance = nil
		return
	}
	rb := &Rebalance{Pos: d.Pos, Threshold: 20}
	for _, a := range d.Args {
		k, v, hasV := strings.Cut(a.Text, "=")
		switch {
		case k == "threshold" && hasV:
			n, err := strconv.Atoi(strings.TrimSuffix(v, "%"))
			if err != nil || n < 0 || n > 10000 {
				c.errorf(a.Pos, "invalid parameter %q", a.Text)
				return
			}
			rb.Threshold = n
		case k == "rate" && hasV:
			r, err := parseClosesRate(v)
			if err != nil {
				c.errorf(a.Pos, "invalid parameter %q: %v", a.Text, err)
				return
			}
			rb.Rate = r
		default:
			c.errorf(a.Pos, "invalid parameter %q", a.Text)
			return
		}
	}
	if rb.Rate == 0 {
		c.errorf(d.Pos, "\"rate\" is required in %q directive", d.Name)
		return
	}
	f.ups.Rebalance = rb
}

// parseClosesRate reads "N/s" or "N/m" (as limit_req's rate=) into closes
// per second.
func parseClosesRate(v string) (float64, error) {
	n, unit, ok := strings.Cut(v, "/")
	per := 1.0
	switch {
	case !ok || unit == "s":
	case unit == "m":
		per = 60
	default:
		return 0, fmt.Errorf("the unit must be /s or /m")
	}
	x, err := strconv.Atoi(n)
	if err != nil || x <= 0 {
		return 0, fmt.Errorf("the rate must be a positive number")
	}
	return float64(x) / per, nil
}

// checkUpstreamWS checks an upstream block once it is read: resolve
// servers need a zone (nginx 1.27.3: "resolving names at run time
// requires upstream ... to be in shared memory"), and slow_start works
// only with round robin in wsgate (NGINX Plus also takes least_conn).
func (c *checker) checkUpstreamWS(u *Upstream) {
	for _, s := range u.Servers {
		if s.Resolve && u.Zone == "" {
			c.errorf(s.Pos, "resolving names at run time requires upstream %q in %s:%d to be in shared memory", u.Name, u.Pos.File, u.Pos.Line)
		}
		if s.SlowStart > 0 && u.Balance != BalanceRoundRobin {
			c.errorf(s.Pos, "\"slow_start\" cannot be used with the %s balancing method", u.Balance)
		}
	}
}
