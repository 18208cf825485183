package metrics

import (
	"strconv"
	"sync/atomic"

	"wsgate/internal/proxy"
	"wsgate/internal/tunnel"
	"wsgate/internal/ws"
)

// The small fixed label sets, indexed by the counters' array positions.

// Directions of a tunnel ("direction" label).
const (
	dirIn  = 0 // client → upstream
	dirOut = 1 // upstream → client
)

var dirNames = [2]string{"in", "out"}

// Opcodes ("opcode" label): a continuation frame counts under its
// message's opcode, so that frames and payload bytes add up per message
// type.
const (
	opText = iota
	opBinary
	opClose
	opPing
	opPong
	opOther // reserved opcodes (RFC 6455 5.2), which the tracker stops at
	numOps
)

var opNames = [numOps]string{"text", "binary", "close", "ping", "pong", "reserved"}

func opIndex(o ws.Opcode) int {
	switch o {
	case ws.OpText:
		return opText
	case ws.OpBinary:
		return opBinary
	case ws.OpClose:
		return opClose
	case ws.OpPing:
		return opPing
	case ws.OpPong:
		return opPong
	}
	return opOther
}

// maxCauses bounds tunnel.Cause values counted by cause; a Cause whose
// String is "none" has no series.
const maxCauses = 16

// causeIndex is where a tunnel that ended with res is counted: its
// tunnel.Cause, but a timeout with an error (a write that did not
// complete within proxy_send_timeout) apart from an idle one
// (proxy_read_timeout), as $ws_end_reason tells them apart.
func causeIndex(res *tunnel.Result) int {
	if res.ClosedBy == tunnel.CauseTimeout && res.Err != nil {
		return causeSendTimeout
	}
	return int(res.ClosedBy)
}

// causeSendTimeout is the last slot of the causes array: the timeouts of
// proxy_send_timeout.
const causeSendTimeout = maxCauses - 1

// causeName is the "cause" label of slot i, in the words of
// $ws_end_reason where it has them (idle, send_timeout, drain); a Cause
// added to the tunnel later is named by its String. "" for none.
func causeName(i int) string {
	switch c := tunnel.Cause(i); {
	case i == causeSendTimeout:
		return "send_timeout"
	case c == tunnel.CauseTimeout:
		return "idle"
	case c == tunnel.CauseShutdown:
		return "drain"
	case c.String() == "none":
		return ""
	default:
		return c.String()
	}
}

// Close code classes ("code" label): the codes RFC 6455 7.4.1 and the
// IANA registry define, 1000 to 1015, one each; 3000-3999 (registered
// for libraries and frameworks) and 4000-4999 (private use) as one class
// each, so that a peer choosing codes cannot grow the series; "none"
// for a tunnel that ended without a Close; "other" for anything else.
const (
	codeRegistered = 16 // 1000 + i for i below it
	code3xxx       = codeRegistered
	code4xxx       = code3xxx + 1
	codeNone       = code4xxx + 1
	codeOther      = codeNone + 1
	numCodes       = codeOther + 1
)

func codeIndex(c uint16) int {
	switch {
	case c == 0:
		return codeNone
	case c >= 1000 && c < 1000+codeRegistered:
		return int(c - 1000)
	case c >= 3000 && c <= 3999:
		return code3xxx
	case c >= 4000 && c <= 4999:
		return code4xxx
	}
	return codeOther
}

func codeName(i int) string {
	switch i {
	case code3xxx:
		return "3xxx"
	case code4xxx:
		return "4xxx"
	case codeNone:
		return "none"
	case codeOther:
		return "other"
	}
	return strconv.Itoa(1000 + i)
}

// Sides that sent a tunnel's first Close ("side" label).
const (
	sideClient = iota
	sideUpstream
	sideWsgate // wsgate sent it: timeout, reload, drain, a side gone without one
	numSides
)

var sideNames = [numSides]string{"client", "upstream", "wsgate"}

