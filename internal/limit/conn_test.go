package limit

import (
	"strings"
	"testing"

	"wsgate/internal/config"
	"wsgate/internal/vars"
)

// TestConnCount checks limit_conn's count: taken per key up to the line's
// number, given back on Release (or by a detached holder), given back
// for earlier lines when a later one refuses, and never taken in a dry
// run's refusal.
func TestConnCount(t *testing.T) {
	clk := &fakeClock{ms: clockBase}
	zs := testZones(t, clk, config.LimitZone{Name: "a", Conn: true}, config.LimitZone{Name: "b", Conn: true, Key: "$host"})
	one := CompileConn(&config.LimitConnConf{Rules: []config.LimitConnRule{{Zone: "a", Conn: 2}, {Zone: "b", Conn: 1}}}, zs)
	dry := CompileConn(&config.LimitConnConf{Rules: []config.LimitConnRule{{Zone: "a", Conn: 1}}, DryRun: true, Status: 429}, zs)
	var key []byte
	vx := func(host string) *vars.Ctx { return &vars.Ctx{RemoteAddr: "10.0.0.1", Host: host} }
	count := func(zone, k string) int {
		if n := zs.conn[zone].t.nodes[k]; n != nil {
			return n.conns
		}
		return 0
	}
	var h1, h2, h3 Held
	if o := one.Acquire(vx("x"), &key, &h1); o.State != ConnPassed {
		t.Fatalf("first: %+v", o)
	}
	// Zone b holds one "x": a second "x" is refused there, and what a
	// took for it is given back.
	if o := one.Acquire(vx("x"), &key, &h2); o.State != ConnRejected || o.Status != 503 || o.Zone != "b" {
		t.Fatalf("second x: %+v; want REJECTED 503 by b", o)
	}
	if got := count("a", "10.0.0.1"); got != 1 {
		t.Fatalf("zone a count after the refusal: %d; want 1", got)
	}
	if o := one.Acquire(vx("y"), &key, &h2); o.State != ConnPassed {
		t.Fatalf("y: %+v", o)
	}
	// a is full (2 of 2): a dry run logs and lets through uncounted.
	if o := dry.Acquire(vx("z"), &key, &h3); o.State != ConnRejectedDryRun || o.Status != 0 || h3.Holds() {
		t.Fatalf("dry run: %+v holds %v; want REJECTED_DRY_RUN, nothing held", o, h3.Holds())
	}
	release := h1.Detach()
	if h1.Holds() {
		t.Fatal("a detached holder still holds")
	}
	release()
	h2.Release()
	if n := len(zs.conn["a"].t.nodes) + len(zs.conn["b"].t.nodes); n != 0 {
		t.Fatalf("%d keys left after every release; want none", n)
	}
}

// TestLongKeys checks that a key longer than nginx allows leaves its line
// out, and says so for the error log.
func TestLongKeys(t *testing.T) {
	clk := &fakeClock{ms: clockBase}
	zs := testZones(t, clk, config.LimitZone{Name: "r", Rate: 1000, Key: "$host"}, config.LimitZone{Name: "c", Conn: true, Key: "$host"})
	q := CompileReq(&config.LimitReqConf{Rules: []config.LimitReqRule{{Zone: "r"}}}, zs)
	c := CompileConn(&config.LimitConnConf{Rules: []config.LimitConnRule{{Zone: "c", Conn: 1}}}, zs)
	long := &vars.Ctx{Host: strings.Repeat("h", 300)}
	var key []byte
	var h Held
	if o := c.Acquire(long, &key, &h); o.State != ConnNone || o.LongKey != "$host" || h.Holds() {
		t.Errorf("limit_conn with a 300-byte key: %+v; want not counted, LongKey $host", o)
	}
	var s Scratch
	if o := q.Check(long, &s); o.State != ReqPassed || o.LongKey != "" {
		t.Errorf("limit_req with a 300-byte key: %+v; want PASSED", o)
	}
	huge := &vars.Ctx{Host: strings.Repeat("h", 70000)}
	if o := q.Check(huge, &s); o.State != ReqNone || o.LongKey != "$host" {
		t.Errorf("limit_req with a 70000-byte key: %+v; want not limited, LongKey $host", o)
	}
}
