package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestResolvePaths checks which configuration file and prefix each
// combination of -c and -p names, with and without nginx's own file: a
// bare "wsgate -t" on a server checks what "nginx -t" checks.
func TestResolvePaths(t *testing.T) {
	dir := t.TempDir()
	sys := filepath.Join(dir, "etc", "nginx", "nginx.conf")
	if err := os.MkdirAll(filepath.Dir(sys), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sys, []byte("events {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing", "nginx.conf")
	tests := []struct {
		name       string
		o          options
		sysConf    string
		conf, pref string
	}{
		{name: "no -c, nginx's file exists: nginx's file", sysConf: sys,
			conf: sys, pref: filepath.Dir(sys)},
		{name: "no -c, no nginx file: ./nginx.conf", sysConf: missing,
			conf: filepath.Join(cwd, "nginx.conf"), pref: cwd},
		{name: "nginx's path is a directory: ./nginx.conf", sysConf: filepath.Dir(sys),
			conf: filepath.Join(cwd, "nginx.conf"), pref: cwd},
		{name: "-p without -c: nginx.conf in the prefix", o: options{prefix: dir + "/"}, sysConf: sys,
			conf: filepath.Join(dir, "nginx.conf"), pref: dir},
		{name: "-c absolute", o: options{conf: "/srv/site.conf"}, sysConf: sys,
			conf: "/srv/site.conf", pref: "/srv"},
		{name: "-c relative to the current directory", o: options{conf: "site.conf"}, sysConf: sys,
			conf: filepath.Join(cwd, "site.conf"), pref: cwd},
		{name: "-c relative to -p", o: options{conf: "site.conf", prefix: dir + "/"}, sysConf: sys,
			conf: filepath.Join(dir, "site.conf"), pref: dir},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			conf, pref, err := resolvePaths(&o, tc.sysConf)
			if err != nil {
				t.Fatalf("resolvePaths: %v", err)
			}
			if conf != tc.conf || pref != tc.pref {
				t.Errorf("got conf %q, prefix %q; want %q, %q", conf, pref, tc.conf, tc.pref)
			}
		})
	}
}
