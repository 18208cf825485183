package framed

import (
	"io"
	"time"

	"wsgate/internal/exchange"
	"wsgate/internal/http1"
)

// BodySource is where a stream's request body arrives.
type BodySource interface {
	// BodyEmpty reports whether the request has no body to read.
	BodyEmpty() bool
	// ReadBody reads the body's next bytes (io.EOF at its end), within
	// timeout when not 0 (client_body_timeout between reads).
	ReadBody(p []byte, timeout time.Duration) (int, error)
}

// Body is a stream's request body as the handlers read it
// (exchange.Body): client_max_body_size, client_body_timeout between
// reads, and the declared Content-Length checked against the DATA.
type Body struct {
	src     BodySource
	req     *exchange.Request
	max     int64
	read    int64
	begun   bool
	timeout time.Duration
	last    error // the last error Read returned other than io.EOF
}

// Reset readies b for req's body, read from src, with client_max_body_size
// max (0: none) and client_body_timeout timeout.
func (b *Body) Reset(src BodySource, req *exchange.Request, max int64, timeout time.Duration) {
	*b = Body{src: src, req: req, max: max, timeout: timeout}
}

// Err is the error the body's reads met, nil for none or io.EOF.
func (b *Body) Err() error { return b.last }

var (
	errBodyTooLarge = &http1.StatusError{Status: 413, Msg: "client intended to send too large body"}
	errBodyLength   = &http1.StatusError{Status: 400, Msg: "client prematurely closed stream: only some of the declared body was sent"}
	errBodyExtra    = &http1.StatusError{Status: 400, Msg: "client sent more data than specified in \"Content-Length\" header"}
)

// SetLimits applies a location's client_max_body_size (0: none) and
// client_body_timeout; a declared length above the first is a 413 at
// once.
func (b *Body) SetLimits(l exchange.Limits) error {
	b.timeout = l.ClientBodyTimeout
	b.max = l.ClientMaxBodySize
	if cl := b.req.ContentLength; b.max > 0 && cl > b.max {
		return errBodyTooLarge
	}
	return nil
}

func (b *Body) Begin() error {
	if b.begun {
		return nil
	}
	b.begun = true
	if cl := b.req.ContentLength; b.max > 0 && cl > b.max {
		return errBodyTooLarge
	}
	return nil
}

func (b *Body) Empty() bool { return b.src.BodyEmpty() }

func (b *Body) BytesRead() int64 { return b.read }

func (b *Body) Read(p []byte) (int, error) {
	if err := b.Begin(); err != nil {
		b.last = err
		return 0, err
	}
	n, err := b.src.ReadBody(p, b.timeout)
	b.read += int64(n)
	cl := b.req.ContentLength
	switch {
	case cl >= 0 && b.read > cl:
		err = errBodyExtra
	case b.max > 0 && b.read > b.max:
		err = errBodyTooLarge
	case err == io.EOF && cl >= 0 && b.read < cl:
		err = errBodyLength
	}
	if err != nil && err != io.EOF {
		b.last = err
	}
	return n, err
}

var _ exchange.Body = (*Body)(nil)
