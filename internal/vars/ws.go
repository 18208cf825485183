package vars

import (
	"strconv"
	"strings"
	"time"
)

// This file holds the WebSocket session variables of wsgate's own that
// describe how a tunnel went (the session logs): one kind,
// kWSSession, whose part.n says which.

// WSSession is what a tunnel reports at its end, or while it is still
// open (ws_log_interval), for the session variables.
type WSSession struct {
	// Open is set on a "still open" line: $ws_end_reason is "open".
	Open bool
	// EndReason is $ws_end_reason (tunnel.Result.EndReason); CloseReason
	// is $ws_close_reason, the reason text of the tunnel's first Close
	// frame.
	EndReason, CloseReason string
	// MessagesIn and MessagesOut count complete data messages client →
	// upstream and back ($ws_messages_in, $ws_messages_out), so far on a
	// "still open" line; not found without HasMessages.
	MessagesIn, MessagesOut uint64
	HasMessages             bool
	// PingRTT is the latest round-trip time of wsgate's Pings
	// ($ws_ping_rtt): the client's, else the upstream's; 0: none.
	PingRTT time.Duration
}

// The session variables, by part.n.
const (
	wsEndReason = iota
	wsCloseReason
	wsMessagesIn
	wsMessagesOut
	wsSubprotocol
	wsExtensions
	wsPingRTT
)

var wsSessionVars = map[string]int{
	"ws_end_reason":   wsEndReason,
	"ws_close_reason": wsCloseReason,
	"ws_messages_in":  wsMessagesIn,
	"ws_messages_out": wsMessagesOut,
	"ws_subprotocol":  wsSubprotocol,
	"ws_extensions":   wsExtensions,
	"ws_ping_rtt":     wsPingRTT,
}

func init() {
	for name := range wsSessionVars {
		builtin[name] = kWSSession
	}
}

// wsSessionPart compiles one of the session variables; $ws_subprotocol
// and $ws_extensions read the upstream's 101, whose header lines the
// proxy then keeps.
func (c *Compiler) wsSessionPart(name string) part {
	n := wsSessionVars[name]
	if n == wsSubprotocol || n == wsExtensions {
		c.upstreamHeaders = true
	}
	return part{kind: kWSSession, n: n}
}

// appendWSSession appends session variable n; found is false outside a
// tunnel's log lines, and for a value the tunnel does not have.
func appendWSSession(dst []byte, c *Ctx, n int) ([]byte, bool) {
	if !c.WS {
		return dst, false
	}
	s := &c.WSSession
	switch n {
	case wsEndReason:
		if s.Open {
			return append(dst, "open"...), true
		}
		return append(dst, s.EndReason...), s.EndReason != ""
	case wsCloseReason:
		return append(dst, s.CloseReason...), true
	case wsMessagesIn:
		return strconv.AppendUint(dst, s.MessagesIn, 10), s.HasMessages
	case wsMessagesOut:
		return strconv.AppendUint(dst, s.MessagesOut, 10), s.HasMessages
	case wsSubprotocol, wsExtensions:
		// The upstream's 101 (RFC 6455 4.2.2 item 5, 9.1): what the
		// tunnel speaks, "" for none.
		name := "sec-websocket-protocol"
		if n == wsExtensions {
			name = "sec-websocket-extensions"
		}
		for i := range c.UpstreamHeaders {
			if strings.EqualFold(c.UpstreamHeaders[i].Name, name) {
				return append(dst, c.UpstreamHeaders[i].Value...), true
			}
		}
		return dst, true
	case wsPingRTT:
		if s.PingRTT <= 0 {
			return dst, false
		}
		return appendSeconds(dst, s.PingRTT), true
	}
	return dst, false
}
