package http1

import (
	"testing"
	"time"

	"wsgate/internal/connstats"
	"wsgate/internal/proxytest"
)

// TestServeStats: a request is reading until its head is read and
// writing while the handler runs (ngx_http_process_request moves it);
// a refused head leaves reading; when the connection ends nothing is
// left reading or writing, and each request with a first byte is counted
// once, a connection that sent nothing none.
func TestServeStats(t *testing.T) {
	tests := []struct {
		desc     string
		raw      string
		requests uint64
		seen     []connstats.Stats // as the handler saw the counters, per request
	}{
		{desc: "nothing sent", raw: "", requests: 0},
		{desc: "one request", raw: "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", requests: 1,
			seen: []connstats.Stats{{Requests: 1, Writing: 1, Waiting: -1}}},
		{desc: "pipelined", raw: "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", requests: 2,
			seen: []connstats.Stats{{Requests: 1, Writing: 1, Waiting: -1}, {Requests: 2, Writing: 1, Waiting: -1}}},
		{desc: "bad head", raw: "GET / HTTP/1.1\r\nHost: h\r\nBad Header\r\n\r\n", requests: 1},
		{desc: "cut head", raw: "GET / HTTP/1.1\r\nHost:", requests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			stats := new(connstats.Counters)
			cfg := DefaultConnConfig()
			cfg.Stats = stats
			var seen []connstats.Stats
			addr, _ := startServer(t, cfg, func(w *ResponseWriter, r *Request) {
				// No connection was accepted through the counters here:
				// Active stays 0, so Waiting is -Writing.
				seen = append(seen, stats.Load())
				w.WriteHeader(204, "", 0)
			})
			roundTrip(t, addr, tt.raw, true)
			var got connstats.Stats
			if !proxytest.Poll(10*time.Second, func() bool {
				got = stats.Load()
				return got.Reading == 0 && got.Writing == 0 && got.Requests == tt.requests
			}) {
				t.Fatalf("after the connection: got %+v; want nothing reading or writing, %d requests", got, tt.requests)
			}
			if len(seen) != len(tt.seen) {
				t.Fatalf("handler calls: got %d; want %d", len(seen), len(tt.seen))
			}
			for i := range seen {
				if seen[i] != tt.seen[i] {
					t.Errorf("request %d saw %+v; want %+v", i, seen[i], tt.seen[i])
				}
			}
		})
	}
}
