package tunnel

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"wsgate/internal/ws"
)

// Info describes one live tunnel. Route, Upstream, Client, Start and
// DrainWindow are fixed at Add; the byte counts are a snapshot of live
// counters.
type Info struct {
	Route    string    // route key: reload closes tunnels whose route changed or went away
	Upstream string    // upstream peer address
	Client   string    // client address
	Start    time.Time // when the tunnel was added (time.Now when zero at Add)
	// DrainWindow is the ws_drain_window of the tunnel's location: a
	// graceful stop (Shutdown) spreads its Close requests over it.
	DrainWindow time.Duration

	FromClient   int64 // bytes relayed client → upstream so far
	FromUpstream int64 // bytes relayed upstream → client so far
	// ClientRTT and UpstreamRTT are the round-trip times of the latest
	// answered Pings of wsgate's (Handle.PingRTT); 0: none.
	ClientRTT, UpstreamRTT time.Duration
}

type closeRequest struct {
	cause  Cause
	code   uint16
	reason string
}

// Handle is one tunnel's entry in a Registry. Run updates its counters,
// obeys its close requests and removes it when the tunnel ends.
type Handle struct {
	reg *Registry
	// The fixed part of Info, without its counters (start in Unix
	// nanoseconds), the frame hook and the registry's links: a Handle
	// takes 160 bytes, the allocator's 160-byte size class.
	route, upstream, client string
	start                   int64
	drain                   time.Duration
	// frames is Options.Frames' Frame, set by Start before the copiers
	// run; nil when no one asked for frames. It lives here rather than in
	// the tunnel, which fills its size class to the byte.
	frames func(Frame)

	fromClient   atomic.Int64
	fromUpstream atomic.Int64
	t            atomic.Pointer[tunnel] // set by Start; requests are applied through it

	mu sync.Mutex
	// The pending close request, when pending: the first one wins until
	// the tunnel takes it (takeRequest).
	reqCause  Cause
	reqCode   uint16
	pending   bool
	removed   bool
	linked    bool // in reg's live list; guarded by reg.mu
	reqReason string
	done      chan struct{} // made by the first Done call; closed at Remove

	// The registry's list of live tunnels, guarded by reg.mu: a list
	// rather than a map costs a live tunnel no map entry.
	prev, next *Handle
}

// attach connects the handle to its running tunnel and applies a request
// made before.
func (h *Handle) attach(t *tunnel) {
	h.t.Store(t)
	t.onRequest()
}

// takeRequest returns the pending close request and clears it.
func (h *Handle) takeRequest() (closeRequest, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.pending {
		return closeRequest{}, false
	}
	h.pending = false
	r := closeRequest{cause: h.reqCause, code: h.reqCode, reason: h.reqReason}
	h.reqReason = ""
	return r, true
}

// Info returns the tunnel's description with current byte counts.
func (h *Handle) Info() Info {
	crtt, urtt := h.PingRTT()
	return Info{
		Route: h.route, Upstream: h.upstream, Client: h.client, Start: time.Unix(0, h.start), DrainWindow: h.drain,
		FromClient: h.fromClient.Load(), FromUpstream: h.fromUpstream.Load(),
		ClientRTT: crtt, UpstreamRTT: urtt,
	}
}

// Close asks the tunnel to end: in frame-aware mode with a Close frame of
// code (and reason) to each side at a frame boundary, otherwise by closing
// both sockets. cause is what Result.ClosedBy reports. It does not wait; a
// request made before Run starts is honoured when it starts. Later requests
// while one is pending are dropped.
func (h *Handle) Close(cause Cause, code uint16, reason string) {
	h.mu.Lock()
	if !h.pending {
		h.pending = true
		h.reqCause, h.reqCode, h.reqReason = cause, code, reason
	}
	h.mu.Unlock()
	if t := h.t.Load(); t != nil {
		t.onRequest()
	}
}

// Done is closed once the tunnel has ended (Remove was called).
func (h *Handle) Done() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done == nil {
		h.done = make(chan struct{})
		if h.removed {
			close(h.done)
		}
	}
	return h.done
}

