package config

import (
	"strconv"
	"strings"
	"time"
)

// This file holds wsgate's own directives (WSConf): at http, server and
// location level, inherited as nginx's location settings are.

// wsDirectives are wsgate's own.
func wsDirectives() map[string]*directive {
	return map[string]*directive{
		"ws_upgrade":           {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(flagArg, func(l *LocConf) *bool { return &l.WS.Upgrade })},
		"ws_allow_upgrade":     {ctx: ctxHTTPAll, min: 1, max: unbounded, once: true, set: onLoc(tokensArg, func(l *LocConf) *[]string { return &l.WS.AllowUpgrades })},
		"ws_reload_close_code": {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(closeCodeArg, func(l *LocConf) *int { return &l.WS.ReloadClose })},
		"ws_drain_window":      {ctx: ctxHTTPAll | ctxUpstream, min: 1, max: 1, once: true, set: setDrainWindow},
		"ws_lint":              {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(enumArg("auto", "on", "off"), func(l *LocConf) *string { return &l.WS.Lint })},
		"ws_ping_interval": {ctx: ctxHTTPAll, min: 1, max: 2, once: true, set: onLocFn(pingIntervalArg, func(l *LocConf, v pingInterval) {
			l.WS.PingInterval, l.WS.PingSides = v.every, v.sides
		})},
		"ws_pong_timeout":     {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(positiveMsecArg, func(l *LocConf) *time.Duration { return &l.WS.PongTimeout })},
		"ws_max_message_size": {ctx: ctxHTTPAll, min: 1, max: 2, once: true, set: onLoc(wsSizeArg, func(l *LocConf) *WSSize { return &l.WS.MaxMessage })},
		"ws_max_frame_size":   {ctx: ctxHTTPAll, min: 1, max: 2, once: true, set: onLoc(wsSizeArg, func(l *LocConf) *WSSize { return &l.WS.MaxFrame })},
		"ws_allow_origins":    {ctx: ctxHTTPAll, min: 1, max: unbounded, once: true, set: onLoc(originsArg, func(l *LocConf) *[]string { return &l.WS.AllowOrigins })},
		"ws_subprotocols":     {ctx: ctxHTTPAll, min: 1, max: unbounded, once: true, set: onLoc(subprotocolsArg, func(l *LocConf) *[]string { return &l.WS.Subprotocols })},
		"ws_deflate":          {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(enumArg("on", "off", "strip"), func(l *LocConf) *string { return &l.WS.Deflate })},
		"ws_handshake_rate":   {ctx: ctxHTTPAll, min: 1, max: 3, once: true, set: onLoc(handshakeRateArg, func(l *LocConf) *WSHandshakeRate { return &l.WS.HandshakeRate })},
		"ws_log_interval":     {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(offOrMsecArg, func(l *LocConf) *time.Duration { return &l.WS.LogInterval })},
		"ws_message_rate":     {ctx: ctxHTTPAll, min: 1, max: 4, once: true, set: onLoc(wsRateArg, func(l *LocConf) *WSRate { return &l.WS.MessageRate })},
	}
}

// setDrainWindow is ws_drain_window: a location's (reload and stop
// closes), or an upstream block's (ws_drain_removed and ws_rebalance
// closes).
func setDrainWindow(c *checker, f *frame, d *Directive, first bool) {
	if f.ctx == ctxUpstream {
		if v, ok := msecArg(c, d); ok {
			f.ups.DrainWindow = v
		}
		return
	}
	onLoc(msecArg, func(l *LocConf) *time.Duration { return &l.WS.DrainWindow })(c, f, d, first)
}

// tokensArg reads ws_allow_upgrade's Upgrade tokens (RFC 9110 §7.8), lower-cased.
func tokensArg(c *checker, d *Directive) ([]string, bool) {
	out := make([]string, 0, len(d.Args))
	for _, a := range d.Args {
		if a.Text == "" || strings.ContainsAny(a.Text, " \t,;\"()<>@:\\/[]?={}") {
			c.errorf(a.Pos, "invalid upgrade token %q in %q directive", a.Text, d.Name)
			return nil, false
		}
		if strings.EqualFold(a.Text, "websocket") {
			c.errorf(a.Pos, "%q needs no %q: WebSocket upgrades are governed by \"ws_upgrade\"", d.Name, a.Text)
			return nil, false
		}
		out = append(out, strings.ToLower(a.Text))
	}
	return out, true
}

