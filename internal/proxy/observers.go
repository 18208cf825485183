package proxy

import "wsgate/internal/tunnel"

// Observers returns an Observer that tells each non-nil one of obs, in
// order; nil when there is none, the one itself when there is one.
func Observers(obs ...Observer) Observer {
	var list multiObserver
	for _, o := range obs {
		if o != nil {
			list = append(list, o)
		}
	}
	switch len(list) {
	case 0:
		return nil
	case 1:
		return list[0]
	}
	return list
}

// multiObserver tells several observers.
type multiObserver []Observer

// The calls skip an idle observer among busy ones.

func (m multiObserver) Try(t Try) {
	for _, o := range m {
		if !idle(o) {
			o.Try(t)
		}
	}
}

func idle(o Observer) bool {
	i, ok := o.(Idler)
	return ok && i.Idle()
}

func (m multiObserver) Request(r Request) {
	for _, o := range m {
		if !idle(o) {
			o.Request(r)
		}
	}
}

func (m multiObserver) TunnelEnd(t Tunnel, res tunnel.Result) {
	for _, o := range m {
		o.TunnelEnd(t, res)
	}
}

// Idle reports whether every observer is idle (see Idler).
func (m multiObserver) Idle() bool {
	for _, o := range m {
		if i, ok := o.(Idler); !ok || !i.Idle() {
			return false
		}
	}
	return true
}

// TunnelStart returns the frame observers the observers returned: nil
// when none did, the one when one did.
func (m multiObserver) TunnelStart(t Tunnel) tunnel.FrameObserver {
	var frames multiFrames
	for _, o := range m {
		if idle(o) {
			continue
		}
		if f := o.TunnelStart(t); f != nil {
			frames = append(frames, f)
		}
	}
	switch len(frames) {
	case 0:
		return nil
	case 1:
		return frames[0]
	}
	return frames
}

type multiFrames []tunnel.FrameObserver

func (m multiFrames) Frame(f tunnel.Frame) {
	for _, o := range m {
		o.Frame(f)
	}
}
