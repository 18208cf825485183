package limit

import (
	"log/slog"

	"wsgate/internal/config"
	"wsgate/internal/vars"
)

// This file is ngx_http_limit_conn_module's handler: a count per key of
// the requests in progress, taken in the preaccess phase and given back
// when the request ends (its pool's cleanup); for a request that opened
// a tunnel, when the tunnel ends.

// ConnZone is a limit_conn_zone as one snapshot has it.
type ConnZone struct {
	Name string
	key  *vars.Template
	t    *table
}

// Conn is a location's limit_conn lines and settings, compiled.
type Conn struct {
	limits []connLimit
	// Status answers a refused request (limit_conn_status, default 503).
	Status int
	// Level is limit_conn_log_level's.
	Level  slog.Level
	DryRun bool
}

type connLimit struct {
	zone *ConnZone
	conn int
}

// ConnState is $limit_conn_status (nginx 1.17.6+).
type ConnState uint8

const (
	ConnNone ConnState = iota // no limit_conn counted the request
	ConnPassed
	ConnRejected
	ConnRejectedDryRun
)

var connStateNames = [...]string{"", "PASSED", "REJECTED", "REJECTED_DRY_RUN"}

// String is the variable's value; "" for ConnNone (not found).
func (s ConnState) String() string { return connStateNames[s] }

// ConnOutcome is what Acquire decided.
type ConnOutcome struct {
	State ConnState
	// Status is the status to answer with; 0 lets the request go on.
	Status int
	// Zone is the zone that refused (nginx logs "limiting connections by
	// zone"), unless NoRoom: the zone had no room for a new key.
	Zone   string
	NoRoom bool
	// LongKey is the key (as written) of a line left out because its
	// value was longer than nginx allows (255 bytes), which nginx logs.
	LongKey string
}

// CompileConn compiles a location's limit_conn settings over zs; nil
// when it has none.
func CompileConn(c *config.LimitConnConf, zs *Zones) *Conn {
	if len(c.Rules) == 0 {
		return nil
	}
	q := &Conn{Status: 503, DryRun: c.DryRun}
	if c.Status != 0 {
		q.Status = c.Status
	}
	q.Level, _ = logLevels(c.LogLevel)
	for _, r := range c.Rules {
		if z := zs.conn[r.Zone]; z != nil {
			q.limits = append(q.limits, connLimit{zone: z, conn: r.Conn})
		}
	}
	if len(q.limits) == 0 {
		return nil
	}
	return q
}

// Held is the counts one request holds. Its zero value holds nothing; a
// connection reuses one for its requests.
type Held struct {
	nodes []heldNode
}

type heldNode struct {
	t *table
	n *node
}

// Acquire counts the request whose variables are vc in each zone of the
// location's limit_conn lines (ngx_http_limit_conn_handler), adding the
// counts to h; key is scratch space. A line whose key is empty (or
// longer than 255 bytes) leaves the request out. A zone whose key
// already has as many requests as the line allows refuses it, and what h
// took for the earlier lines is given back; in a dry run the request
// goes on uncounted there.
func (c *Conn) Acquire(vc *vars.Ctx, key *[]byte, h *Held) ConnOutcome {
	var o ConnOutcome
	for _, l := range c.limits {
		*key = l.zone.key.Append((*key)[:0], vc)
		k := *key
		if len(k) > 255 {
			o.LongKey = l.zone.key.String()
			continue
		}
		if len(k) == 0 {
			continue
		}
		o.State = ConnPassed
		t := l.zone.t
		t.mu.Lock()
		nd := t.nodes[string(k)]
		switch {
		case nd == nil:
			if nd = t.insert(k, connNodeBase, false); nd == nil {
				t.mu.Unlock()
				return c.refuse(h, ConnOutcome{Zone: l.zone.Name, NoRoom: true, LongKey: o.LongKey})
			}
		case nd.conns >= l.conn:
			t.mu.Unlock()
			return c.refuse(h, ConnOutcome{Zone: l.zone.Name, LongKey: o.LongKey})
		}
		nd.conns++
		t.mu.Unlock()
		h.nodes = append(h.nodes, heldNode{t, nd})
	}
	return o
}

// refuse gives back what h holds and says so (ngx_http_limit_conn_cleanup_all).
func (c *Conn) refuse(h *Held, o ConnOutcome) ConnOutcome {
	h.Release()
	o.State, o.Status = ConnRejected, c.Status
	if c.DryRun {
		o.State, o.Status = ConnRejectedDryRun, 0
	}
	return o
}

// Holds reports whether h holds a count.
func (h *Held) Holds() bool { return len(h.nodes) > 0 }

// Release gives back every count h holds; a key whose count falls to
// zero leaves its zone.
func (h *Held) Release() {
	for i, hn := range h.nodes {
		hn.t.mu.Lock()
		if hn.n.conns--; hn.n.conns == 0 {
			hn.t.remove(hn.n)
		}
		hn.t.mu.Unlock()
		h.nodes[i] = heldNode{}
	}
	h.nodes = h.nodes[:0]
}

// Detach moves what h holds to a new Held, which keeps it for whoever
// ends the request later (a tunnel), and returns its Release; h holds
// nothing after.
func (h *Held) Detach() func() {
	d := &Held{nodes: append([]heldNode(nil), h.nodes...)}
	clear(h.nodes)
	h.nodes = h.nodes[:0]
	return d.Release
}
