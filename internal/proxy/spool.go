package proxy

import (
	"bytes"
	"io"
	"net"
	"os"

	"wsgate/internal/http1"
)

// spoolMemory is how much of a spooled request body stays in memory; the
// rest goes to a temporary file (nginx: client_body_buffer_size, then
// client_body_temp_path).
const spoolMemory = 64 << 10

// spooled is a request body read whole before it is sent, so that it can
// carry a Content-Length: a chunked body to an HTTP/1.0 upstream, as nginx
// buffers it (proxy_request_buffering).
type spooled struct {
	mem  bytes.Buffer
	file *os.File
	size int64
}

func spoolBody(body io.Reader) (*spooled, error) {
	s := &spooled{}
	n, err := io.CopyN(&s.mem, body, spoolMemory)
	s.size = n
	if err == io.EOF {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	if s.file, err = os.CreateTemp("", "wsgate-body-"); err != nil {
		return s, err
	}
	os.Remove(s.file.Name())
	m, err := io.Copy(s.file, body)
	s.size += m
	return s, err
}

func (s *spooled) writeTo(conn net.Conn, buf []byte) error {
	if _, err := conn.Write(s.mem.Bytes()); err != nil {
		return err
	}
	if s.file == nil {
		return nil
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err := io.CopyBuffer(conn, s.file, buf)
	return err
}

func (s *spooled) close() {
	if s != nil && s.file != nil {
		s.file.Close()
	}
}

// bodyStatus is the status for a failure reading the client's body:
// the body's own status (400, 413) or 400.
func bodyStatus(err error) int {
	if st := http1.StatusOf(err); st != 0 {
		return st
	}
	return 400
}