// Remove takes the tunnel out of its registry. Run calls it when the tunnel
// ends; call it yourself only for a handle that never reached Run. It is
// idempotent.
func (h *Handle) Remove() {
	if h.reg != nil {
		h.reg.mu.Lock()
		h.reg.unlink(h)
		h.reg.mu.Unlock()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.removed {
		h.removed = true
		if h.done != nil {
			close(h.done)
		}
	}
}

// Registry holds the live tunnels of a process. It outlives reloads: reload
// closes the tunnels of changed routes through CloseWhere, shutdown closes
// all through Shutdown; Len and Each list the live tunnels for whoever
// reports on them (the proxy's Observer hears of each tunnel's start and
// end instead). Safe for concurrent use.
type Registry struct {
	mu       sync.Mutex
	live     *Handle       // the live tunnels' list, newest first
	n        int           // its length
	shutdown *closeRequest // set by Shutdown; later Adds are closed at once
	park     *Parker       // made at the first tunnel that may park
}

// parker returns the registry's Parker, shared by all its tunnels.
func (r *Registry) parker() *Parker {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.park == nil && r.shutdown != nil {
		return nil // tunnels added after Shutdown are closed at once
	}
	if r.park == nil {
		r.park = NewParker()
	}
	return r.park
}

// Parked returns the number of tunnel directions parked now (idle, with
// no goroutine).
func (r *Registry) Parked() int {
	r.mu.Lock()
	p := r.park
	r.mu.Unlock()
	if p == nil {
		return 0
	}
	return p.Parked()
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{}
}

// link adds h to the live list. r.mu is held.
func (r *Registry) link(h *Handle) {
	h.prev, h.next, h.linked = nil, r.live, true
	if r.live != nil {
		r.live.prev = h
	}
	r.live = h
	r.n++
}

// unlink takes h out of the live list, if it is in it. r.mu is held.
func (r *Registry) unlink(h *Handle) {
	if !h.linked {
		return
	}
	if h.prev != nil {
		h.prev.next = h.next
	} else {
		r.live = h.next
	}
	if h.next != nil {
		h.next.prev = h.prev
	}
	h.prev, h.next, h.linked = nil, nil, false
	r.n--
}

func newHandle(r *Registry, info Info) *Handle {
	if info.Start.IsZero() {
		info.Start = time.Now()
	}
	return &Handle{reg: r, route: info.Route, upstream: info.Upstream, client: info.Client, start: info.Start.UnixNano(), drain: info.DrainWindow}
}

// Add registers a tunnel and returns its handle, to be passed to Run in
// Options.Handle. After Shutdown the handle carries a close request already.
func (r *Registry) Add(info Info) *Handle {
	h := newHandle(r, info)
	r.mu.Lock()
	r.link(h)
	sd := r.shutdown
	r.mu.Unlock()
	if sd != nil {
		h.Close(sd.cause, sd.code, sd.reason)
	}
	return h
}

// Len returns the number of live tunnels.
func (r *Registry) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

func (r *Registry) handles() []*Handle {
	r.mu.Lock()
	defer r.mu.Unlock()
	hs := make([]*Handle, 0, r.n)
	for h := r.live; h != nil; h = h.next {
		hs = append(hs, h)
	}
	return hs
}

// Each calls fn with every live tunnel's Info, in no particular order, not
// under the registry's lock.
func (r *Registry) Each(fn func(Info)) {
	for _, h := range r.handles() {
		fn(h.Info())
	}
}

// CloseWhere asks every live tunnel whose Info matches to close with code
// (ws.CloseServiceRestart or ws.CloseGoingAway at reload) and reason, with
// cause CauseReload. The requests are spread evenly over spread, so that
// thousands of clients do not reconnect in the same second (ws_drain_window);
// spread <= 0 closes all at once. It returns the number matched without
// waiting; the pacing runs in its own goroutine for at most spread.
func (r *Registry) CloseWhere(match func(Info) bool, code uint16, reason string, spread time.Duration) int {
	var hs []*Handle
	for _, h := range r.handles() {
		if match(h.Info()) {
			hs = append(hs, h)
		}
	}
	spreadCloses(hs, closeRequest{cause: CauseReload, code: code, reason: reason}, spread, nil)
	return len(hs)
}

// spreadCloses asks hs to close with req, spread evenly over spread: hs[i]
// at i·spread/len(hs) after now, the first at once, the last one step
// before spread ends. spread <= 0, or a single handle, asks all at once.
// The pacing runs in its own goroutine; when stop is closed before it ends,
// the handles not yet asked are asked at once. It is the one pacer of
// reload (CloseWhere) and graceful stop (Shutdown).
func spreadCloses(hs []*Handle, req closeRequest, spread time.Duration, stop <-chan struct{}) {
	if spread <= 0 || len(hs) <= 1 {
		for _, h := range hs {
			h.Close(req.cause, req.code, req.reason)
		}
		return
	}
	go paceCloses(hs, req, spread, stop)
}

// paceCloses sends hs[i] its close request at i·spread/len(hs) after start,
// or at once from the moment stop is closed.
func paceCloses(hs []*Handle, req closeRequest, spread time.Duration, stop <-chan struct{}) {
	start := time.Now()
	step := spread / time.Duration(len(hs))
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	rush := false
	for i, h := range hs {
		if wait := time.Until(start.Add(time.Duration(i) * step)); wait > 0 && !rush {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-stop:
				rush = true
			}
		}
		h.Close(req.cause, req.code, req.reason)
	}
}

// Shutdown is the registry's part of a stop. It asks every live tunnel to
// close with code (ws.CloseGoingAway when 0) and cause CauseShutdown, and
// waits until all have ended or ctx is done, returning ctx's error in the
// latter case. It then closes the Parker: tunnels still running keep
// goroutines of their own.
//
// The requests are spread as a reload spreads its own (the same pacer):
// the tunnels of each DrainWindow evenly over that window, cut to
// maxSpread, so that the clients of a stopping instance reconnect to the
// others over the window, not in the same second. A DrainWindow of 0
// (ws_drain_window 0), or maxSpread <= 0 (the fast stop), asks at once.
// Tunnels added after the call are asked at once. When ctx is done before
// the spread ends, the requests not yet made are made at once.
func (r *Registry) Shutdown(ctx context.Context, code uint16, maxSpread time.Duration) error {
	defer func() {
		r.mu.Lock()
		p := r.park
		r.mu.Unlock()
		if p != nil {
			p.Close()
		}
	}()
	req := closeRequest{cause: CauseShutdown, code: code, reason: "server shutting down"}
	if code == 0 {
		req.code = ws.CloseGoingAway
	}
	r.mu.Lock()
	r.shutdown = &req
	r.mu.Unlock()
	hs := r.handles()
	groups := map[time.Duration][]*Handle{}
	for _, h := range hs {
		w := min(h.drain, maxSpread)
		groups[w] = append(groups[w], h)
	}
	// Ends the pacing when Shutdown returns: at ctx's end the requests
	// not yet made are made at once; once every tunnel has ended they are
	// no-ops.
	stop := make(chan struct{})
	defer close(stop)
	for w, g := range groups {
		spreadCloses(g, req, w, stop)
	}
	for {
		for _, h := range hs {
			select {
			case <-h.Done():
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		// Tunnels added while waiting were closed by Add; wait for them too.
		if hs = r.handles(); len(hs) == 0 {
			return nil
		}
	}
}
