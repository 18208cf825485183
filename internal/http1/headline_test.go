package http1

import (
	"bufio"
	"errors"
	"os"
	"testing"
)

// scripted returns its steps in turn, one per Read: bytes, or an error.
type scripted struct {
	steps []any
	reads int
}

func (s *scripted) Read(p []byte) (int, error) {
	s.reads++
	if len(s.steps) == 0 {
		return 0, errors.New("read past the script")
	}
	st := s.steps[0]
	s.steps = s.steps[1:]
	if err, ok := st.(error); ok {
		return 0, err
	}
	return copy(p, st.(string)), nil
}

// TestHeadReadTimeoutOnce: a read that times out in the middle of a head
// line ends the head there, with the timeout: the line is not read again
// (which waited a second proxy_read_timeout or client_header_timeout,
// and took bytes sent after it; nginx-tests proxy_cache_lock_ssi.t,
// "parallel execution after lock timeout").
func TestHeadReadTimeoutOnce(t *testing.T) {
	tests := []struct {
		name  string
		read  func(*bufio.Reader) error
		first string
	}{
		{"response not started", func(br *bufio.Reader) error { return new(Response).ReadHead(br, 4096) }, ""},
		{"response status line", func(br *bufio.Reader) error { return new(Response).ReadHead(br, 4096) }, "HTTP/1.1 200"},
		{"response header line", func(br *bufio.Reader) error { return new(Response).ReadHead(br, 4096) }, "HTTP/1.1 200 OK\r\nX-A: 1"},
		{"request line", func(br *bufio.Reader) error {
			cfg := DefaultHeadConfig()
			return ParseRequestHead(br, &cfg, new(Request))
		}, "GET /x"},
		{"request header line", func(br *bufio.Reader) error {
			cfg := DefaultHeadConfig()
			return ParseRequestHead(br, &cfg, new(Request))
		}, "GET / HTTP/1.1\r\nHost: a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &scripted{steps: []any{tc.first, os.ErrDeadlineExceeded, " late\r\n\r\n"}}
			want := 2
			if tc.first == "" {
				r.steps, want = r.steps[1:], 1
			}
			err := tc.read(bufio.NewReader(r))
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("got %v; want the timeout", err)
			}
			if r.reads != want {
				t.Errorf("%d reads; want %d (none after the timeout)", r.reads, want)
			}
		})
	}
}
