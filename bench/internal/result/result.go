// Package result is the record the load generator prints and the runner
// reads.
package result

// Load is what the load generator measures in one run, printed as one
// JSON object. Durations are in microseconds, sizes
// in KiB, rates per second. Fields that do not apply to a case are zero.
type Load struct {
	Case      string  `json:"case"`
	Target    string  `json:"target"`
	Conns     int     `json:"conns"`
	Size      int     `json:"size"`
	Seconds   float64 `json:"seconds"`
	Ops       uint64  `json:"ops"`
	OpsPerSec float64 `json:"ops_per_s"`
	MBPerSec  float64 `json:"mb_per_s"`
	// MBPerCPUSec is payload MB echoed per second of proxy CPU time: the
	// throughput a proxy would reach with a whole core to itself, which a
	// shared machine's noise does not move much.
	MBPerCPUSec float64 `json:"mb_per_cpu_s"`
	P50         float64 `json:"p50_us"`
	P90         float64 `json:"p90_us"`
	P99         float64 `json:"p99_us"`
	P999        float64 `json:"p999_us"`
	Max         float64 `json:"max_us"`
	ProxyCPU    float64 `json:"proxy_cpu_us"`
	CPUPerOp    float64 `json:"cpu_us_per_op"`
	SysPerOp    float64 `json:"sys_us_per_op"` // the kernel's share of CPUPerOp
	Core1Util   float64 `json:"core1_util"`
	IdleConns   int     `json:"idle_conns"`
	RSSBefore   int64   `json:"rss_before_kib"`
	RSSAfter    int64   `json:"rss_after_kib"`
	KiBPerConn  float64 `json:"kib_per_conn"`
	Reconnects  uint64  `json:"reconnects"`
	Errors      uint64  `json:"errors"`
	FirstError  string  `json:"first_error,omitempty"`
}
