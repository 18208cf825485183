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

func (m multiObserver) Try(t Try) {
	for _, o := range m {
		o.Try(t)
	}
}

func (m multiObserver) Request(r Request) {
	for _, o := range m {
		o.Request(r)
	}
}

func (m multiObserver) TunnelEnd(t Tunnel, res tunnel.Result) {
	for _, o := range m {
		o.TunnelEnd(t, res)
	}
}

// TunnelStart returns the frame observers the observers returned: nil
// when none did, the one when one did.
func (m multiObserver) TunnelStart(t Tunnel) tunnel.FrameObserver {
	var frames multiFrames
	for _, o := range m {
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
