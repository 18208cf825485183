package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"wsgate/bench/internal/result"
)

// Result is one run of one case against one target, as written to the
// JSON lines file.
type Result struct {
	Kind     string      `json:"kind"` // "run"
	Date     string      `json:"date,omitempty"`
	Case     string      `json:"case"`
	Target   string      `json:"target"`
	Rep      int         `json:"rep"`
	Load     result.Load `json:"load"`
	RunError string      `json:"run_error,omitempty"`
}

// Summary is the median over a case's repetitions for one target.
type Summary struct {
	Kind        string  `json:"kind"` // "median" or "unavailable"
	Date        string  `json:"date"`
	Case        string  `json:"case"`
	Target      string  `json:"target"`
	Runs        int     `json:"runs"`
	OpsPerSec   float64 `json:"ops_per_s"`
	MBPerSec    float64 `json:"mb_per_s"`
	MBPerCPUSec float64 `json:"mb_per_cpu_s"`
	P50         float64 `json:"p50_us"`
	P90         float64 `json:"p90_us"`
	P99         float64 `json:"p99_us"`
	P999        float64 `json:"p999_us"`
	CPUPerOp    float64 `json:"cpu_us_per_op"`
	KiBPerConn  float64 `json:"kib_per_conn"`
	IdleConns   float64 `json:"idle_conns"`
	Core1Util   float64 `json:"core1_util"`
	Errors      uint64  `json:"errors"`
	P99OverDir  float64 `json:"p99_added_over_direct_us,omitempty"`
	Reason      string  `json:"reason,omitempty"`
	VsNginx     float64 `json:"vs_nginx,omitempty"`
	VsHAProxy   float64 `json:"vs_haproxy,omitempty"`
	VsNginxTune float64 `json:"vs_nginx_tuned,omitempty"`
}

// caseTitles say what each case measures and which number decides it.
var caseTitles = map[string]string{
	"a": "(a) 64 conns × 128 B text, closed loop: CPU µs per round trip",
	"b": "(b) 64 conns × 16 KiB binary, closed loop: MB/s echoed",
	"c": "(c) 1,000 conns × 10 msg/s, open loop: CPU µs per message, p99 added over direct",
	"d": "(d) idle WebSockets: proxy RSS KiB per connection",
	"e": "(e) WebSocket lifecycle (connect, 101, Close, close): CPU µs per handshake",
	"f": "(f) GET / over keep-alive: CPU µs per request",
	"g": "(g) GET /keepalive/ over keep-alive, upstream connections reused: CPU µs per request",
	"h": "(h) GET a 1 KiB static file over keep-alive: CPU µs per request",
	"i": "(i) as g, behind allow, limit_req and add_header: CPU µs per request",
	"j": "(j) GET a 100 KiB HTML file gzip'ed (level 1) over keep-alive: CPU µs per request",
	"k": "(k) GET a 1 KiB proxy_cache hit over keep-alive: CPU µs per request",
	"l": "(l) GET a 1 MiB proxy_cache hit over keep-alive: CPU µs per request",
	"m": "(m) TLS 1.3 handshakes (ECDSA P-256, X25519, no resumption): CPU µs per handshake",
	"n": "(n) wss over HTTP/1.1, 64 conns × 128 B text, closed loop: CPU µs per round trip",
	"o": "(o) wss over HTTP/2 (RFC 8441), 64 conns × 128 B text, closed loop: CPU µs per round trip",
	"p": "(p) wss over HTTP/3 (RFC 9220), 64 QUIC conns × 128 B text, closed loop: CPU µs per round trip",
	"q": "(q) idle wss over HTTP/1.1: proxy RSS KiB per WebSocket",
	"r": "(r) idle wss over HTTP/2 (RFC 8441), 100 WebSockets per connection: proxy RSS KiB per WebSocket",
}

// idleCase says whether case c holds idle WebSockets and is judged by
// memory per WebSocket, not CPU.
func idleCase(c string) bool { return c == "d" || c == "q" || c == "r" }

// primary is the number a case is judged by, and whether more is better.
func primary(c string, s Summary) (float64, bool) {
	switch {
	case c == "b":
		return s.MBPerCPUSec, true
	case idleCase(c):
		return s.KiBPerConn, false
	default:
		return s.CPUPerOp, false
	}
}

