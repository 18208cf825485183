package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

	"wsgate/internal/config"
	"wsgate/internal/snapshot"
)

func TestClassifyStatus(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
		next config.NextUpstream
	}{
		{"refused", &UpstreamError{Kind: KindConnect, Peer: "127.0.0.1:1", Err: syscall.ECONNREFUSED}, 502, config.NextError},
		{"connect timeout", &UpstreamError{Kind: KindConnectTimeout, Err: os.ErrDeadlineExceeded}, 504, config.NextTimeout},
		{"read timeout", &UpstreamError{Kind: KindReadTimeout}, 504, config.NextTimeout},
		{"send timeout", &UpstreamError{Kind: KindSendTimeout}, 504, config.NextTimeout},
		{"premature close", &UpstreamError{Kind: KindPrematureClose}, 502, config.NextError},
		{"invalid header", &UpstreamError{Kind: KindInvalidHeader}, 502, config.NextInvalidHeader},
		{"too big header", &UpstreamError{Kind: KindTooBigHeader}, 502, config.NextInvalidHeader},
		{"no live", &UpstreamError{Kind: KindNoLive}, 502, 0},
		{"resolve", &UpstreamError{Kind: KindResolve}, 502, 0},
		{"bad url", &UpstreamError{Kind: KindBadURL, Err: snapshot.ErrZeroLengthURI}, 500, 0},
		{"client gone", fmt.Errorf("reading request: %w", ErrClientGone), 499, 0},
		{"canceled", context.Canceled, 499, 0},
		{"wrapped upstream error", fmt.Errorf("proxying: %w", &UpstreamError{Kind: KindReadTimeout}), 504, config.NextTimeout},
		{"bare deadline", os.ErrDeadlineExceeded, 504, config.NextTimeout},
		{"bare net error", &net.OpError{Op: "dial", Err: syscall.ECONNRESET}, 502, config.NextError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Classify(tc.err).Status(); got != tc.want {
				t.Errorf("got %d; want %d", got, tc.want)
			}
			if got := Classify(tc.err).NextUpstream(); got != tc.next {
				t.Errorf("NextUpstream got %v; want %v", got, tc.next)
			}
		})
	}
}

func TestUpstreamErrorChain(t *testing.T) {
	err := fmt.Errorf("proxying: %w", &UpstreamError{Kind: KindConnect, Peer: "[::1]:8080", Err: syscall.ECONNREFUSED})
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("errors.Is(ECONNREFUSED) got false; want true")
	}
	want := "proxying: connect failed (upstream [::1]:8080): connection refused"
	if err.Error() != want {
		t.Errorf("got %q; want %q", err.Error(), want)
	}
}
