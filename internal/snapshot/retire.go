package snapshot

import (
	"time"

	"wsgate/internal/ws"
)

// RouteClose is how the tunnels of a route that a reload removed or
// changed are closed: the route's ws_reload_close_code, sent at a frame
// boundary, the closes spread over its ws_drain_window.
type RouteClose struct {
	Code   uint16        // default 1012 Service Restart (RFC 6455 section 7.4.1, IANA registry)
	Window time.Duration // 0: all at once
}

// ClosedRoutes returns, for every route key of s that next no longer has,
// how the tunnels opened on it are closed. Tunnels whose key next still
// has are not touched.
func (s *Snapshot) ClosedRoutes(next *Snapshot) map[string]RouteClose {
	out := map[string]RouteClose{}
	for _, loc := range s.Locs {
		if next.Keys[loc.Key] {
			continue
		}
		code := uint16(loc.Conf.WS.ReloadClose)
		if code == 0 {
			code = ws.CloseServiceRestart
		}
		out[loc.Key] = RouteClose{Code: code, Window: loc.Conf.WS.DrainWindow}
	}
	return out
}