func summarize(date string, c, t string, runs []Result) Summary {
	s := Summary{Kind: "median", Date: date, Case: c, Target: t}
	var cols [11][]float64
	for _, r := range runs {
		if r.Case != c || r.Target != t {
			continue
		}
		if r.RunError != "" {
			s.Reason = r.RunError
			s.Errors++
			continue
		}
		l := r.Load
		s.Runs++
		s.Errors += l.Errors
		for i, v := range []float64{l.OpsPerSec, l.MBPerSec, l.P50, l.P90, l.P99, l.P999, l.CPUPerOp, l.KiBPerConn, float64(l.IdleConns), l.Core1Util, l.MBPerCPUSec} {
			cols[i] = append(cols[i], v)
		}
		if s.Reason == "" && l.FirstError != "" {
			s.Reason = l.FirstError
		}
	}
	m := func(i int) float64 { v, _ := median(cols[i]); return v }
	s.OpsPerSec, s.MBPerSec, s.P50, s.P90, s.P99, s.P999 = m(0), m(1), m(2), m(3), m(4), m(5)
	s.CPUPerOp, s.KiBPerConn, s.IdleConns, s.Core1Util, s.MBPerCPUSec = m(6), m(7), m(8), m(9), m(10)
	return s
}

func (r *runner) report(started time.Time, machine string, runs []Result) error {
	date := started.Format("2006-01-02")
	stamp := started.Format("2006-01-02 15:04 UTC")
	var sums []Summary
	byKey := map[string]*Summary{}
	for _, c := range r.o.cases {
		for _, t := range targetsFor(c, r.o.targets) {
			s := summarize(stamp, c, t, runs)
			if s.Runs == 0 {
				s.Kind = "unavailable"
				if reason, ok := r.unav[t]; ok {
					s.Reason = reason
				}
			}
			sums = append(sums, s)
		}
	}
	for i := range sums {
		byKey[sums[i].Case+"/"+sums[i].Target] = &sums[i]
	}
	for i := range sums {
		s := &sums[i]
		if s.Kind != "median" || s.Target == "direct" {
			continue
		}
		v, _ := primary(s.Case, *s)
		ratio := func(peer string) float64 {
			p := byKey[s.Case+"/"+peer]
			if p == nil || p.Kind != "median" {
				return 0
			}
			pv, _ := primary(s.Case, *p)
			if pv == 0 {
				return 0
			}
			return v / pv
		}
		s.VsNginx, s.VsHAProxy, s.VsNginxTune = ratio("nginx"), ratio("haproxy"), ratio("nginx-tuned")
		if d := byKey[s.Case+"/direct"]; d != nil && d.Kind == "median" && (s.Case == "c" || s.Case == "a") {
			s.P99OverDir = s.P99 - d.P99
		}
	}

	mode := "full"
	if r.o.quick {
		mode = "quick"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## %s (%s: %d× interleaved, %v windows)\n\n", stamp, mode, r.o.reps, r.o.dur)
	fmt.Fprintf(&b, "Machine: %s. Proxy on core 0, load generator and echo backend on core 1: %v. Nice: %d. Workers per proxy (-cores): %d.\n\n", machine, r.pin, r.o.nice, r.o.cores)
	b.WriteString("| case | target | ops/s | MB/s | p50 µs | p99 µs | p99.9 µs | p99 +direct µs | proxy CPU µs/op | KiB/idle conn | load core | errors | vs nginx | vs HAProxy |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, s := range sums {
		if s.Kind == "unavailable" {
			fmt.Fprintf(&b, "| %s | %s | unavailable (%s) | | | | | | | | | | | |\n", s.Case, s.Target, mdEscape(s.Reason))
			continue
		}
		cpu, kib, p99d := "—", "—", ""
		if s.Target != "direct" && !idleCase(s.Case) {
			cpu = fmt.Sprintf("%.1f", s.CPUPerOp)
		}
		if idleCase(s.Case) {
			kib = fmt.Sprintf("%.1f (%d conns)", s.KiBPerConn, int(s.IdleConns))
		}
		if s.P99OverDir != 0 {
			p99d = fmt.Sprintf("%+.0f", s.P99OverDir)
		}
		errs := fmt.Sprint(s.Errors)
		if s.Errors > 0 && s.Reason != "" {
			errs += " (" + mdEscape(truncate(s.Reason, 60)) + ")"
		}
		vsN := ratioCell(s.VsNginx)
		if s.Case == "b" && s.VsNginxTune != 0 && s.Target != "nginx-tuned" {
			vsN += " (tuned " + ratioCell(s.VsNginxTune) + ")"
		}
		lat := func(v float64) string {
			if idleCase(s.Case) {
				return ""
			}
			return fmt.Sprintf("%.0f", v)
		}
		ops, mbs := fmt.Sprintf("%.0f", s.OpsPerSec), ""
		if s.Case == "b" {
			mbs = fmt.Sprintf("%.0f", s.MBPerSec)
			if s.MBPerCPUSec > 0 {
				mbs += fmt.Sprintf(" (%.0f per core)", s.MBPerCPUSec)
			}
		}
		if idleCase(s.Case) {
			ops = ""
		}
		util := fmt.Sprintf("%.0f%%", 100*s.Core1Util)
		if idleCase(s.Case) {
			util = ""
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			s.Case, s.Target, ops, mbs, lat(s.P50), lat(s.P99), lat(s.P999), p99d, cpu, kib,
			util, errs, vsN, ratioCell(s.VsHAProxy))
	}
	b.WriteString("\nCases: ")
	for i, c := range r.o.cases {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(caseTitles[c])
	}
	b.WriteString(".\nCPU is utime+stime of the proxy process (all threads) from /proc/PID/stat over the measured window; for loopback traffic it includes the kernel's work on the packets the proxy sends")
	b.WriteString(".\nRatios compare the case's deciding number (for b MB/s per proxy core, i.e. MB echoed per second of proxy CPU time; KiB for d, q and r; CPU µs per op otherwise) with the peer's; ")
	b.WriteString("\"load core\" is the load generator's and echo backend's CPU use of core 1 during the window (near 100 % means core 1, not the proxy, set the pace).\n")
	b.WriteString(targetLines(byKey))
	b.WriteString("\n")

	fmt.Print(b.String())
	if err := os.MkdirAll(r.o.results, 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(r.o.results, "RESULTS.md"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if st, _ := f.Stat(); st != nil && st.Size() == 0 {
		f.WriteString("# wsgate benchmark results\n\nAppended by `./scripts/bench.sh`; newest last. Compare rows of one run only: absolute numbers on a shared machine are noise, ratios within a run are the signal.\n\n")
	}
	f.WriteString(b.String())
	if err := f.Close(); err != nil {
		return err
	}
	jf, err := os.OpenFile(filepath.Join(r.o.results, date+".jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(jf)
	for _, run := range runs {
		run.Kind, run.Date = "run", stamp
		enc.Encode(run)
	}
	for _, s := range sums {
		enc.Encode(s)
	}
	return jf.Close()
}

// targetLines checks wsgate against the project's targets: CPU per message
// at most 0.7× the better of nginx and HAProxy (a, c), memory per idle
// WebSocket at most HAProxy's (d), bulk throughput at least 1.3× tuned
// nginx (b).
func targetLines(byKey map[string]*Summary) string {
	var b strings.Builder
	get := func(c, t string) (float64, bool) {
		s := byKey[c+"/"+t]
		if s == nil || s.Kind != "median" {
			return 0, false
		}
		v, _ := primary(c, *s)
		return v, true
	}
	check := func(name string, got, limit float64, lessIsBetter bool, unit string) {
		ok := got <= limit
		rel := "≤"
		if !lessIsBetter {
			ok, rel = got >= limit, "≥"
		}
		verdict := "met"
		if !ok {
			verdict = "NOT met"
		}
		fmt.Fprintf(&b, "- %s: wsgate %.1f %s, target %s %.1f: %s\n", name, got, unit, rel, limit, verdict)
	}
	for _, c := range []string{"a", "c"} {
		w, okW := get(c, "wsgate")
		n, okN := get(c, "nginx")
		h, okH := get(c, "haproxy")
		if okW && okN && okH {
			check("("+c+") CPU per message", w, 0.7*min(n, h), true, "µs")
		}
	}
	if w, ok := get("d", "wsgate"); ok {
		if h, ok := get("d", "haproxy"); ok {
			check("(d) memory per idle WebSocket", w, h, true, "KiB")
		}
	}
	if w, ok := get("b", "wsgate"); ok {
		if n, ok := get("b", "nginx-tuned"); ok {
			check("(b) bulk throughput per proxy core", w, 1.3*n, false, "MB/s")
			if ws, ns := byKey["b/wsgate"], byKey["b/nginx-tuned"]; ws != nil && ns != nil {
				check("(b) bulk throughput, wall clock", ws.MBPerSec, 1.3*ns.MBPerSec, false, "MB/s")
			}
		}
	}
	if b.Len() == 0 {
		return ""
	}
	return "\nwsgate's targets:\n" + b.String()
}

func ratioCell(v float64) string {
	if v == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f×", v)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ").Replace(s)
}
