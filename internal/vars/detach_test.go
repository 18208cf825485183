package vars

import (
	"crypto/tls"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"wsgate/internal/route"
)

func TestFreezeCopiesStrings(t *testing.T) {
	buf := []byte("GET/ws/chatroom=1example.comUpgradewebsocket")
	view := func(i, j int) string { return unsafe.String(&buf[i], j-i) }
	c := &Ctx{
		Method:     view(0, 3),
		URI:        view(3, 11),
		Args:       view(11, 17),
		Host:       view(17, 28),
		Headers:    []Header{{Name: view(28, 35), Value: view(35, 44)}},
		RemoteAddr: "127.0.0.1",
	}
	var f Frozen
	f.Freeze(c)
	for i := range buf {
		buf[i] = 'x'
	}
	var got Ctx
	f.Thaw(&got)
	comp := mustCompile(t, "$request_method $uri $args $host $http_upgrade $remote_addr")
	line := string(comp.Append(nil, &got))
	want := "GET /ws/chat room=1 example.com websocket 127.0.0.1"
	if line != want {
		t.Fatalf("got %q; want %q", line, want)
	}
}

// TestFreezeRoundTrip fills every exported field of a Ctx, so that a field
// added to Ctx and forgotten by Freeze fails here.
func TestFreezeRoundTrip(t *testing.T) {
	start := time.Now()
	c := Ctx{
		Start: start,
		End:   start.Add(1500 * time.Millisecond),
		Captures: route.Captures{
			Subject: "/ws/room/42",
			Index:   []int{0, 11, 9, 11, -1, -1},
			Names:   []string{"", "id", ""},
		},
		Headers:          []Header{{Name: "Host", Value: "example.com"}, {Name: "X-Empty", Value: ""}},
		UpstreamHeaders:  []Header{{Name: "Sec-WebSocket-Accept", Value: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="}},
		UpstreamTrailers: []Header{{Name: "Grpc-Status", Value: "0"}},
		ConnStart:        start.Add(-time.Minute),
		RequestID:        [16]byte{0xde, 0xad, 15: 0x01},
		TLSState:         &tls.ConnectionState{Version: tls.VersionTLS13, ServerName: "example.com"},
		Upstream: []UpstreamTry{
			{Addr: "127.0.0.1:8080", Status: 502, ResponseTime: 3 * time.Millisecond, ConnectTime: -1},
			{Addr: "127.0.0.1:8081", Status: 101, ResponseTime: time.Hour, ConnectTime: time.Millisecond, ResponseLength: 17,
				HeaderTime: 2 * time.Millisecond, BytesSent: 300, BytesReceived: 129, Group: true},
		},
		sets: []setSlot{{val: "set-value", ok: true}, {}, {val: "", ok: true}},
	}
	v := reflect.ValueOf(&c).Elem()
	for i := 0; i < v.NumField(); i++ {
		f, sf := v.Field(i), v.Type().Field(i)
		if !sf.IsExported() || !f.IsZero() {
			continue
		}
		switch sf.Name {
		case "Uninitialized", "TCPInfo", "Paths":
			// Not kept: a tunnel's log line has no location to warn
			// for, and reads no socket or file system.
			continue
		}
		if sf.Name == "WSSession" {
			// Not kept: zero when a tunnel starts, set after Thaw from
			// what the tunnel reports.
			continue
		}
		switch f.Kind() {
		case reflect.String:
			f.SetString(sf.Name + "-value")
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int, reflect.Int64:
			f.SetInt(int64(1000 + i))
		case reflect.Uint64:
			f.SetUint(uint64(1<<40 + i))
		case reflect.Pointer:
			// Kept by reference: the process's counters (Conns).
			f.Set(reflect.New(f.Type().Elem()))
		default:
			t.Fatalf("field %s of kind %s: teach this test (and Freeze) about it", sf.Name, f.Kind())
		}
	}
	var fz Frozen
	fz.Freeze(&c)
	var got Ctx
	fz.Thaw(&got)
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("thawed\n%+v\nwant\n%+v", got, c)
	}
	if d := got.End.Sub(got.Start); d != 1500*time.Millisecond {
		t.Fatalf("End-Start = %v; want 1.5s", d)
	}

	var zero Frozen
	zero.Thaw(&got)
	if !reflect.DeepEqual(got, Ctx{}) {
		t.Fatalf("zero Frozen thawed to %+v; want the zero Ctx", got)
	}
}

func mustCompile(t *testing.T, s string) *Template {
	t.Helper()
	vc, err := NewCompiler(nil)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := vc.Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}
