package proxy

import (
	"wsgate/internal/config"
	"wsgate/internal/tunnel"
)

// This file turns a location's ws_ directives (config.WSConf) into what
// the proxy and its tunnels enforce.

// applyWS sets the Pings and the limits of a WebSocket tunnel from its
// location's ws_ping_interval, ws_pong_timeout, ws_max_message_size,
// ws_max_frame_size and ws_message_rate.
func applyWS(w *config.WSConf, o *tunnel.Options) {
	if w.PingInterval > 0 {
		o.Ping = tunnel.PingOptions{
			Interval: w.PingInterval,
			Timeout:  w.PongTimeout,
			Client:   w.PingSides&config.WSClient != 0,
			Upstream: w.PingSides&config.WSUpstream != 0,
		}
	}
	o.ClientLimits = sideLimits(w, config.WSClient)
	o.UpstreamLimits = sideLimits(w, config.WSUpstream)
}

// sideLimits returns the Limits on what side sends.
func sideLimits(w *config.WSConf, side config.WSSides) tunnel.Limits {
	var l tunnel.Limits
	if w.MaxFrame.Size > 0 && w.MaxFrame.Sides&side != 0 {
		l.MaxFrame = uint64(w.MaxFrame.Size)
	}
	if w.MaxMessage.Size > 0 && w.MaxMessage.Sides&side != 0 {
		l.MaxMessage = uint64(w.MaxMessage.Size)
	}
	if r := w.MessageRate; r.PerSecond > 0 && r.Sides&side != 0 {
		l.Rate, l.Burst, l.Drop = r.PerSecond, r.Burst, r.Drop
	}
	return l
}