// closeCodeArg reads ws_reload_close_code: 1001 (Going Away) or 1012
// (Service Restart), RFC 6455 §7.4.1 and the IANA registry.
func closeCodeArg(c *checker, d *Directive) (int, bool) {
	switch d.Args[0].Text {
	case "1001":
		return 1001, true
	case "1012":
		return 1012, true
	}
	c.errorf(d.Args[0].Pos, "invalid value %q in %q directive, it must be 1001 or 1012", d.Args[0].Text, d.Name)
	return 0, false
}

// onLocFn is onLoc for a value that sets several fields.
func onLocFn[T any](parse argParser[T], set func(*LocConf, T)) setFunc {
	return func(c *checker, f *frame, d *Directive, _ bool) {
		if v, ok := parse(c, d); ok {
			f.lvl.loc = append(f.lvl.loc, func(l *LocConf) { set(l, v) })
		}
	}
}

type pingInterval struct {
	every time.Duration
	sides WSSides
}

// pingIntervalArg reads ws_ping_interval TIME|off [client|upstream|both].
func pingIntervalArg(c *checker, d *Directive) (pingInterval, bool) {
	v := pingInterval{sides: WSClient}
	if d.Args[0].Text != "off" {
		every, ok := positiveMsecArg(c, d)
		if !ok {
			return v, false
		}
		v.every = every
	}
	if len(d.Args) == 2 {
		s, ok := sidesArg(c, d, d.Args[1])
		if !ok {
			return v, false
		}
		v.sides = s
	}
	return v, true
}

// positiveMsecArg is msecArg for a time that must not be 0.
func positiveMsecArg(c *checker, d *Directive) (time.Duration, bool) {
	v, ok := ParseTime(d.Args[0].Text, false)
	if !ok || v <= 0 {
		c.errorf(d.Args[0].Pos, "%q directive invalid value", d.Name)
		return 0, false
	}
	return v, true
}

// sidesArg reads the optional side word of the ws_ limits and Pings.
func sidesArg(c *checker, d *Directive, a Word) (WSSides, bool) {
	switch a.Text {
	case "client":
		return WSClient, true
	case "upstream":
		return WSUpstream, true
	case "both":
		return WSBoth, true
	}
	c.errorf(a.Pos, "invalid value %q in %q directive, it must be \"client\", \"upstream\" or \"both\"", a.Text, d.Name)
	return 0, false
}

// wsSizeArg reads ws_max_message_size and ws_max_frame_size: SIZE|off
// [client|upstream|both]; "0" and "off" mean no limit.
func wsSizeArg(c *checker, d *Directive) (WSSize, bool) {
	v := WSSize{Sides: WSClient}
	if d.Args[0].Text != "off" {
		n, ok := sizeArg(c, d)
		if !ok {
			return v, false
		}
		v.Size = n
	}
	if len(d.Args) == 2 {
		s, ok := sidesArg(c, d, d.Args[1])
		if !ok {
			return v, false
		}
		v.Sides = s
	}
	return v, true
}

// wsRateArg reads ws_message_rate RATE|off [burst=N] [drop]
// [client|upstream|both]; RATE is written as limit_req_zone's: "10r/s",
// "30r/m". burst defaults to 1 plus one second's worth.
func wsRateArg(c *checker, d *Directive) (WSRate, bool) {
	v := WSRate{Sides: WSClient}
	a0 := d.Args[0]
	if a0.Text != "off" {
		per, ok := parseRate(a0.Text)
		if !ok {
			c.errorf(a0.Pos, "invalid rate %q in %q directive, it must be like \"10r/s\" or \"30r/m\"", a0.Text, d.Name)
			return v, false
		}
		v.PerSecond = per
	}
	sides := false
	for _, a := range d.Args[1:] {
		switch {
		case strings.HasPrefix(a.Text, "burst="):
			n, err := strconv.Atoi(a.Text[len("burst="):])
			if err != nil || n < 1 || n > 1<<30 {
				c.errorf(a.Pos, "invalid burst value %q in %q directive", a.Text, d.Name)
				return v, false
			}
			v.Burst = n
		case a.Text == "drop":
			v.Drop = true
		case !sides:
			s, ok := sidesArg(c, d, a)
			if !ok {
				return v, false
			}
			v.Sides, sides = s, true
		default:
			c.errorf(a.Pos, "invalid parameter %q in %q directive", a.Text, d.Name)
			return v, false
		}
	}
	if v.Burst == 0 {
		v.Burst = 1 + int(v.PerSecond)
	}
	return v, true
}

