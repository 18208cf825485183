package limit

import (
	"log/slog"
	"math"
	"time"
	"wsgate/internal/accesslog"

	"wsgate/internal/config"
	"wsgate/internal/vars"
)

// This file is ngx_http_limit_req_module's handler: a leaky bucket per
// key whose level ("excess") is counted in thousandths of a request and
// drains at the zone's rate.

// ReqZone is a limit_req_zone as one snapshot has it: its key and rate
// over a state that may outlive the snapshot.
type ReqZone struct {
	Name string
	rate int64 // thousandths of a request per second
	key  *vars.Template
	t    *table
}

// Req is a location's limit_req lines and settings, compiled.
type Req struct {
	limits []reqLimit
	// Status answers a refused request (limit_req_status, default 503).
	Status int
	// Level is limit_req_log_level's for refusals; DelayLevel, one
	// lower, for delays.
	Level, DelayLevel slog.Level
	DryRun            bool
}

type reqLimit struct {
	zone         *ReqZone
	burst, delay int64 // thousandths
}

// ReqState is $limit_req_status (nginx 1.17.6+).
type ReqState uint8

const (
	ReqNone ReqState = iota // no limit_req looked at the request
	ReqPassed
	ReqDelayed
	ReqRejected
	ReqDelayedDryRun
	ReqRejectedDryRun
)

var reqStateNames = [...]string{"", "PASSED", "DELAYED", "REJECTED", "DELAYED_DRY_RUN", "REJECTED_DRY_RUN"}

// String is the variable's value; "" for ReqNone (not found).
func (s ReqState) String() string { return reqStateNames[s] }

// Outcome is what a check decided.
type Outcome struct {
	// State is what $limit_req_status says; ReqNone when every key was
	// empty (the request is not limited).
	State ReqState
	// Status is the status to answer with; 0 lets the request go on,
	// after Delay.
	Status int
	Delay  time.Duration
	// Excess (thousandths) and Zone are what nginx logs with a refusal or
	// a delay; NoRoom says the zone had no room for a new key (nginx's
	// "could not allocate node").
	Excess int64
	Zone   string
	NoRoom bool
	// LongKey is the key (as written) of a line left out because its
	// value was longer than nginx allows (65535 bytes), which nginx logs.
	LongKey string
}

// Scratch is one request's working space for Check, reused from one
// request to the next.
type Scratch struct {
	key  []byte
	held []*node // limits[i]'s node while a later limit is looked at
}

// CompileReq compiles a location's limit_req settings over zs; nil when
// it has no limit_req.
func CompileReq(c *config.LimitReqConf, zs *Zones) *Req {
	if len(c.Rules) == 0 {
		return nil
	}
	q := &Req{Status: 503, Level: slog.LevelError, DryRun: c.DryRun}
	if c.Status != 0 {
		q.Status = c.Status
	}
	q.Level, q.DelayLevel = logLevels(c.LogLevel)
	for _, r := range c.Rules {
		z := zs.req[r.Zone]
		if z == nil {
			continue // config reported it
		}
		l := reqLimit{zone: z, burst: r.Burst * 1000, delay: r.Delay * 1000}
		if r.NoDelay {
			l.delay = math.MaxInt64 / 1000 * 1000
		}
		q.limits = append(q.limits, l)
	}
	if len(q.limits) == 0 {
		return nil
	}
	return q
}

// logLevels maps a limit_*_log_level to the error log's levels
// (accesslog.Levels): the refusal's, and the delay's one lower
// (ngx_http_limit_req_merge_conf; info stays info).
func logLevels(l string) (refuse, delay slog.Level) {
	switch l {
	case "info":
		return accesslog.LevelInfo, accesslog.LevelInfo
	case "notice":
		return slog.LevelInfo, accesslog.LevelInfo
	case "warn":
		return slog.LevelWarn, slog.LevelInfo
	}
	return slog.LevelError, slog.LevelWarn
}

// lookup results (nginx's return codes).
const (
	rcDeclined = iota
	rcOK
	rcAgain // counted, held for the limits after it
	rcBusy
	rcError
)

