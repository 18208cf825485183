package status

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"wsgate/internal/metrics"
	"wsgate/internal/upstream"
)

// maxTunnels is how many of the busiest tunnels a view lists.
const maxTunnels = 20

// View is what the page shows at one moment, sent as JSON.
type View struct {
	Time      time.Time `json:"time"`
	Upstreams []Peer    `json:"upstreams"`
	// Tunnels are the busiest open tunnels, by payload bytes relayed;
	// Open counts all open tunnels.
	Tunnels []Tunnel `json:"tunnels"`
	Open    int      `json:"open"`
}

// Peer is one upstream peer's state.
type Peer struct {
	Upstream string `json:"upstream"`
	Peer     string `json:"peer"`
	// State is "up", "failed" (max_fails within fail_timeout) or "down"
	// (the down parameter); "backup" is added for a backup peer.
	State   string `json:"state"`
	Backup  bool   `json:"backup"`
	Fails   int    `json:"fails"`
	Tunnels int64  `json:"tunnels"` // open tunnels on it
	Active  int    `json:"active"`  // requests and tunnels: least_conn's load
	Idle    int    `json:"idle"`    // idle keepalive connections
}

// Tunnel is one open tunnel.
type Tunnel struct {
	Server   string  `json:"server"`
	Location string  `json:"location"`
	Upstream string  `json:"upstream"`
	Peer     string  `json:"peer"`
	Client   string  `json:"client"`
	Path     string  `json:"path"` // the handshake's path, without its query
	WS       bool    `json:"ws"`   // a WebSocket: messages are counted
	Age      float64 `json:"age"`  // seconds
	MsgIn    uint64  `json:"msgIn"`
	MsgOut   uint64  `json:"msgOut"`
	BytesIn  uint64  `json:"bytesIn"` // payload bytes, client to upstream
	BytesOut uint64  `json:"bytesOut"`
}

// Build assembles the view of m and set at now.
func Build(m *metrics.Metrics, set *upstream.Set, now time.Time) View {
	v := View{Time: now, Upstreams: []Peer{}, Tunnels: []Tunnel{}}
	open := m.OpenOn()
	for _, h := range metrics.PeerHealth(set) {
		p := Peer{
			Upstream: h.Upstream, Peer: h.Peer, Backup: h.Backup, Fails: h.Fails,
			Tunnels: open[[2]string{h.Upstream, h.Peer}], Active: h.Active, Idle: h.Idle,
		}
		switch {
		case h.Down:
			p.State = "down"
		case !h.Up:
			p.State = "failed"
		default:
			p.State = "up"
		}
		v.Upstreams = append(v.Upstreams, p)
	}
	tunnels := m.OpenTunnels()
	v.Open = len(tunnels)
	for _, t := range tunnels {
		path, _, _ := strings.Cut(t.Info.URI, "?")
		v.Tunnels = append(v.Tunnels, Tunnel{
			Server: t.Info.Server, Location: t.Info.Location, Upstream: t.Info.Pool, Peer: t.Info.Upstream,
			Client: t.Info.Client, Path: path, WS: t.Info.FrameAware, Age: t.Age(now).Seconds(),
			MsgIn: t.Messages[0].Load(), MsgOut: t.Messages[1].Load(),
			BytesIn: t.Payload[0].Load(), BytesOut: t.Payload[1].Load(),
		})
	}
	slices.SortFunc(v.Tunnels, func(a, b Tunnel) int {
		if c := cmp.Compare(b.BytesIn+b.BytesOut, a.BytesIn+a.BytesOut); c != 0 {
			return c
		}
		return cmp.Compare(b.Age, a.Age)
	})
	if len(v.Tunnels) > maxTunnels {
		v.Tunnels = v.Tunnels[:maxTunnels]
	}
	return v
}
