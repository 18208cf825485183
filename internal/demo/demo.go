// Package demo runs the seed tutorial's setup in one process: wsgate
// serving the tutorial's server block, a WebSocket backend where the
// tutorial has :8080 (echo, a small chat, and a stream of what wsgate
// saw) and an HTTP app where it has :3000 serving a page whose script
// talks to the backend through wsgate. Nothing has to be written by hand:
// the configuration goes to a temporary directory, removed at shutdown.
package demo

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"wsgate/internal/server"
)

//go:embed tutorial.conf
var tutorialConf string

// The tutorial's addresses, as its configuration writes them.
const (
	TutorialListen    = "80"
	TutorialWSBackend = "localhost:8080"
	TutorialApp       = "localhost:3000"
)

// The lines of tutorial.conf that name those addresses.
const (
	listenLine    = "listen 80;"
	wsBackendLine = "proxy_pass http://localhost:8080;"
	appLine       = "proxy_pass http://localhost:3000;"
)

// Options configure a demo. Empty addresses mean the tutorial's, with a
// fallback to a free loopback port when the tutorial's is taken or not
// allowed; an address given explicitly is used as is (port 0: a free port)
// and an error is returned when it cannot be had.
type Options struct {
	// Listen is wsgate's listen address: "PORT" or "HOST:PORT".
	Listen string
	// WSBackend is where the built-in WebSocket backend listens, HOST:PORT.
	WSBackend string
	// App is where the built-in HTTP app listens, HOST:PORT.
	App string
	// Version is wsgate's version, for its Server header.
	Version string
	// Log receives wsgate's own messages (its error log); nil discards them.
	Log *slog.Logger
}

// Demo is a running demo.
type Demo struct {
	// URL is the page's address, http://HOST:PORT/.
	URL string
	// Config is the configuration wsgate runs, as written to ConfPath.
	Config   string
	ConfPath string
	// Notes say, for each address that is not the tutorial's, which one is
	// used instead, why, and which flag chooses it.
	Notes []string
	// Listen, WSBackend and App are the addresses in use.
	Listen    string
	WSBackend []string
	App       []string

	srv     *server.Server
	backend *wsBackend
	servers []*http.Server
	dir     string
}

// Start opens the backends, writes the configuration and starts wsgate on
// it. On error nothing is left running.
func Start(opts Options) (_ *Demo, err error) {
	d := &Demo{}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	obs := newObserver()
	d.backend = newWSBackend(obs)

	wsLns, wsHost, wsNote, err := bindBackend("-ws-backend", opts.WSBackend, TutorialWSBackend, "WebSocket backend")
	if err != nil {
		return nil, err
	}
	appLns, appHost, appNote, err := bindBackend("-app", opts.App, TutorialApp, "app")
	if err != nil {
		closeAll(wsLns)
		return nil, err
	}
	listenAddr, listenNote, err := pickListen(opts.Listen)
	if err != nil {
		closeAll(wsLns)
		closeAll(appLns)
		return nil, err
	}
	for _, n := range []string{listenNote, wsNote, appNote} {
		if n != "" {
			d.Notes = append(d.Notes, n)
		}
	}
	d.Listen = listenAddr
	d.WSBackend = addrs(wsLns)
	d.App = addrs(appLns)
	d.Config = render(listenAddr, wsHost, appHost)
	d.URL = pageURL(listenAddr)

	a := &app{obs: obs, conf: d.Config}
	d.serve(wsLns, d.backend)
	d.serve(appLns, a)

	if d.dir, err = os.MkdirTemp("", "wsgate-demo-"); err != nil {
		return nil, fmt.Errorf("creating the demo's directory: %w", err)
	}
	// The default access_log, logs/access.log, is relative to the prefix.
	if err = os.Mkdir(filepath.Join(d.dir, "logs"), 0o755); err != nil {
		return nil, fmt.Errorf("creating the demo's log directory: %w", err)
	}
	d.ConfPath = filepath.Join(d.dir, "nginx.conf")
	if err = os.WriteFile(d.ConfPath, []byte(d.Config), 0o644); err != nil {
		return nil, fmt.Errorf("writing the demo's configuration: %w", err)
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d.srv, err = server.Start(server.Options{
		ConfPath: d.ConfPath,
		Prefix:   d.dir,
		Version:  opts.Version,
		Log:      log,
		Observer: obs,
	})
	if err != nil {
		return nil, fmt.Errorf("starting wsgate on %s: %w", listenAddr, err)
	}
	return d, nil
}

func (d *Demo) serve(lns []net.Listener, h http.Handler) {
	s := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	d.servers = append(d.servers, s)
	for _, ln := range lns {
		go s.Serve(ln)
	}
}

// Shutdown stops wsgate gracefully (Close 1001 on every WebSocket through
// it), then the backends (Close 1001 on what is left), and removes the
// temporary directory. ctx bounds the whole.
func (d *Demo) Shutdown(ctx context.Context) error {
	var err error
	if d.srv != nil {
		err = d.srv.Shutdown(ctx)
		d.srv = nil
	}
	d.backend.shutdown(ctx)
	for _, s := range d.servers {
		if e := s.Shutdown(ctx); e != nil && err == nil {
			err = e
		}
	}
	d.close()
	return err
}

// close stops whatever runs, at once.
func (d *Demo) close() {
	if d.srv != nil {
		d.srv.Stop()
		d.srv = nil
	}
	for _, s := range d.servers {
		s.Close()
	}
	d.servers = nil
	if d.dir != "" {
		os.RemoveAll(d.dir)
		d.dir = ""
	}
}

// render substitutes the addresses in use into the tutorial's
// configuration; lines whose address is the tutorial's are left as they are.
func render(listen, wsHost, appHost string) string {
	conf := tutorialConf
	if listen != TutorialListen {
		conf = strings.Replace(conf, listenLine, "listen "+listen+";  # the tutorial: "+listenLine, 1)
	}
	if wsHost != TutorialWSBackend {
		conf = strings.Replace(conf, wsBackendLine, "proxy_pass http://"+wsHost+";  # the tutorial: "+wsBackendLine, 1)
	}
	if appHost != TutorialApp {
		conf = strings.Replace(conf, appLine, "proxy_pass http://"+appHost+";  # the tutorial: "+appLine, 1)
	}
	return conf
}

func pageURL(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		host, port = "", listen
	}
	switch host {
	case "", "0.0.0.0", "::", "*":
		host = "localhost"
	}
	hp := net.JoinHostPort(host, port)
	if port == "80" {
		hp = host
		if strings.Contains(host, ":") {
			hp = "[" + host + "]"
		}
	}
	return "http://" + hp + "/"
}

