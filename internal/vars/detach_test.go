package vars

import (
	"testing"
	"unsafe"
)

func TestDetachCopiesStrings(t *testing.T) {
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
	c.Detach()
	for i := range buf {
		buf[i] = 'x'
	}
	comp := mustCompile(t, "$request_method $uri $args $host $http_upgrade $remote_addr")
	got := string(comp.Append(nil, c))
	want := "GET /ws/chat room=1 example.com websocket 127.0.0.1"
	if got != want {
		t.Fatalf("got %q; want %q", got, want)
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
