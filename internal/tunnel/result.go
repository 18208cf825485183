package tunnel

import "time"

// This file is what a tunnel tells at its end: why it ended (Cause,
// EndReason) and what went through it (Result).

// Cause says why a tunnel ended.
type Cause uint8

// Causes reported in Result.ClosedBy.
const (
	CauseNone     Cause = iota
	CauseClient         // the client sent the first Close, EOF or error
	CauseUpstream       // the upstream sent the first Close, EOF or error
	CauseTimeout        // ReadTimeout (idle) or SendTimeout expired
	CauseReload         // closed through Registry.CloseWhere (route changed)
	CauseShutdown       // closed through Registry.Shutdown or Run's context
	CausePing           // a pinged side did not answer (PingOptions)
	CauseLimit          // a side broke its Limits
)

func (c Cause) String() string {
	switch c {
	case CauseClient:
		return "client"
	case CauseUpstream:
		return "upstream"
	case CauseTimeout:
		return "timeout"
	case CauseReload:
		return "reload"
	case CauseShutdown:
		return "shutdown"
	case CausePing:
		return "ping"
	case CauseLimit:
		return "limit"
	}
	return "none"
}

// Result describes a finished tunnel.
type Result struct {
	FromClient   int64 // bytes relayed client → upstream, buffered ones included
	FromUpstream int64 // bytes relayed upstream → client, buffered ones included
	// MessagesFromClient and MessagesFromUpstream count complete data
	// messages relayed (frame-aware only): those a limit dropped or
	// stopped are not.
	MessagesFromClient   uint64
	MessagesFromUpstream uint64
	ClosedBy             Cause
	// CloseCode is the code of the first Close frame of the tunnel: one that
	// passed through or one wsgate sent; 0 when there was none.
	CloseCode uint16
	// CloseFrom says who sent that Close: CauseClient, CauseUpstream, or
	// CauseNone for wsgate (or no Close). CloseReason is its reason text.
	CloseFrom   Cause
	CloseReason string
	Spliced     bool // the kernel splice path was used
	// ClientRTT and UpstreamRTT are the round-trip times of the latest
	// answered Pings of wsgate's to each side (PingOptions); 0: none.
	ClientRTT, UpstreamRTT time.Duration
	Duration               time.Duration
	// Err is the first I/O error other than EOF and the errors of closing
	// the tunnel on purpose; nil for a clean end.
	Err error
}

// reason returns the first Close's reason.
func (t *tunnel) reason() string {
	if r := t.closeReason.Load(); r != nil {
		return *r
	}
	return ""
}

// EndReason names why the tunnel ended, in the words of $ws_end_reason:
// "close" (a peer's Close began the closing handshake), "gone" (a peer's
// connection ended without a Close), "error" (a peer's connection
// failed), "idle" (ReadTimeout), "send_timeout" (SendTimeout), "reload",
// "drain" (shutdown), "ping" (a pinged side did not answer) or "limit";
// "" when the tunnel has not ended.
func (r Result) EndReason() string {
	switch r.ClosedBy {
	case CauseClient, CauseUpstream:
		switch {
		case r.CloseFrom == r.ClosedBy:
			return "close"
		case r.Err != nil:
			return "error"
		}
		return "gone"
	case CauseTimeout:
		if r.Err != nil {
			return "send_timeout"
		}
		return "idle"
	case CauseReload:
		return "reload"
	case CauseShutdown:
		return "drain"
	case CausePing:
		return "ping"
	case CauseLimit:
		return "limit"
	}
	return ""
}
