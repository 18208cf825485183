// Command wsgate is a WebSocket-first reverse proxy that reads nginx
// configuration. Its command line and signals are nginx's; "wsgate demo"
// and "wsgate probe" are its own.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"wsgate/internal/config"
	"wsgate/internal/server"
)

// version is wsgate's release, reported by -v and in the Server header.
const version = "0.1.0"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "demo":
			return runDemo(args[1:], stdout, stderr)
		case "probe":
			return runProbe(args[1:], stdout, stderr)
		}
	}
	o, err := parseOptions(args)
	if err != nil {
		fmt.Fprintf(stderr, "wsgate: %v\n", err)
		return 1
	}
	if o.help {
		fmt.Fprintf(stderr, "wsgate version: wsgate/%s\n%s", version, usage)
		return 0
	}
	if o.version {
		fmt.Fprintf(stderr, "wsgate version: wsgate/%s\n", version)
		if o.build {
			fmt.Fprintf(stderr, "built with %s %s/%s\nTLS SNI support enabled\nconfigure arguments: %s\n",
				runtime.Version(), runtime.GOOS, runtime.GOARCH, config.ConfigureArgs())
		}
		if !o.test && o.signal == "" {
			return 0
		}
	}
	confPath, prefix, err := resolvePaths(o, nginxConfPath)
	if err != nil {
		fmt.Fprintf(stderr, "wsgate: [emerg] %v\n", err)
		return 1
	}
	if o.test {
		return testConfig(o, confPath, prefix, stdout, stderr)
	}
	if o.signal != "" {
		return sendSignal(o, confPath, prefix, stderr)
	}
	return serve(o, confPath, prefix, stderr)
}

// nginxConfPath is the configuration file nginx reads without -c: its
// compiled-in --conf-path, /etc/nginx/nginx.conf in Debian's packages
// (and Ubuntu's, Fedora's, the nginx.org ones).
const nginxConfPath = "/etc/nginx/nginx.conf"

// resolvePaths applies nginx's rules: -c is relative to the prefix; the
// prefix defaults to the directory of the configuration file (nginx's
// compiled-in prefix has no meaning for wsgate). Without -c the file is
// the one nginx reads, sysConf, when it exists and no -p is given, so that
// "wsgate -t" on a server checks what "nginx -t" checks; otherwise
// nginx.conf in the prefix (the current directory without -p).
func resolvePaths(o *options, sysConf string) (conf, prefix string, err error) {
	conf = o.conf
	prefix = o.prefix
	if conf == "" {
		conf = "nginx.conf"
		if prefix == "" {
			prefix = "./"
			if st, err := os.Stat(sysConf); sysConf != "" && err == nil && st.Mode().IsRegular() {
				conf, prefix = sysConf, ""
			}
		}
	}
	if !filepath.IsAbs(conf) && prefix != "" {
		conf = filepath.Join(prefix, conf)
	}
	if conf, err = filepath.Abs(conf); err != nil {
		return "", "", fmt.Errorf("resolving %q: %w", o.conf, err)
	}
	if prefix == "" {
		prefix = filepath.Dir(conf)
	}
	if prefix, err = filepath.Abs(prefix); err != nil {
		return "", "", fmt.Errorf("resolving prefix %q: %w", o.prefix, err)
	}
	return conf, prefix, nil
}

// printErrors writes each configuration error on a line of its own, as
// nginx's "[emerg]" lines.
func printErrors(stderr io.Writer, err error) {
	var el config.ErrorList
	if !errors.As(err, &el) {
		fmt.Fprintf(stderr, "wsgate: [emerg] %v\n", err)
		return
	}
	for _, e := range el {
		fmt.Fprintf(stderr, "wsgate: [emerg] %s\n", e.Error())
	}
}

// loadConfig reads and checks the configuration, returning every error.
func loadConfig(o *options, confPath, prefix string) (*config.Spec, config.ErrorList) {
	// nginx resolves includes against the directory of the main file
	// (conf_prefix), not against -p.
	return config.Load(confPath, config.ParseOptions{Prefix: filepath.Dir(confPath), Globals: o.globals})
}

// testConfig is -t / -T: nginx's output lines, plus every error at once and
// wsgate's pitfall warnings, each with its fix. It runs the very check that
// start and reload run (server.Check), so that a configuration -t accepts
// starts, and one it rejects does not. One run shows the whole picture:
// the notices and warnings of whatever could be read come first, even when
// there are errors, and the errors last, nearest the verdict.
func testConfig(o *options, confPath, prefix string, stdout, stderr io.Writer) int {
	spec, err := server.Check(server.Options{ConfPath: confPath, Prefix: prefix, Globals: o.globals, Version: version})
	if err == nil {
		// The error log is opened by the process, before the rest; -t
		// opens it the same way, as nginx -t does.
		var closeLog func()
		if _, closeLog, err = errorLog(o, spec, prefix, io.Discard); err == nil {
			closeLog()
		}
	}
	if !o.quiet && spec != nil {
		printNotices(stderr, spec)
	}
	if err != nil {
		printErrors(stderr, err)
		fmt.Fprintf(stderr, "wsgate: configuration file %s test failed\n", confPath)
		return 1
	}
	if !o.quiet {
		fmt.Fprintf(stderr, "wsgate: the configuration file %s syntax is ok\n", confPath)
		fmt.Fprintf(stderr, "wsgate: configuration file %s test is successful\n", confPath)
	}
	if o.dump {
		for _, f := range spec.Files {
			fmt.Fprintf(stdout, "# configuration file %s:\n", f.Path)
			stdout.Write(f.Data)
			fmt.Fprintln(stdout)
		}
	}
	return 0
}

// printNotices writes the notices of spec and its pitfall warnings, each
// warning with its fix. spec may be partial (a configuration with errors):
// what could be read is still worth seeing in the same run.
func printNotices(stderr io.Writer, spec *config.Spec) {
	for _, n := range spec.Notices {
		fmt.Fprintf(stderr, "wsgate: [notice] %s: %s\n", n.Pos, n.Msg)
	}
	for _, w := range config.Lint(spec) {
		fmt.Fprintf(stderr, "wsgate: [warn] %s: %s\n", w.Pos, w.Msg)
		if w.Fix != "" {
			fmt.Fprintf(stderr, "\tfix: %s\n", w.Fix)
		}
	}
}
