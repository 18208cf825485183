package bodyfilter

import (
	"compress/gzip"
	"errors"
	"io"
	"sync"

	"wsgate/internal/exchange"
	"wsgate/internal/vars"
)

// This file is ngx_http_gunzip_filter_module: with gunzip on, a response
// whose Content-Encoding is exactly gzip, of any status and type, is
// decompressed for a client that ngx_http_gzip_ok says does not take
// gzip; its head loses Content-Encoding, Content-Length and
// Accept-Ranges, and its ETag turns weak. It runs first in the chain, so
// that sub_filter sees the decompressed text. The response counts as
// one gzip_vary applies to either way.
//
// compress/gzip's reader pulls its input, and the wire layer pushes it:
// a goroutine per response runs the reader, fed one Write at a time.
// The two take turns through unbuffered channels (Write hands over p
// and waits until the reader has used all of it and written what it
// decoded to next), so that next is only ever written while Write or End
// waits: the writer is never used by two goroutines at once. End lets the
// goroutine finish; the wire layer calls End also for a cut response.

// errGunzipDone: the gzip stream ended; what follows it is dropped.
var errGunzipDone = errors.New("gunzip: stream ended")

var gzipReaders sync.Pool

// gunzipStage is one response being decompressed; a Bound keeps one.
type gunzipStage struct {
	in   chan []byte // input for the reader; nil: the body ended
	want chan error  // the reader used its input (nil), or stopped
	next io.Writer
	cur  []byte
	// running: the goroutine was started and has not stopped;
	// started: it received its first input.
	running, started bool
	stopErr          error // why it stopped
	buf              []byte
}

// start is ngx_http_gunzip_header_filter; vary is r->gzip_vary.
func (s *gunzipStage) start(core *gzipCore, vc *vars.Ctx, buf []byte, start int) (_ []byte, _ exchange.BodyStage, vary bool) {
	ce := headerValue(buf, start, "Content-Encoding")
	if len(ce) != 4 || !asciiEqualFold(ce, "gzip") {
		return buf, nil, false
	}
	if core.ok(vc, headView{buf, start}) {
		return buf, nil, true
	}
	buf = removeLines(buf, start, "Content-Encoding")
	buf = removeLines(buf, start, "Accept-Ranges")
	buf = weakenETag(buf, start)
	s.running, s.started, s.stopErr = false, false, nil
	return buf, s, true
}

// Write feeds p to the reader and waits until it has used it.
func (s *gunzipStage) Write(next io.Writer, p []byte) error {
	if len(p) == 0 {
		return nil
	}
	if s.stopErr != nil {
		if s.stopErr == errGunzipDone {
			return nil
		}
		return s.stopErr
	}
	if !s.running {
		if s.in == nil {
			s.in, s.want = make(chan []byte), make(chan error)
		}
		s.running = true
		go s.run()
	}
	s.next = next
	s.in <- p
	if err := <-s.want; err != nil {
		s.running, s.stopErr = false, err
		if err == errGunzipDone {
			return nil
		}
		return err
	}
	return nil
}

// End tells the reader the body ended and waits for it to finish.
func (s *gunzipStage) End(next io.Writer) error {
	if !s.running {
		if s.stopErr == errGunzipDone {
			return nil
		}
		return s.stopErr
	}
	s.next = next
	s.in <- nil
	err := <-s.want
	s.running = false
	if err == errGunzipDone {
		return nil
	}
	return err
}

// Read is the reader's input: the Write in progress, then the next one.
func (s *gunzipStage) Read(p []byte) (int, error) {
	for len(s.cur) == 0 {
		if s.started {
			s.want <- nil
		}
		s.started = true
		in := <-s.in
		if in == nil {
			return 0, io.EOF
		}
		s.cur = in
	}
	n := copy(p, s.cur)
	s.cur = s.cur[n:]
	return n, nil
}

// run decompresses until the stream or the input ends, and reports why it
// stopped on want (errGunzipDone for a stream read to its end).
func (s *gunzipStage) run() {
	err := s.decode()
	if err == nil || err == io.EOF {
		err = errGunzipDone
	}
	if err == io.ErrUnexpectedEOF {
		err = errors.New("gunzip: the body ended inside the gzip stream")
	}
	// Whatever input is still on its way (an End's nil, a Write's
	// bytes after the end of the stream) gets this answer.
	s.cur = nil
	s.want <- err
}

func (s *gunzipStage) decode() error {
	zr, _ := gzipReaders.Get().(*gzip.Reader)
	var err error
	if zr == nil {
		zr, err = gzip.NewReader(s)
	} else {
		err = zr.Reset(s)
	}
	if err != nil {
		if zr != nil {
			gzipReaders.Put(zr)
		}
		return err
	}
	defer gzipReaders.Put(zr)
	if cap(s.buf) == 0 {
		s.buf = make([]byte, 32<<10)
	}
	buf := s.buf[:cap(s.buf)]
	for {
		n, err := zr.Read(buf)
		if n > 0 {
			if _, werr := s.next.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err != nil {
			return err
		}
	}
}
