package limit

import (
	"fmt"
	"testing"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/vars"
)

// fakeClock is a Clock a test moves by hand.
type fakeClock struct{ ms int64 }

func (c *fakeClock) now() int64 { return c.ms }

// testZones builds zones named "a", "b" ... from their definitions.
func testZones(t *testing.T, clk *fakeClock, defs ...config.LimitZone) *Zones {
	t.Helper()
	vc, err := vars.NewCompiler(nil)
	if err != nil {
		t.Fatal(err)
	}
	var zs []*config.LimitZone
	for i := range defs {
		d := defs[i]
		if d.Key == "" {
			d.Key = "$remote_addr"
		}
		if d.Size == 0 {
			d.Size = 1 << 20
		}
		zs = append(zs, &d)
	}
	var errs config.ErrorList
	z := Build(NewRegistry(clk.now), zs, vc, &errs)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return z
}

func TestReqBucket(t *testing.T) {
	type step struct {
		at     int64  // ms since the start
		client string // $remote_addr; "" is 10.0.0.1
		want   string // "pass", "delay N" (ms), "reject", "pass-dry", "delay-dry", "reject-dry"
	}
	tests := []struct {
		name  string
		zones []config.LimitZone
		conf  config.LimitReqConf
		steps []step
	}{
		{
			name:  "no burst refuses the second request of a second",
			zones: []config.LimitZone{{Name: "a", Rate: 1000}},
			conf:  config.LimitReqConf{Rules: []config.LimitReqRule{{Zone: "a"}}},
			steps: []step{{0, "", "pass"}, {0, "", "reject"}, {999, "", "reject"}, {1000, "", "pass"}, {1000, "10.0.0.2", "pass"}},
		},
		{
			name:  "burst delays by the excess over the rate",
			zones: []config.LimitZone{{Name: "a", Rate: 1000}},
			conf:  config.LimitReqConf{Rules: []config.LimitReqRule{{Zone: "a", Burst: 2}}},
			steps: []step{{0, "", "pass"}, {0, "", "delay 1000"}, {0, "", "delay 2000"}, {0, "", "reject"}, {500, "", "reject"}, {1000, "", "delay 2000"}},
		},
		{
			name:  "burst nodelay passes the burst at once",
			zones: []config.LimitZone{{Name: "a", Rate: 1000}},
			conf:  config.LimitReqConf{Rules: []config.LimitReqRule{{Zone: "a", Burst: 2, NoDelay: true}}},
			steps: []step{{0, "", "pass"}, {0, "", "pass"}, {0, "", "pass"}, {0, "", "reject"}, {1000, "", "pass"}, {1000, "", "reject"}},
		},
		{
			name:  "delay= passes that many then delays",
			zones: []config.LimitZone{{Name: "a", Rate: 1000}},
			conf:  config.LimitReqConf{Rules: []config.LimitReqRule{{Zone: "a", Burst: 3, Delay: 1}}},
			steps: []step{{0, "", "pass"}, {0, "", "pass"}, {0, "", "delay 1000"}, {0, "", "delay 2000"}, {0, "", "reject"}},
		},
		{
			name:  "r/m is thousandths per second",
			zones: []config.LimitZone{{Name: "a", Rate: 500}}, // 30r/m
			conf:  config.LimitReqConf{Rules: []config.LimitReqRule{{Zone: "a", Burst: 1}}},
			steps: []step{{0, "", "pass"}, {0, "", "delay 2000"}, {0, "", "reject"}, {1000, "", "reject"}, {2000, "", "delay 2000"}},
		},
		{
			name:  "the strictest of several lines delays",
			zones: []config.LimitZone{{Name: "a", Rate: 10000}, {Name: "b", Rate: 1000}},
			conf: config.LimitReqConf{Rules: []config.LimitReqRule{
				{Zone: "a", Burst: 5}, {Zone: "b", Burst: 5},
			}},
			steps: []step{{0, "", "pass"}, {0, "", "delay 1000"}, {0, "", "delay 2000"}},
		},
		{
			name:  "the first line that overflows refuses",
			zones: []config.LimitZone{{Name: "a", Rate: 1000}, {Name: "b", Rate: 1000}},
			conf: config.LimitReqConf{Rules: []config.LimitReqRule{
				{Zone: "a"}, {Zone: "b", Burst: 10, NoDelay: true},
			}},
			steps: []step{{0, "", "pass"}, {0, "", "reject"}, {1000, "", "pass"}},
		},
		{
			name:  "dry run counts and never holds back",
			zones: []config.LimitZone{{Name: "a", Rate: 1000}},
			conf:  config.LimitReqConf{Rules: []config.LimitReqRule{{Zone: "a", Burst: 1}}, DryRun: true},
			steps: []step{{0, "", "pass"}, {0, "", "delay-dry"}, {0, "", "reject-dry"}},
		},
		{
			name:  "an empty key is not limited",
			zones: []config.LimitZone{{Name: "a", Rate: 1000, Key: "$http_x_none"}},
			conf:  config.LimitReqConf{Rules: []config.LimitReqRule{{Zone: "a"}}},
			steps: []step{{0, "", "none"}, {0, "", "none"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &fakeClock{ms: clockBase}
			zs := testZones(t, clk, tt.zones...)
			q := CompileReq(&tt.conf, zs)
			var s Scratch
			for i, st := range tt.steps {
				clk.ms = clockBase + st.at
				c := st.client
				if c == "" {
					c = "10.0.0.1"
				}
				o := q.Check(&vars.Ctx{RemoteAddr: c}, &s)
				got := describe(o)
				if got != st.want {
					t.Fatalf("step %d (at %d ms): got %s (%+v); want %s", i, st.at, got, o, st.want)
				}
			}
		})
	}
}

func describe(o Outcome) string {
	switch o.State {
	case ReqNone:
		return "none"
	case ReqPassed:
		return "pass"
	case ReqDelayed:
		return fmt.Sprintf("delay %d", o.Delay/time.Millisecond)
	case ReqRejected:
		if o.Status != 503 {
			return fmt.Sprintf("reject %d", o.Status)
		}
		return "reject"
	case ReqDelayedDryRun:
		return "delay-dry"
	case ReqRejectedDryRun:
		return "reject-dry"
	}
	return "?"
}

// TestReqZoneFull checks the zone's size as a cap: a 32k zone holds as
// many states as nginx's slab gives it, and a new key then drops the
// least recently used one.
func TestReqZoneFull(t *testing.T) {
	clk := &fakeClock{ms: clockBase}
	zs := testZones(t, clk, config.LimitZone{Name: "a", Rate: 1000, Size: 32 << 10})
	q := CompileReq(&config.LimitReqConf{Rules: []config.LimitReqRule{{Zone: "a"}}}, zs)
	var s Scratch
	check := func(addr string) ReqState { return q.Check(&vars.Ctx{RemoteAddr: addr}, &s).State }
	room := zs.req["a"].t.room
	per := chunk(reqNodeBase + int64(len("10.0.0.1")))
	n := int(room / per)
	if n < 200 || n > 256 {
		t.Fatalf("a 32k zone holds %d states of %d bytes; want about 220, as nginx's", n, per)
	}
	for i := 0; i < n; i++ {
		if got := check(fmt.Sprintf("10.1.%d.%d", i/256, i%256)); got != ReqPassed {
			t.Fatalf("key %d: %v; want PASSED", i, got)
		}
	}
	if got := check("10.1.0.1"); got != ReqRejected {
		t.Fatalf("second request of a kept key: %v; want REJECTED", got)
	}
	// The zone is full: a new key drops the oldest (10.1.0.0), whose
	// next request starts afresh.
	if got := check("10.2.0.0"); got != ReqPassed {
		t.Fatalf("new key in a full zone: %v; want PASSED", got)
	}
	if got := check("10.1.0.0"); got != ReqPassed {
		t.Fatalf("the dropped key: %v; want PASSED (state forgotten)", got)
	}
	if got := len(zs.req["a"].t.nodes); got != n {
		t.Fatalf("zone holds %d states; want %d", got, n)
	}
}

// TestReqKeptAcrossReload checks that a reload with the same zone keeps
// its state, and that another size starts a new one.
func TestReqKeptAcrossReload(t *testing.T) {
	clk := &fakeClock{ms: clockBase}
	vc, _ := vars.NewCompiler(nil)
	reg := NewRegistry(clk.now)
	build := func(size int64) *Req {
		var errs config.ErrorList
		zs := Build(reg, []*config.LimitZone{{Name: "a", Key: "$remote_addr", Size: size, Rate: 1000}}, vc, &errs)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		zs.Activate()
		return CompileReq(&config.LimitReqConf{Rules: []config.LimitReqRule{{Zone: "a"}}}, zs)
	}
	var s Scratch
	vx := &vars.Ctx{RemoteAddr: "10.0.0.1"}
	if got := build(1<<20).Check(vx, &s).State; got != ReqPassed {
		t.Fatalf("first: %v", got)
	}
	if got := build(1<<20).Check(vx, &s).State; got != ReqRejected {
		t.Fatalf("after a reload with the same zone: %v; want REJECTED (state kept)", got)
	}
	if got := build(2<<20).Check(vx, &s).State; got != ReqPassed {
		t.Fatalf("after a reload with a new size: %v; want PASSED (a new zone)", got)
	}
	var errs config.ErrorList
	Build(reg, []*config.LimitZone{{Name: "a", Key: "$host", Size: 2 << 20, Rate: 1000}}, vc, &errs)
	if len(errs) != 1 {
		t.Fatalf("a new key for a kept zone: %v; want nginx's error", errs)
	}
}

// BenchmarkReqCheck is one limit_req check of a known key that passes.
func BenchmarkReqCheck(b *testing.B) {
	clk := &fakeClock{ms: clockBase}
	vc, _ := vars.NewCompiler(nil)
	var errs config.ErrorList
	zs := Build(NewRegistry(clk.now), []*config.LimitZone{{Name: "a", Key: "$remote_addr", Size: 1 << 20, Rate: 1000}}, vc, &errs)
	q := CompileReq(&config.LimitReqConf{Rules: []config.LimitReqRule{{Zone: "a", Burst: 1 << 40, NoDelay: true}}}, zs)
	var s Scratch
	ctx := &vars.Ctx{RemoteAddr: "10.0.0.1"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		clk.ms = clockBase + int64(i)
		if q.Check(ctx, &s).Status != 0 {
			b.Fatal("refused")
		}
	}
}

// TestZoneCapacity pins the number of keys a 1m zone holds to what
// nginx's slab allocator gives (the README quotes them).
func TestZoneCapacity(t *testing.T) {
	clk := &fakeClock{ms: clockBase}
	zs := testZones(t, clk, config.LimitZone{Name: "r", Rate: 1000}, config.LimitZone{Name: "c", Conn: true})
	if got := zs.req["r"].t.room / chunk(reqNodeBase+4); got != 8127 {
		t.Errorf("limit_req 1m zone: %d keys of 4 bytes; want 8127", got)
	}
	if got := zs.conn["c"].t.room / chunk(connNodeBase+4); got != 16254 {
		t.Errorf("limit_conn 1m zone: %d keys of 4 bytes; want 16254", got)
	}
}