// closeSide is the side of a tunnel's first Close: the peer that sent
// it (Result.CloseFrom), else wsgate when there was a Close, else, for a
// tunnel that ended with no Close at all (code "none"), the side that
// ended it.
func closeSide(res *tunnel.Result) int {
	switch {
	case res.CloseFrom == tunnel.CauseClient:
		return sideClient
	case res.CloseFrom == tunnel.CauseUpstream:
		return sideUpstream
	case res.CloseCode != 0:
		return sideWsgate
	case res.ClosedBy == tunnel.CauseClient:
		return sideClient
	case res.ClosedBy == tunnel.CauseUpstream:
		return sideUpstream
	}
	return sideWsgate
}

// Handshake outcomes ("outcome" label of wsgate_websocket_handshakes_total).
const (
	hsUpgraded   = iota // 101: the tunnel opened
	hsRejected          // answered by wsgate before any upstream was tried (access, bad handshake, return)
	hsDeclined          // an upstream answered without switching protocols (status below 500)
	hsError             // 5xx after trying upstreams: none reachable, a failure, or the upstream's own 5xx
	hsClientGone        // 499: the client went away first
	numHandshakes
)

var handshakeNames = [numHandshakes]string{"upgraded", "rejected", "declined", "error", "client_closed"}

func handshakeOutcome(r *proxy.Request) int {
	switch {
	case r.Status == 101:
		return hsUpgraded
	case r.Status == 499:
		return hsClientGone
	case r.Tries == 0:
		return hsRejected
	case r.Status >= 500:
		return hsError
	}
	return hsDeclined
}

// Try outcomes ("outcome" label of wsgate_upstream_tries_total), indexed
// by proxy.TryOutcome.
const numTryOutcomes = int(proxy.TryClientGone) + 1

var tryNames = [numTryOutcomes]string{"", "connected", "refused", "timeout", "failed", "no_live", "client_closed"}

// tunnelKey names a tunnel series.
type tunnelKey struct{ server, location, upstream, peer string }

// routeKey names a location's series.
type routeKey struct{ server, location string }

// peerKey names an upstream peer's series.
type peerKey struct{ upstream, peer string }

// tunnelSeries are the counters of the tunnels of one server, location,
// upstream and peer. Frames of the tunnels add to them with atomics.
type tunnelSeries struct {
	key     tunnelKey
	open    atomic.Int64
	frames  [2][numOps]atomic.Uint64
	payload [2][numOps]atomic.Uint64 // payload bytes
	// sizes are the message sizes in bytes by direction and opcode (text,
	// binary); their counts are the message counts.
	sizes    [2][2]*hist
	duration *hist            // nanoseconds
	bytes    [2]atomic.Uint64 // relayed, frame headers included (tunnel.Result)
	causes   [maxCauses]atomic.Uint64
	codes    [numSides][numCodes]atomic.Uint64
	// rtt are the round-trip times of wsgate's Pings in nanoseconds, by
	// side pinged (sideClient, sideUpstream): one per tunnel and side
	// that answered one.
	rtt [2]*hist
	// stale is set when a reload removed the series' location or peer
	// while tunnels were open on it: the last one to end drops it.
	// Guarded by Metrics.mu.
	stale bool
}

func newTunnelSeries(k tunnelKey) *tunnelSeries {
	s := &tunnelSeries{key: k, duration: newHist(sessionBounds), rtt: [2]*hist{newHist(rttBounds), newHist(rttBounds)}}
	for d := range s.sizes {
		for op := range s.sizes[d] {
			s.sizes[d][op] = newHist(sizeBounds)
		}
	}
	return s
}

// routeSeries are the counters of the requests of one server and location.
type routeSeries struct {
	key        routeKey
	classes    [6]atomic.Uint64 // status classes 1xx to 5xx; [0] other
	handshakes [numHandshakes]atomic.Uint64
}

// peerSeries are the counters of the tries of one upstream peer.
type peerSeries struct {
	key    peerKey
	tries  [numTryOutcomes]atomic.Uint64
	header *hist // nanoseconds to the response head, tries that got one
}
