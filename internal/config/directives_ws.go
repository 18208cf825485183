package config

import (
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
		"ws_drain_window":      {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(msecArg, func(l *LocConf) *time.Duration { return &l.WS.DrainWindow })},
		"ws_lint":              {ctx: ctxHTTPAll, min: 1, max: 1, once: true, set: onLoc(enumArg("auto", "on", "off"), func(l *LocConf) *string { return &l.WS.Lint })},
	}
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
