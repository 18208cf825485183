package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"wsgate/bench/internal/wsframe"
)

// client opens the idle connections of one mode.
type client struct {
	addr     string
	srcs     int
	mode     string
	next     atomic.Uint32
	errs     atomic.Int64
	firstErr atomic.Value // string
}

var (
	clientMask = [4]byte{0x37, 0xfa, 0x21, 0x3d}
	handshake  = "GET /ws/ HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	getRequest = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
)

func (c *client) fail(err error) {
	c.errs.Add(1)
	c.firstErr.CompareAndSwap(nil, err.Error())
}

// open makes one idle connection of c's mode.
func (c *client) open() (net.Conn, error) {
	n := c.next.Add(1) % uint32(c.srcs)
	d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+n))}}
	conn, err := d.Dial("tcp", c.addr)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			conn.Close()
		}
	}()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReaderSize(conn, 512)
	switch c.mode {
	case "http-fresh":
	case "http-keepalive":
		if _, err := io.WriteString(conn, getRequest); err != nil {
			return nil, err
		}
		resp, err := wsframe.ReadResponseHead(br)
		if err != nil {
			return nil, fmt.Errorf("reading response: %w", err)
		}
		if resp.Status != 204 || resp.Close {
			return nil, fmt.Errorf("GET / answered %d (close %v); want 204, kept alive", resp.Status, resp.Close)
		}
	case "ws":
		if _, err := io.WriteString(conn, handshake); err != nil {
			return nil, err
		}
		resp, err := wsframe.ReadResponseHead(br)
		if err != nil {
			return nil, fmt.Errorf("reading handshake response: %w", err)
		}
		if resp.Status != 101 {
			return nil, fmt.Errorf("handshake answered %d; want 101", resp.Status)
		}
		msg := make([]byte, 128)
		if _, err := conn.Write(wsframe.AppendFrame(nil, wsframe.OpText, msg, &clientMask)); err != nil {
			return nil, err
		}
		h, err := wsframe.ReadHeader(br)
		if err == nil {
			_, err = br.Discard(int(h.Length))
		}
		if err != nil {
			return nil, fmt.Errorf("reading echo: %w", err)
		}
	default:
		return nil, fmt.Errorf("unknown -mode %q", c.mode)
	}
	conn.SetDeadline(time.Time{})
	ok = true
	return conn, nil
}

// openAll opens n connections, parallel at a time and at most rate a
// second (0: no bound but parallel); the ones that failed are counted and
// left out.
func (c *client) openAll(n, parallel, rate int) []net.Conn {
	conns := make([]net.Conn, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallel)
	t0 := time.Now()
	for i := range conns {
		if rate > 0 {
			if d := time.Until(t0.Add(time.Duration(i) * time.Second / time.Duration(rate))); d > 0 {
				time.Sleep(d)
			}
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			conn, err := c.open()
			if err != nil {
				c.fail(err)
				return
			}
			conns[i] = conn
		}()
	}
	wg.Wait()
	out := conns[:0]
	for _, conn := range conns {
		if conn != nil {
			out = append(out, conn)
		}
	}
	return out
}

func closeAll(conns []net.Conn) {
	for _, conn := range conns {
		conn.Close()
	}
}

// clientReport is what a client process says once its connections are
// open: one JSON line on its standard output.
type clientReport struct {
	Open       int
	Errors     int64
	FirstError string `json:",omitempty"`
}

// clientWorker is scale re-executed as a client process (-client-worker):
// it opens its share of the connections, reports, and holds them until
// its standard input ends (scale closed it, or died) or it is signalled.
func clientWorker(o options) error {
	if _, err := raiseNoFile(uint64(o.conns + 256)); err != nil {
		return err
	}
	c := &client{addr: o.addr, srcs: o.srcs, mode: o.mode}
	c.next.Store(uint32(o.srcOffset))
	conns := c.openAll(o.conns, o.parallel, o.rate)
	rep := clientReport{Open: len(conns), Errors: c.errs.Load()}
	if s, ok := c.firstErr.Load().(string); ok {
		rep.FirstError = s
	}
	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		return err
	}
	io.Copy(io.Discard, os.Stdin)
	closeAll(conns)
	return nil
}

// openInChildren opens counts[i] connections in client process i, one
// process after another (so that -parallel and -rate bound the whole
// run), and returns their reports summed. The processes hold their
// connections until ps stops them.
func openInChildren(ps *procs, o options, addr string, counts []int) (clientReport, error) {
	var sum clientReport
	self, err := os.Executable()
	if err != nil {
		return sum, err
	}
	offset := 0
	for i, n := range counts {
		cmd := exec.Command(self, "-client-worker", "-addr", addr, "-mode", o.mode,
			"-conns", strconv.Itoa(n), "-srcs", strconv.Itoa(o.srcs), "-src-offset", strconv.Itoa(offset),
			"-parallel", strconv.Itoa(o.parallel), "-rate", strconv.Itoa(o.rate))
		offset += n
		stderr, err := os.Create(fmt.Sprintf("%s/client.%d.stderr", o.work, i))
		if err != nil {
			return sum, err
		}
		cmd.Stderr = stderr
		// The pipe's write end stays open in scale until stop or exit:
		// the client holds its connections until then.
		in, err := cmd.StdinPipe()
		if err != nil {
			return sum, err
		}
		ps.hold(in)
		out, err := cmd.StdoutPipe()
		if err != nil {
			return sum, err
		}
		err = ps.run(cmd)
		stderr.Close()
		if err != nil {
			return sum, fmt.Errorf("starting client process %d: %w", i, err)
		}
		var rep clientReport
		if err := json.NewDecoder(out).Decode(&rep); err != nil {
			return sum, fmt.Errorf("client process %d: %w", i, err)
		}
		sum.Open += rep.Open
		sum.Errors += rep.Errors
		if sum.FirstError == "" {
			sum.FirstError = rep.FirstError
		}
	}
	return sum, nil
}
