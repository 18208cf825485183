package pipeline

import (
	"context"
	"log/slog"
	"strconv"
	"syscall"
	"time"
	"wsgate/internal/config"
	"wsgate/internal/http1"
	"wsgate/internal/netpoll"
	"wsgate/internal/vars"

	"wsgate/internal/exchange"
	"wsgate/internal/limit"
	"wsgate/internal/snapshot"
)

// This file is the preaccess phase (NGX_HTTP_PREACCESS_PHASE): limit_req
// then limit_conn, as nginx runs its handlers (the phase's handlers in
// the reverse of the modules' order). Each runs once per request: a
// request that an internal redirect or an error page brings back through
// the phase is not counted again once a limit looked at it
// (r->main->limit_req_status, limit_conn_status).

// preaccess runs the phase for r at loc; ok is false when a limit
// refused the request, whose error (limit_req_status,
// limit_conn_status) the location's error page then answers.
func (pc *Conn) preaccess(w exchange.ResponseWriter, r *exchange.Request, loc *snapshot.Loc) (exchange.Result, bool) {
	if q := loc.LimitReq; q != nil && pc.vc.LimitReqStatus == "" {
		o := q.Check(&pc.vc, &pc.limitReq)
		pc.vc.LimitReqStatus = o.State.String()
		if o.LongKey != "" {
			pc.p.Log.Error("the value of the \""+o.LongKey+"\" key is more than 65535 bytes", "client", pc.c.RemoteAddr, "uri", pc.vc.RequestURI)
		}
		dry := ""
		if q.DryRun {
			dry = ", dry run"
		}
		switch {
		case o.NoRoom:
			// ngx_http_limit_req_lookup's alert, at the zone's full.
			pc.p.Log.Log(context.Background(), slog.LevelError+2, "could not allocate node in limit_req zone \""+o.Zone+"\"", "client", pc.c.RemoteAddr, "uri", pc.vc.RequestURI)
		case o.State == limit.ReqRejected || o.State == limit.ReqRejectedDryRun:
			pc.logLimit(q.Level, "limiting requests"+dry+", excess: ", o.Excess, " by zone \"", o.Zone)
		case o.State == limit.ReqDelayed || o.State == limit.ReqDelayedDryRun:
			pc.logLimit(q.DelayLevel, "delaying request"+dry+", excess: ", o.Excess, ", by zone \"", o.Zone)
		}
		if o.Status != 0 {
			return exchange.Result{Error: o.Status}, false
		}
		if o.Delay > 0 && pc.delay(o.Delay) {
			// ngx_http_test_reading: the client closed while the request
			// was delayed; logged as 499, nothing is sent.
			pc.p.Log.Info("client prematurely closed connection", "client", pc.c.RemoteAddr, "uri", pc.vc.RequestURI)
			w.WriteError(http1.StatusClientClosedRequest)
			return exchange.Result{Status: http1.StatusClientClosedRequest}, false
		}
	}
	if q := loc.LimitConn; q != nil && pc.vc.LimitConnStatus == "" {
		o := q.Acquire(&pc.vc, &pc.limitKey, &pc.held)
		pc.vc.LimitConnStatus = o.State.String()
		if o.LongKey != "" {
			pc.p.Log.Error("the value of the \""+o.LongKey+"\" key is more than 255 bytes", "client", pc.c.RemoteAddr, "uri", pc.vc.RequestURI)
		}
		if pc.held.Holds() {
			r.Held = &pc.held
		}
		if o.State == limit.ConnRejected || o.State == limit.ConnRejectedDryRun {
			if o.NoRoom {
				pc.p.Log.Log(context.Background(), slog.LevelError+1, "ngx_slab_alloc() failed: no memory in limit_conn zone \""+o.Zone+"\"", "client", pc.c.RemoteAddr, "uri", pc.vc.RequestURI)
			} else if lg := pc.p.Log; lg.Enabled(context.Background(), q.Level) {
				msg := "limiting connections by zone \"" + o.Zone + "\""
				if q.DryRun {
					msg = "limiting connections, dry run, by zone \"" + o.Zone + "\""
				}
				lg.Log(context.Background(), q.Level, msg, "client", pc.c.RemoteAddr, "uri", pc.vc.RequestURI)
			}
		}
		if o.Status != 0 {
			return exchange.Result{Error: o.Status}, false
		}
	}
	return exchange.Result{}, true
}

