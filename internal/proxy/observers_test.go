package proxy

import (
	"testing"

	"wsgate/internal/tunnel"
)

// countObs counts the events it is told of; idle makes it an idle Idler.
type countObs struct {
	idle                      bool
	tries, starts, ends, reqs int
}

func (o *countObs) Idle() bool { return o.idle }
func (o *countObs) Try(Try)    { o.tries++ }
func (o *countObs) TunnelStart(Tunnel) tunnel.FrameObserver {
	o.starts++
	return nil
}
func (o *countObs) TunnelEnd(Tunnel, tunnel.Result) { o.ends++ }
func (o *countObs) Request(Request)                 { o.reqs++ }

// plainObs is an Observer without Idle: never idle.
type plainObs struct{ countObs }

func (o *plainObs) Idle() {} // not Idler's signature

// TestObservers: Observers drops nils, the handler asks an idle observer
// nothing, and a pair tells only its busy member.
func TestObservers(t *testing.T) {
	if Observers(nil, nil) != nil {
		t.Error("Observers of nils is not nil")
	}
	one := &countObs{}
	if Observers(nil, one) != Observer(one) {
		t.Error("Observers of one observer is not that observer")
	}
	idle, busy := &countObs{idle: true}, &plainObs{}
	pair := Observers(idle, busy)
	if i, ok := pair.(Idler); !ok || i.Idle() {
		t.Error("a pair with a busy member reports idle")
	}
	pair.Try(Try{})
	pair.Request(Request{})
	if pair.TunnelStart(Tunnel{}) != nil {
		t.Error("TunnelStart: got a frame observer; want nil")
	}
	if idle.tries+idle.reqs+idle.starts != 0 || busy.tries != 1 || busy.reqs != 1 || busy.starts != 1 {
		t.Errorf("idle told %+v, busy told %+v; want the busy one only", *idle, busy.countObs)
	}
	h := &Handler{Observer: idle}
	if h.observer() != nil {
		t.Error("the handler's observer while idle: got one; want nil")
	}
	idle.idle = false
	if h.observer() != Observer(idle) {
		t.Error("the handler's observer once busy: got none")
	}
}
