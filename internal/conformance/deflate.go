package conformance

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
)

// permessage-deflate (RFC 7692) with no context takeover either way, the
// parameters the echo server always answers with (7.1.1.1, 7.1.1.2):
// each message is compressed on its own, so that two runs of a case put
// the same bytes on the wire.

// deflateAccept is the echo server's answer to a permessage-deflate offer.
const deflateAccept = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"

// tail ends every compressed message before its last four bytes are
// removed (7.2.1) and is appended again to decompress it (7.2.2).
var tail = []byte{0x00, 0x00, 0xff, 0xff}

// deflate compresses p as one message's payload (RFC 7692 7.2.1).
func deflate(p []byte) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestSpeed)
	w.Write(p)
	w.Flush()
	return bytes.TrimSuffix(b.Bytes(), tail)
}

// errTooBig is a message larger than the reader takes.
var errTooBig = errors.New("message too big")

// inflate decompresses one message's payload (7.2.2), up to limit bytes.
func inflate(p []byte, limit int) ([]byte, error) {
	r := flate.NewReader(io.MultiReader(bytes.NewReader(p), bytes.NewReader(tail)))
	out, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = nil // the stream goes on (no final block): the message ends here
	}
	if err == nil && len(out) > limit {
		err = errTooBig
	}
	return out, err
}
