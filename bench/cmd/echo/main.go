// Command echo is the benchmark's backend: a WebSocket echo server (RFC 6455,
// framed by hand over net.Conn) and a tiny HTTP responder that answers every
// other request with 200 and a 3-byte body. Both listeners serve both kinds
// of request; they are separate only so that a proxy configuration can route
// /ws/ and / to different upstreams, as the seed tutorial does.
//
// With -reuseport its listeners set SO_REUSEPORT, so that several echo
// processes share the two ports and the kernel spreads the connections over
// them: one process holds at most the hard RLIMIT_NOFILE of sockets, and
// the scale measurement needs more backend sockets than that.
//
// On SIGUSR1 it prints "pings N", the Pings it has answered so far: scale
// checks with it that a proxy's ws_ping_interval rounds ran on time.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"

	"wsgate/bench/internal/wsframe"
)

// maxFrame bounds a frame's payload; the benchmark sends at most 64 KiB.
const maxFrame = 16 << 20

func main() {
	wsAddr := flag.String("ws", "127.0.0.1:8080", "WebSocket echo listen address")
	httpAddr := flag.String("http", "127.0.0.1:3000", "HTTP responder listen address")
	reusePort := flag.Bool("reuseport", false, "set SO_REUSEPORT on the listeners, so that several echo processes share their ports")
	flag.Parse()
	raiseNoFile()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	var lc net.ListenConfig
	if *reusePort {
		lc.Control = setReusePort
	}
	for _, a := range []string{*wsAddr, *httpAddr} {
		ln, err := lc.Listen(context.Background(), "tcp", a)
		if err != nil {
			log.Error("listening", "addr", a, "err", err)
			os.Exit(1)
		}
		go serve(ln)
	}
	fmt.Println("ready")
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	go func() {
		for range usr1 {
			fmt.Printf("pings %d\n", pings.Load())
		}
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
}

// pings counts the Pings answered, on every connection.
var pings atomic.Int64

// raiseNoFile lifts the soft RLIMIT_NOFILE to the hard limit: the idle case
// holds one backend socket per proxied WebSocket.
func raiseNoFile() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// soReusePort is SO_REUSEPORT on Linux, which package syscall does not name.
const soReusePort = 0xf

// setReusePort sets SO_REUSEPORT on a listening socket before its bind
// (net.ListenConfig.Control runs between socket and bind).
func setReusePort(_, _ string, rc syscall.RawConn) error {
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, soReusePort, 1)
	}); err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("setsockopt(SO_REUSEPORT): %w", serr)
	}
	return nil
}

func serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		go handle(c)
	}
}

func handle(c net.Conn) {
	defer c.Close()
	r := bufio.NewReaderSize(c, 4096)
	for {
		req, err := wsframe.ReadRequest(r)
		if err != nil {
			return
		}
		if req.Upgrade == "websocket" && req.Key != "" {
			io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "+
				wsframe.AcceptKey(req.Key)+"\r\n\r\n")
			echo(c, r)
			return
		}
		if req.ContentLength > 0 {
			if _, err := io.CopyN(io.Discard, r, req.ContentLength); err != nil {
				return
			}
		}
		// HTTP/1.0 closes unless the client asked to keep alive; HTTP/1.1
		// keeps alive unless it asked to close (RFC 9112 section 9.3).
		keep := req.Proto == "HTTP/1.1" && !strings.Contains(req.Connection, "close") ||
			req.Proto == "HTTP/1.0" && strings.Contains(req.Connection, "keep-alive")
		resp := "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n"
		if !keep {
			resp = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"
		}
		if _, err := io.WriteString(c, resp); err != nil || !keep {
			return
		}
	}
}

// echo returns every data frame unmasked with its opcode, answers Ping with
// Pong, and answers Close with Close and then closes the connection
// (RFC 6455 section 5.5.1). Fragments are echoed fragment by fragment.
func echo(c net.Conn, r *bufio.Reader) {
	buf := make([]byte, wsframe.MaxHeader+4096)
	for {
		h, err := wsframe.ReadHeader(r)
		if err != nil {
			return
		}
		if h.Length > maxFrame {
			return
		}
		n := int(h.Length)
		if cap(buf) < wsframe.MaxHeader+n {
			buf = make([]byte, wsframe.MaxHeader+n)
		}
		buf = buf[:cap(buf)]
		payload := buf[wsframe.MaxHeader : wsframe.MaxHeader+n]
		if _, err := io.ReadFull(r, payload); err != nil {
			return
		}
		if h.Masked {
			wsframe.Mask(payload, h.Mask, 0)
		}
		op := h.Opcode
		if op == wsframe.OpPing {
			pings.Add(1)
			op = wsframe.OpPong
		} else if op == wsframe.OpPong {
			continue
		}
		// Build the header in the bytes just before the payload so that
		// header and payload go out in one write.
		var hdr [wsframe.MaxHeader]byte
		hl := wsframe.PutHeader(hdr[:], op, n, nil)
		if !h.Fin && op != wsframe.OpClose {
			hdr[0] &^= 0x80
		}
		start := wsframe.MaxHeader - hl
		copy(buf[start:], hdr[:hl])
		if _, err := c.Write(buf[start : wsframe.MaxHeader+n]); err != nil {
			return
		}
		if op == wsframe.OpClose {
			return
		}
	}
}
