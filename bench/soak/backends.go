package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// backend is a loopback HTTP or WebSocket echo server that can be stopped
// and started again on the same address.
type backend struct {
	addr string
	h    http.Handler

	mu    sync.Mutex
	srv   *http.Server
	conns map[*websocket.Conn]bool
}

// backends are the soak's four upstreams.
type backends struct {
	wsStable, wsRestart, httpStable, httpRestart *backend
}

func startBackends() (*backends, error) {
	b := &backends{}
	for _, p := range []**backend{&b.wsStable, &b.wsRestart, &b.httpStable, &b.httpRestart} {
		*p = &backend{conns: map[*websocket.Conn]bool{}}
	}
	b.wsStable.h = http.HandlerFunc(b.wsStable.echo)
	b.wsRestart.h = http.HandlerFunc(b.wsRestart.echo)
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "hello\n")
	})
	b.httpStable.h, b.httpRestart.h = hello, hello
	for _, x := range b.all() {
		if err := x.start(); err != nil {
			b.stop()
			return nil, err
		}
	}
	return b, nil
}

func (b *backends) all() []*backend {
	return []*backend{b.wsStable, b.wsRestart, b.httpStable, b.httpRestart}
}

// restart stops the restarting backends, waits down, and starts them again.
func (b *backends) restart(down time.Duration) error {
	b.wsRestart.stop()
	b.httpRestart.stop()
	time.Sleep(down)
	return errors.Join(b.wsRestart.start(), b.httpRestart.start())
}

func (b *backends) stop() {
	for _, x := range b.all() {
		if x != nil {
			x.stop()
		}
	}
}

func (x *backend) start() error {
	addr := x.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var l net.Listener
	var err error
	for try := 0; try < 50; try++ { // the old socket may linger a moment
		if l, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	x.addr = l.Addr().String()
	srv := &http.Server{Handler: x.h, ReadHeaderTimeout: 10 * time.Second}
	x.mu.Lock()
	x.srv = srv
	x.mu.Unlock()
	go srv.Serve(l)
	return nil
}

// stop closes the listener and every connection, WebSocket ones included
// (http.Server.Close leaves hijacked connections alone).
func (x *backend) stop() {
	x.mu.Lock()
	srv := x.srv
	x.srv = nil
	conns := x.conns
	x.conns = map[*websocket.Conn]bool{}
	x.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
	for c := range conns {
		c.CloseNow()
	}
}

// echo is the WebSocket echo handler.
func (x *backend) echo(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	x.mu.Lock()
	if x.srv == nil {
		x.mu.Unlock()
		c.CloseNow()
		return
	}
	x.conns[c] = true
	x.mu.Unlock()
	defer func() {
		x.mu.Lock()
		delete(x.conns, c)
		x.mu.Unlock()
		c.CloseNow()
	}()
	ctx := context.Background()
	for {
		typ, p, err := c.Read(ctx)
		if err != nil {
			return
		}
		if err := c.Write(ctx, typ, p); err != nil {
			return
		}
	}
}