// delay holds a request limit_req delays for d (ngx_http_limit_req_delay)
// and reports whether the client closed meanwhile, which nginx notices
// at once (ngx_http_test_reading). The connection's own goroutine waits
// in Go's poller on the socket becoming readable, bounded by d: no event
// loop, timer goroutine or other request waits with it. A client that
// sends more (a pipelined request) is there: the rest of d is slept. A
// connection without a socket to look at (TLS) sleeps d.
func (pc *Conn) delay(d time.Duration) (gone bool) {
	nc := pc.c.NetConn
	sc, ok := nc.(syscall.Conn)
	if !ok {
		time.Sleep(d)
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		time.Sleep(d)
		return false
	}
	end := time.Now().Add(d)
	nc.SetReadDeadline(end)
	there := false
	rc.Read(func(fd uintptr) bool {
		switch netpoll.Peek(fd) {
		case netpoll.PeekEmpty:
			return false
		case netpoll.PeekEnd:
			gone = true
		default:
			there = true
		}
		return true
	})
	nc.SetReadDeadline(time.Time{})
	if there {
		time.Sleep(time.Until(end))
	}
	return gone
}

// logLimit writes limit_req's line at level: "limiting requests, excess:
// 1.000 by zone "one"", the excess in requests with three decimals.
func (pc *Conn) logLimit(level slog.Level, pre string, excess int64, mid, zone string) {
	lg := pc.p.Log
	if !lg.Enabled(context.Background(), level) {
		return
	}
	b := make([]byte, 0, 96)
	b = append(b, pre...)
	b = strconv.AppendInt(b, excess/1000, 10)
	b = append(b, '.')
	frac := excess % 1000
	b = append(b, byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	b = append(b, mid...)
	b = append(b, zone...)
	b = append(b, '"')
	lg.Log(context.Background(), level, string(b), "client", pc.c.RemoteAddr, "uri", pc.vc.RequestURI)
}

// endRequest gives back what the request still holds (limit_conn's
// counts): a request that opened a tunnel handed them to it.
func (pc *Conn) endRequest(r *exchange.Request) {
	pc.held.Release()
	r.Held = nil
}

// logRate makes $limit_rate the location's limit_rate for the log phase
// when nothing set it: nginx's write filter read it at the first output.
func (pc *Conn) logRate() {
	if !pc.vc.LimitRateSet {
		pc.vc.LimitRate = pc.locRate
	}
}

// setRate gives the response its limit_rate and limit_rate_after, as
// nginx's write filter reads them at the first output
// (ngx_http_write_filter): what set assigned to $limit_rate, else the
// location's limit_rate; a value that is no size is 0, no limit
// (ngx_http_complex_value_size). A backend's X-Accel-Limit-Rate may
// change the rate later (the proxy's).
func (pc *Conn) setRate(w exchange.ResponseWriter, loc *snapshot.Loc) {
	rate := pc.vc.LimitRate
	if !pc.vc.LimitRateSet {
		// $limit_rate shows it once the head is out, as nginx's write
		// filter sets it after the header filters ran (logRate).
		rate = pc.size(loc.Rate)
		pc.locRate = rate
	}
	if rate > 0 || loc.RateAfter != nil {
		w.SetRate(rate, pc.size(loc.RateAfter), pc.vc.Start)
	}
}

// size evaluates t as a size; 0 for nil or a value that is no size.
func (pc *Conn) size(t *vars.Template) int64 {
	if t == nil {
		return 0
	}
	pc.limitKey = t.Append(pc.limitKey[:0], &pc.vc)
	n, _ := config.ParseSize(bstr(pc.limitKey))
	return n
}
