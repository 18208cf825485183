// Command wsgate-ingress is wsgate as a Kubernetes ingress controller: it
// reads Ingress objects written for ingress-nginx (with their
// annotations, the controller's ConfigMap, TLS Secrets, Services and
// EndpointSlices), translates them into wsgate's configuration
// (internal/ingress) and serves it with wsgate's server, in the same
// process. Endpoint changes move new connections and leave open tunnels
// alone; an Ingress change is a reload that keeps the tunnels of every
// route it does not change.
//
// With --manifests DIR it reads the objects from YAML files instead of a
// cluster (for local runs and GitOps checks); --dump prints the
// configuration in nginx syntax and exits, so that `wsgate -t` can check
// it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/ingress"
	"wsgate/internal/server"
)

// version is wsgate's release (cmd/wsgate's), reported in Server headers.
const version = "0.1.0"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command line.
type options struct {
	manifests     string
	dump          bool
	kubeconfig    string
	configMap     string
	publish       string
	electionID    string
	healthListen  string
	waitShutdown  bool
	shutdownDelay time.Duration
	translate     ingress.Options
	// sslDirSet says --ssl-dir was given: --dump then writes the
	// certificates there, so that wsgate -t can load them.
	sslDirSet bool
}

func parseOptions(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("wsgate-ingress", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.manifests, "manifests", "", "read objects from the YAML files in this directory instead of a cluster")
	fs.BoolVar(&o.dump, "dump", false, "print the configuration in nginx syntax (endpoint addresses written out) and exit")
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file; empty means the in-cluster configuration")
	fs.StringVar(&o.configMap, "configmap", "", "the controller's ConfigMap, namespace/name (ingress-nginx's --configmap); with --manifests, empty takes one named ingress-nginx-controller")
	fs.StringVar(&o.publish, "publish-service", "", "namespace/name of the controller's Service, whose address is written into Ingress status")
	fs.StringVar(&o.electionID, "election-id", "wsgate-ingress-leader", "name of the Lease that elects the replica writing Ingress status")
	fs.StringVar(&o.healthListen, "health-listen", ":10254", "address of /healthz; empty for none")
	fs.BoolVar(&o.waitShutdown, "wait-shutdown", false, "preStop hook: wait --shutdown-delay, ask PID 1 for a graceful stop (Close 1001 on every tunnel) and wait until it exits")
	fs.DurationVar(&o.shutdownDelay, "shutdown-delay", 5*time.Second, "with --wait-shutdown: how long to keep accepting while the Service stops sending new connections")
	t := &o.translate
	fs.StringVar(&t.Class, "ingress-class", ingress.DefaultClass, "IngressClass name served (also matched against the kubernetes.io/ingress.class annotation)")
	fs.StringVar(&t.Controller, "controller-class", ingress.DefaultController, "IngressClass spec.controller served")
	fs.BoolVar(&t.WithoutClass, "watch-ingress-without-class", false, "also serve Ingresses that name no class (always with --manifests: a directory has no admission to fill in the default class)")
	fs.StringVar(&t.Namespace, "watch-namespace", "", "serve the Ingresses of this namespace only; empty is all")
	fs.StringVar(&t.HTTPListen, "http-listen", "80", "listen address of plain HTTP")
	fs.StringVar(&t.HTTPSListen, "https-listen", "443", "listen address of HTTPS")
	fs.StringVar(&t.SSLDir, "ssl-dir", ingress.DefaultSSLDir, "where certificates from Secrets are written (mode 0600); with --dump, given explicitly, they are written there too, for wsgate -t")
	fs.StringVar(&t.DefaultCertificate, "default-ssl-certificate", "", "namespace/name of the Secret served to hosts without a certificate; empty is a self-signed one")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) { o.sslDirSet = o.sslDirSet || f.Name == "ssl-dir" })
	if o.manifests != "" {
		t.WithoutClass = true
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseOptions(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "wsgate-ingress: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	if !o.dump {
		// What the pod's DNS is: auth-url is looked up through it at
		// request time (--dump prints the plain proxy_pass instead).
		o.translate.NameServers = nameServers("/etc/resolv.conf")
	}
	if o.waitShutdown {
		return waitShutdown(o.shutdownDelay, log)
	}
	if o.manifests == "" {
		return runCluster(o, log)
	}
	states := func() (*ingress.State, []error) { return ingress.LoadDir(o.manifests, o.configMap) }
	if o.dump {
		return dump(o, states, stdout, stderr)
	}
	ctl := &ingress.Controller{States: states, Options: o.translate, Log: log}
	return serve(o, ctl, nil, log)
}

// nameServers returns the name servers of a resolv.conf, in the form of
// nginx's resolver directive (an IPv6 address in brackets).
func nameServers(path string) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "nameserver" {
			continue
		}
		a, err := netip.ParseAddr(f[1])
		if err != nil {
			continue
		}
		if a.Is6() && !a.Is4In6() {
			out = append(out, "["+a.WithZone("").String()+"]")
		} else {
			out = append(out, a.Unmap().String())
		}
	}
	return out
}