// DefaultListenHost is where the demo listens unless -listen says
// otherwise: loopback, so that a demo started on a server is not open to
// its network. -listen 80 (or :80, 0.0.0.0:80) listens on every address,
// as the tutorial's "listen 80;" does.
const DefaultListenHost = "127.0.0.1"

// pickListen chooses wsgate's listen address. The default is the
// tutorial's port 80 on loopback; when that cannot be had, a free
// loopback port. The port is checked by binding it and letting it go, so
// wsgate can open it a moment later.
func pickListen(want string) (addr, note string, err error) {
	if want == "" {
		addr = net.JoinHostPort(DefaultListenHost, TutorialListen)
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			ln.Close()
			return addr, "", nil
		}
		free, ferr := freePort(DefaultListenHost)
		if ferr != nil {
			return "", "", fmt.Errorf("finding a free port for wsgate: %w", ferr)
		}
		addr = net.JoinHostPort(DefaultListenHost, strconv.Itoa(free))
		return addr, fmt.Sprintf("wsgate listens on %s instead of the tutorial's port 80: %s (choose with -listen ADDR)", addr, why(err, 80)), nil
	}
	host, port, serr := net.SplitHostPort(want)
	if serr != nil {
		host, port = "", want
	}
	n, perr := strconv.Atoi(port)
	if perr != nil || n < 0 || n > 65535 {
		return "", "", fmt.Errorf("-listen %q: want PORT or HOST:PORT", want)
	}
	if n == 0 {
		bindHost := host
		if bindHost == "" {
			bindHost = "127.0.0.1"
		}
		if n, err = freePort(bindHost); err != nil {
			return "", "", fmt.Errorf("-listen %q: finding a free port: %w", want, err)
		}
		host = bindHost
	}
	addr = strconv.Itoa(n)
	if host != "" {
		addr = net.JoinHostPort(host, addr)
	}
	check := addr
	if host == "" {
		check = ":" + addr
	}
	ln, err := net.Listen("tcp", check)
	if err != nil {
		return "", "", fmt.Errorf("-listen %s: %s", want, why(err, n))
	}
	ln.Close()
	return addr, "", nil
}

// bindBackend opens the listeners of a built-in backend. want is the
// flag's value ("" for the tutorial's address def). "localhost" is bound
// on 127.0.0.1 and, on the same port, ::1 (wsgate, like nginx, may reach
// either); when ::1 cannot be had the configuration names 127.0.0.1. It
// returns the listeners, the HOST:PORT for proxy_pass and a note when the
// tutorial's port could not be used.
func bindBackend(flagName, want, def, what string) (lns []net.Listener, confAddr, note string, err error) {
	explicit := want != ""
	if !explicit {
		want = def
	}
	host, port, err := net.SplitHostPort(want)
	if err != nil {
		return nil, "", "", fmt.Errorf("%s %q: want HOST:PORT", flagName, want)
	}
	first := host
	if host == "localhost" {
		first = "127.0.0.1"
	}
	ln, bindErr := net.Listen("tcp", net.JoinHostPort(first, port))
	if bindErr != nil {
		n, _ := strconv.Atoi(port)
		if explicit {
			return nil, "", "", fmt.Errorf("%s %s: %s", flagName, want, why(bindErr, n))
		}
		if ln, err = net.Listen("tcp", net.JoinHostPort(first, "0")); err != nil {
			return nil, "", "", fmt.Errorf("listening for the %s: %w", what, err)
		}
		port = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		note = fmt.Sprintf("the %s listens on %s instead of the tutorial's %s: %s (choose with %s HOST:PORT)",
			what, ln.Addr(), def, why(bindErr, n), flagName)
	}
	port = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port) // port 0: the one the kernel chose
	lns = append(lns, ln)
	confAddr = net.JoinHostPort(host, port)
	if host == "localhost" {
		if ln6, err := net.Listen("tcp", net.JoinHostPort("::1", port)); err == nil {
			lns = append(lns, ln6)
		} else {
			confAddr = net.JoinHostPort(first, port)
		}
	}
	return lns, confAddr, note, nil
}

// why says in plain words why port could not be bound.
func why(err error, port int) string {
	switch {
	case errors.Is(err, syscall.EACCES):
		return fmt.Sprintf("port %d needs root (or CAP_NET_BIND_SERVICE)", port)
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Sprintf("port %d is already in use by another program", port)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "that address is not on this machine"
	}
	return err.Error()
}

func freePort(host string) (int, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func closeAll(lns []net.Listener) {
	for _, ln := range lns {
		ln.Close()
	}
}

func addrs(lns []net.Listener) []string {
	out := make([]string, len(lns))
	for i, ln := range lns {
		out[i] = ln.Addr().String()
	}
	return out
}