// Check runs the location's limit_req lines for a request whose
// variables are vc (ngx_http_limit_req_handler). Each line's key is made
// in turn; an empty key leaves the line out. Every line but the last
// only looks (and holds its node); the last one counts, and once all
// passed each held line is counted too. The request is refused by the
// first line whose bucket would overflow its burst, else delayed by the
// longest delay the lines ask for (the strictest).
func (q *Req) Check(vc *vars.Ctx, s *Scratch) Outcome {
	if cap(s.held) < len(q.limits) {
		s.held = make([]*node, len(q.limits))
	}
	s.held = s.held[:len(q.limits)]
	clear(s.held)
	var excess int64
	rc := rcDeclined
	var lim *reqLimit
	n := 0
	long := ""
	for ; n < len(q.limits); n++ {
		lim = &q.limits[n]
		s.key = lim.zone.key.Append(s.key[:0], vc)
		if len(s.key) > 65535 {
			long = lim.zone.key.String()
			continue
		}
		if len(s.key) == 0 {
			continue
		}
		rc, excess = lim.lookup(s, n, n == len(q.limits)-1)
		if rc != rcAgain {
			break
		}
	}
	if rc == rcDeclined {
		return Outcome{LongKey: long}
	}
	if rc == rcBusy || rc == rcError {
		q.unlock(s, n)
		o := Outcome{State: ReqRejected, Status: q.Status, Excess: excess, Zone: lim.zone.Name, NoRoom: rc == rcError, LongKey: long}
		if q.DryRun {
			o.State, o.Status = ReqRejectedDryRun, 0
		}
		return o
	}
	if rc == rcAgain {
		excess = 0
	}
	delay := q.account(s, n, &excess, &lim)
	if delay == 0 {
		return Outcome{State: ReqPassed, LongKey: long}
	}
	o := Outcome{State: ReqDelayed, Delay: time.Duration(delay) * time.Millisecond, Excess: excess, Zone: lim.zone.Name, LongKey: long}
	if q.DryRun {
		o.State, o.Delay = ReqDelayedDryRun, 0
	}
	return o
}

// elapsed is the milliseconds since last as nginx reckons them: a clock
// that went back a little is no time, a lot is one millisecond.
func elapsed(now, last int64) int64 {
	ms := now - last
	switch {
	case ms < -60000:
		return 1
	case ms < 0:
		return 0
	}
	return ms
}

// lookup is ngx_http_limit_req_lookup for limit n with key s.key: the
// bucket's level after this request, and whether it overflows (rcBusy),
// has no room (rcError), is counted (rcOK, account) or held (rcAgain).
func (l *reqLimit) lookup(s *Scratch, n int, account bool) (int, int64) {
	z := l.zone
	t := z.t
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if nd := t.nodes[string(s.key)]; nd != nil {
		t.touch(nd)
		ms := elapsed(now, nd.last)
		excess := max(nd.excess-z.rate*ms/1000+1000, 0)
		if excess > l.burst {
			return rcBusy, excess
		}
		if account {
			nd.excess = excess
			if ms != 0 {
				nd.last = now
			}
			return rcOK, excess
		}
		nd.count++
		s.held[n] = nd
		return rcAgain, excess
	}
	z.expire(1)
	nd := t.insert(s.key, reqNodeBase, true)
	if nd == nil {
		z.expire(0)
		if nd = t.insert(s.key, reqNodeBase, true); nd == nil {
			return rcError, 0
		}
	}
	if account {
		nd.last = now
		return rcOK, 0
	}
	nd.count = 1
	s.held[n] = nd
	return rcAgain, 0
}

// expire is ngx_http_limit_req_expire, t.mu held: from the least
// recently used end, n=1 drops up to two states idle for a minute whose
// bucket has drained; n=0 first drops the oldest whatever its state. A
// state a request holds stops it.
func (z *ReqZone) expire(n int) {
	t := z.t
	now := t.now()
	for ; n < 3; n++ {
		nd := t.lru.prev
		if nd == &t.lru || nd.count != 0 {
			return
		}
		if n != 0 {
			ms := now - nd.last
			if ms < 0 {
				ms = -ms
			}
			if ms < 60000 || nd.excess-z.rate*ms/1000 > 0 {
				return
			}
		}
		t.remove(nd)
	}
}

// account is ngx_http_limit_req_account: the held lines before n are
// counted now, and the longest delay of all is returned (ms), with the
// excess and line that ask for it in *ep and *limit.
func (q *Req) account(s *Scratch, n int, ep *int64, limit **reqLimit) int64 {
	excess := *ep
	var maxDelay int64
	if excess > (*limit).delay {
		maxDelay = (excess - (*limit).delay) * 1000 / (*limit).zone.rate
	}
	for n--; n >= 0; n-- {
		nd := s.held[n]
		if nd == nil {
			continue
		}
		l := &q.limits[n]
		t := l.zone.t
		t.mu.Lock()
		now := t.now()
		ms := elapsed(now, nd.last)
		excess := max(nd.excess-l.zone.rate*ms/1000+1000, 0)
		if ms != 0 {
			nd.last = now
		}
		nd.excess = excess
		nd.count--
		t.mu.Unlock()
		s.held[n] = nil
		if excess <= l.delay {
			continue
		}
		if delay := (excess - l.delay) * 1000 / l.zone.rate; delay > maxDelay {
			maxDelay, *ep, *limit = delay, excess, l
		}
	}
	return maxDelay
}

// unlock lets go of the nodes held for the lines before n
// (ngx_http_limit_req_unlock).
func (q *Req) unlock(s *Scratch, n int) {
	for i := 0; i < n; i++ {
		if nd := s.held[i]; nd != nil {
			t := q.limits[i].zone.t
			t.mu.Lock()
			nd.count--
			t.mu.Unlock()
			s.held[i] = nil
		}
	}
}
