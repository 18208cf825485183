package tunnel

import (
	"testing"
	"unsafe"
)

// TestTunnelSize keeps an idle tunnel's state in the allocator's
// 768-byte size class: with the 8-byte header of an object with pointers,
// at most 760 bytes (see the tunnel struct). A field that does not fit
// belongs behind a pointer allocated only for the tunnels that use it.
func TestTunnelSize(t *testing.T) {
	if n := unsafe.Sizeof(tunnel{}); n > 760 {
		t.Fatalf("tunnel takes %d bytes, more than the 760 that fit the 768-byte size class", n)
	}
}

// TestGateSize keeps a gate (one per pinged or limited side) in the
// 112-byte size class.
func TestGateSize(t *testing.T) {
	if n := unsafe.Sizeof(gate{}); n > 112 {
		t.Fatalf("gate takes %d bytes, more than the 112-byte size class", n)
	}
}

// TestHandleSize keeps a Registry entry in the 160-byte size class.
func TestHandleSize(t *testing.T) {
	if n := unsafe.Sizeof(Handle{}); n > 160 {
		t.Fatalf("Handle takes %d bytes, more than the 160-byte size class", n)
	}
}