// parseRate reads "Nr/s" or "Nr/m" (ngx_http_limit_req_zone's rate) as
// messages per second.
func parseRate(s string) (float64, bool) {
	per := 1.0
	switch {
	case strings.HasSuffix(s, "r/s"):
		s = s[:len(s)-3]
	case strings.HasSuffix(s, "r/m"):
		s, per = s[:len(s)-3], 60
	default:
		return 0, false
	}
	n, ok := parseNumber(s)
	if !ok || n == 0 {
		return 0, false
	}
	return float64(n) / per, true
}

// originsArg reads ws_allow_origins: "*" alone allows any Origin (as no
// directive does, to undo an outer level's list); otherwise exact Origins
// ("https://app.example.com"), hosts with or without a leading "*."
// ("*.example.com" matches any subdomain, any scheme), or "~regex" /
// "~*regex" matched against the whole Origin.
func originsArg(c *checker, d *Directive) ([]string, bool) {
	if len(d.Args) == 1 && d.Args[0].Text == "*" {
		return []string{}, true
	}
	out := make([]string, 0, len(d.Args))
	ok := true
	for _, a := range d.Args {
		v := a.Text
		switch {
		case strings.HasPrefix(v, "~*"):
			re, good := c.convertRegex(a.Pos, v[2:], true)
			ok = ok && good
			v = "~*" + re
		case strings.HasPrefix(v, "~"):
			re, good := c.convertRegex(a.Pos, v[1:], false)
			ok = ok && good
			v = "~" + re
		case !validOrigin(v):
			c.errorf(a.Pos, "invalid origin %q in %q directive, it must be like \"https://app.example.com\", \"*.example.com\" or \"~regex\"", v, d.Name)
			ok = false
		default:
			v = strings.ToLower(v)
		}
		out = append(out, v)
	}
	return out, ok
}

// subprotocolsArg reads ws_subprotocols: tokens (RFC 6455 4.1, RFC 9110
// 5.6.2), compared case-sensitively as RFC 6455 11.3.4 registers them.
func subprotocolsArg(c *checker, d *Directive) ([]string, bool) {
	out := make([]string, 0, len(d.Args))
	for _, a := range d.Args {
		if a.Text == "" || strings.ContainsAny(a.Text, " \t,;\"()<>@:\\/[]?={}") {
			c.errorf(a.Pos, "invalid subprotocol %q in %q directive", a.Text, d.Name)
			return nil, false
		}
		out = append(out, a.Text)
	}
	return out, true
}

// handshakeRateArg reads ws_handshake_rate RATE|off [burst=N]
// [listener|upstream]; burst defaults to one second's worth (at least 1).
func handshakeRateArg(c *checker, d *Directive) (WSHandshakeRate, bool) {
	var v WSHandshakeRate
	if a0 := d.Args[0]; a0.Text != "off" {
		per, ok := parseRate(a0.Text)
		if !ok {
			c.errorf(a0.Pos, "invalid rate %q in %q directive, it must be like \"10r/s\" or \"30r/m\"", a0.Text, d.Name)
			return v, false
		}
		v.PerSecond = per
	}
	for _, a := range d.Args[1:] {
		switch {
		case strings.HasPrefix(a.Text, "burst="):
			n, err := strconv.Atoi(a.Text[len("burst="):])
			if err != nil || n < 1 || n > 1<<30 {
				c.errorf(a.Pos, "invalid burst value %q in %q directive", a.Text, d.Name)
				return v, false
			}
			v.Burst = n
		case a.Text == "listener":
		case a.Text == "upstream":
			v.Upstream = true
		default:
			c.errorf(a.Pos, "invalid parameter %q in %q directive", a.Text, d.Name)
			return v, false
		}
	}
	if v.Burst == 0 {
		v.Burst = max(1, int(v.PerSecond))
	}
	return v, true
}

// validOrigin checks an exact or wildcard ws_allow_origins entry:
// [scheme "://"] ["*."] host [":" port], no spaces, commas or quotes.
func validOrigin(v string) bool {
	if i := strings.Index(v, "://"); i >= 0 {
		v = v[i+3:]
	}
	v = strings.TrimPrefix(v, "*.")
	return v != "" && !strings.ContainsAny(v, " \t,\"*/")
}

// offOrMsecArg reads a TIME above 0, or "off" (0).
func offOrMsecArg(c *checker, d *Directive) (time.Duration, bool) {
	if d.Args[0].Text == "off" {
		return 0, true
	}
	return positiveMsecArg(c, d)
}
