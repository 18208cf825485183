package pipeline_test

import (
	"io"
	"log/slog"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"wsgate/internal/connstats"
	"wsgate/internal/exchange"
	"wsgate/internal/pipeline"
	"wsgate/internal/snapshot"
	"wsgate/internal/vars"
)

// nopWriter is a ResponseWriter that keeps only what the log phase reads.
type nopWriter struct {
	status  int
	written bool
}

func (w *nopWriter) SetLimits(exchange.Limits) error { return nil }
func (w *nopWriter) SetRate(int64, int64, time.Time) {}
func (w *nopWriter) AddServerDate()                  {}
func (w *nopWriter) AddHeader(string, string)        {}
func (w *nopWriter) AddHeaderBytes([]byte, []byte)   {}
func (w *nopWriter) AddLines([]byte)                 {}
func (w *nopWriter) SetLocation([]byte)              {}
func (w *nopWriter) MarkFraming()                    {}
func (w *nopWriter) MarkLateLines()                  {}
func (w *nopWriter) Write(p []byte) (int, error)     { return len(p), nil }
func (w *nopWriter) Flush() error                    { return nil }
func (w *nopWriter) CloseAfter()                     {}
func (w *nopWriter) Abort()                          {}
func (w *nopWriter) Written() bool                   { return w.written }
func (w *nopWriter) Status() int                     { return w.status }
func (w *nopWriter) BodyBytes() int64                { return 0 }
func (w *nopWriter) BytesSent() int64                { return 0 }
func (w *nopWriter) WriteError(status int) error     { return w.WriteHeader(status, "", 0) }
func (w *nopWriter) WriteErrorWith(status int, _ string, _ []byte) error {
	return w.WriteHeader(status, "", 0)
}
func (w *nopWriter) SetLastModified([]byte)                          {}
func (w *nopWriter) WriteFile(*os.File, int64, int64) (int64, error) { return 0, nil }
func (w *nopWriter) BodyBuffer(int) []byte                           { return nil }
func (w *nopWriter) SetErrorStatus(int)                              {}
func (w *nopWriter) AddErrorHeader(_, _ []byte)                      {}
func (w *nopWriter) SentHead() (head, trailers []byte)               { return nil, nil }
func (w *nopWriter) SetHeadFilter(exchange.HeadFilter)               {}
func (w *nopWriter) SetBodyFilter(exchange.BodyFilter)               {}
func (w *nopWriter) WriteHeader(s int, _ string, _ int64) error {
	w.status, w.written = s, true
	return nil
}
func (w *nopWriter) WriteComposedHeader(s int, _ int64, _ func([]byte, exchange.Framing) []byte) error {
	return w.WriteHeader(s, "", 0)
}
func (w *nopWriter) Upgrade(func([]byte, exchange.Framing) []byte) (net.Conn, []byte, error) {
	return nil, nil, net.ErrClosed
}

// noBody is an empty request body.
type noBody struct{}

func (noBody) Read([]byte) (int, error) { return 0, io.EOF }
func (noBody) Begin() error             { return nil }
func (noBody) Empty() bool              { return true }
func (noBody) BytesRead() int64         { return 0 }

// answered is a content handler that answers 200 without a body.
type answered struct{}

func (answered) ServeContent(w exchange.ResponseWriter, _ *exchange.Request, _ *snapshot.Loc, _ *vars.Ctx) exchange.Result {
	w.WriteHeader(200, "", 0)
	return exchange.Result{}
}

// TestServeRequestAllocs checks that the phases cost no allocation per
// request once a connection's buffers have grown: variables filled from
// the request's bytes, the location search, a return with variables, a
// redirect, the content handler's call, stub_status and the
// $connections_* variables (atomic loads), limit_req, limit_conn and
// limit_rate for a key already seen, and the log phase.
func TestServeRequestAllocs(t *testing.T) {
	snap := buildSnapshot(t, redirectConf)
	var cur atomic.Pointer[snapshot.Snapshot]
	cur.Store(snap)
	p := &pipeline.Pipeline{Snapshot: &cur, Log: slog.New(slog.DiscardHandler), Stats: new(connstats.Counters)}
	var pc pipeline.Conn
	p.Open(&pc, &exchange.Conn{ListenAddr: snap.Listens[0].Addr, LocalAddr: "127.0.0.1", LocalPort: "8080"})
	pc.SetContent(snapshot.ContentProxy, answered{})
	tests := []struct {
		desc, path, query string
		status            int
	}{
		{desc: "content", path: "/b/x", query: "a=1", status: 200},
		{desc: "return", path: "/ret/x", status: 200},
		{desc: "not found", path: "/none", status: 404},
		{desc: "stub_status", path: "/status", status: 200},
		{desc: "connections variables", path: "/conns", status: 200},
		{desc: "limit_req, limit_conn, limit_rate", path: "/limited/x", status: 200},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			r := &exchange.Request{
				Method: []byte("GET"), URI: []byte(tt.path + "?" + tt.query), Path: []byte(tt.path),
				NormalizedPath: []byte(tt.path), Query: []byte(tt.query), HasQuery: tt.query != "",
				ProtoMajor: 1, ProtoMinor: 1, Host: []byte("test"), ContentLength: -1, Body: noBody{},
				Headers: []exchange.Header{{Name: []byte("Host"), Value: []byte("test")}, {Name: []byte("User-Agent"), Value: []byte("t")}},
			}
			var w nopWriter
			serve := func() {
				w = nopWriter{}
				pc.ServeRequest(&w, r)
			}
			serve()
			if w.status != tt.status {
				t.Fatalf("status: got %d; want %d", w.status, tt.status)
			}
			if n := testing.AllocsPerRun(100, serve); n != 0 {
				t.Errorf("got %v allocations per request; want 0", n)
			}
		})
	}
}