// dump prints the configuration --manifests makes, with endpoint
// addresses written out, and the objects left out on stderr. With
// --ssl-dir given it writes the certificates the configuration names
// (the Secrets' and the default one), so that the output passes wsgate -t,
// which loads them as nginx -t does.
func dump(o *options, states func() (*ingress.State, []error), stdout, stderr io.Writer) int {
	st, errs := states()
	for _, err := range errs {
		fmt.Fprintf(stderr, "wsgate-ingress: refused: %v\n", err)
	}
	if st == nil {
		return 1
	}
	opts := o.translate
	opts.Resolved = true
	res, err := ingress.Translate(st, opts)
	for _, r := range res.Rejected {
		fmt.Fprintf(stderr, "wsgate-ingress: left out %s: %s\n", r.Object, strings.Join(r.Reasons, "; "))
	}
	for _, n := range res.Notices {
		fmt.Fprintf(stderr, "wsgate-ingress: notice: %s\n", n)
	}
	for _, s := range res.Skipped {
		fmt.Fprintf(stderr, "wsgate-ingress: not served: %s\n", s)
	}
	if err != nil {
		fmt.Fprintf(stderr, "wsgate-ingress: %v\n", err)
		return 1
	}
	if o.sslDirSet {
		if err := ingress.WriteCerts(res.Certs); err != nil {
			fmt.Fprintf(stderr, "wsgate-ingress: %v\n", err)
			return 1
		}
		if err := ingress.EnsureDefaultCert(opts.SSLDir); err != nil {
			fmt.Fprintf(stderr, "wsgate-ingress: writing the default certificate: %v\n", err)
			return 1
		}
	}
	fmt.Fprintf(stdout, "# wsgate configuration made by wsgate-ingress from %s\n", o.manifests)
	if err := config.Print(stdout, res.AST.Main); err != nil {
		fmt.Fprintf(stderr, "wsgate-ingress: %v\n", err)
		return 1
	}
	return 0
}

// serve runs the server on ctl's configurations until a stop signal.
// started, when set, is called once the server listens (the cluster mode
// starts its informers' rebuild loop there).
func serve(o *options, ctl *ingress.Controller, started func(*server.Server) func(), log *slog.Logger) int {
	// Registered before the listeners open: a HUP as soon as they do
	// waits here rather than ending the process.
	ch := server.Notify()
	defer signal.Stop(ch)
	if err := ingress.EnsureDefaultCert(o.translate.SSLDir); err != nil {
		log.Error("writing the default certificate", "err", err)
		return 1
	}
	var srv *server.Server
	err := ctl.Do(func() (err error) {
		srv, err = server.Start(server.Options{Source: ctl.Source, Resolver: ctl.Resolve, ConfPath: "kubernetes objects", Version: version, Log: log})
		return err
	})
	if err != nil {
		log.Error("starting", "err", err)
		return 1
	}
	var addrs []string
	for _, a := range srv.Addrs() {
		addrs = append(addrs, a.String())
	}
	log.Info("wsgate-ingress started", "version", version, "listen", strings.Join(addrs, " "))
	stop := func() {}
	if started != nil {
		stop = started(srv)
	}
	defer stop()
	if o.healthListen != "" {
		go health(o.healthListen, srv, log)
	}
	for sig := range ch {
		switch sig {
		case syscall.SIGHUP:
			log.Info("rebuilding the configuration", "signal", "HUP")
			srv.Reload()
		case syscall.SIGUSR1:
			srv.Reopen()
		case syscall.SIGQUIT, syscall.SIGTERM:
			// Kubernetes stops a pod with TERM: as ingress-nginx, a
			// graceful stop bounded by worker-shutdown-timeout.
			timeout := 240 * time.Second
			if last := ctl.Last(); last != nil {
				timeout = last.ShutdownTimeout
			}
			log.Info("graceful shutdown", "signal", sig.String(), "tunnels", srv.Tunnels().Len(), "timeout", timeout)
			stop()
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			if err := srv.Shutdown(ctx); err != nil {
				log.Warn("graceful shutdown ended early", "err", err)
			}
			cancel()
			return 0
		case syscall.SIGINT:
			log.Info("fast shutdown", "signal", "INT")
			stop()
			srv.Stop()
			return 0
		}
	}
	return 0
}

// health serves /healthz: 200 while the server serves a configuration.
func health(addr string, srv *server.Server, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if srv.Current() == nil {
			http.Error(w, "no configuration", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Error("health listener", "addr", addr, "err", err)
		return
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	hs.Serve(ln)
}

// waitShutdown is the preStop hook: it lets the Service stop sending new
// connections for delay, then asks PID 1 (wsgate-ingress in its container)
// for a graceful stop, which sends Close 1001 to every tunnel at a frame
// boundary, and waits for it to exit, so that Kubernetes' TERM finds
// nothing left to cut.
func waitShutdown(delay time.Duration, log *slog.Logger) int {
	time.Sleep(delay)
	if err := syscall.Kill(1, syscall.SIGQUIT); err != nil {
		log.Error("asking PID 1 to stop", "err", err)
		return 1
	}
	for {
		if err := syscall.Kill(1, 0); err != nil {
			return 0
		}
		time.Sleep(500 * time.Millisecond)
	}
}
