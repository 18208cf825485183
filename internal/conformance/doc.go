// Package conformance is wsgate's RFC 6455 conformance suite, modelled
// on the case groups of Autobahn|Testsuite (which needs Python 2 and does
// not run here): framing (1.x), pings and pongs (2.x), reserved bits
// (3.x), opcodes (4.x), fragmentation (5.x), UTF-8 (6.x), close handling
// (7.x), big payloads (9.x), wsgate's own size limits (10.x) and
// permessage-deflate (12.x, 13.x, RFC 7692).
//
// It holds three parts:
//   - a client (Run) written against net.Conn that sends each case's
//     frames byte for byte, malformed ones included, with mask keys
//     derived from the frame's position so that two runs of a case put
//     the same bytes on the wire, and that records what it observes
//     (echoed messages, Pongs, the Close code, the connection's end) as
//     a list of events;
//   - a strict echo server (EchoServer) that fails the connection as RFC
//     6455 7.1.7 says on every protocol error (1002), on text that is not
//     UTF-8 (1007, 8.1) and on a message larger than it takes (1009),
//     echoes messages and Pings, and records a digest of the frames it
//     read for each case;
//   - the cases (Cases), each with the events a strict server gives.
//
// The test runs every case straight to the echo server, then through
// wsgate three times (plain, pinging the client, pinging both sides), and
// asks for the same events each time and, where wsgate does not ping the
// server, the same frames at the server: wsgate relays frames untouched,
// whatever they hold, and consumes only the Pongs to its own Pings.
// Cases that go to a location with ws_max_message_size or
// ws_max_frame_size expect wsgate's own answer (Close 1009) instead.
//
// Nothing here is timing-asserted: the client ends each case with a Ping
// of its own and waits for its Pong (or the server's Close) rather than
// for a quiet period.
package conformance
