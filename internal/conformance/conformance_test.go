package conformance

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"wsgate/internal/proxytest/gatetest"
)

// gateConf proxies every path to the echo server. /pinged/ has wsgate
// ping the client often, so that its Pings and the client's Pongs, which
// wsgate consumes, fall between the case's frames (with time to answer
// even on a loaded machine); /pinged-both/ pings the echo server too.
// /limited/ has wsgate's size limits on what the client sends, and
// /limited-pinged/ the limits and the Pings; /limited-upstream/ has them on
// what the echo server sends.
const gateConf = `
access_log off;
upstream echo { server %[1]s; }
server {
	listen {{listen}};
	server_name conformance.test;
	location / {
		proxy_pass http://echo;
		proxy_http_version 1.1;
		proxy_set_header Upgrade $http_upgrade;
		proxy_set_header Connection "upgrade";
	}
	location /pinged/ {
		proxy_pass http://echo;
		ws_ping_interval 10ms client;
		ws_pong_timeout 10s;
	}
	location /pinged-both/ {
		proxy_pass http://echo;
		ws_ping_interval 10ms both;
		ws_pong_timeout 10s;
	}
	location /limited/ {
		proxy_pass http://echo;
		ws_max_frame_size %[2]d;
		ws_max_message_size %[3]d;
	}
	location /limited-upstream/ {
		proxy_pass http://echo;
		ws_max_frame_size %[2]d upstream;
		ws_max_message_size %[3]d upstream;
	}
	location /limited-pinged/ {
		proxy_pass http://echo;
		ws_max_frame_size %[2]d;
		ws_max_message_size %[3]d;
		ws_ping_interval 10ms both;
		ws_pong_timeout 10s;
	}
}`

// runs are the ways each case is run through wsgate, after the run
// straight to the echo server.
var runs = []struct {
	name string
	// path, limited and upstream are the locations of the ordinary, the
	// Limited and the UpstreamLimited cases; "" leaves the case out of
	// the run.
	path, limited, upstream string
	// frames: the echo server must read the frames it read straight,
	// byte for byte (not where wsgate pings it: it reads the Pings too).
	frames bool
}{
	{name: "wsgate", path: "/ws/", limited: "/limited/", upstream: "/limited-upstream/", frames: true},
	{name: "wsgate pinging the client", path: "/pinged/", frames: true},
	{name: "wsgate pinging both sides", path: "/pinged-both/", limited: "/limited-pinged/"},
}

// TestConformance runs every case straight to the strict echo server,
// where the client must observe what the case expects, then through
// wsgate in each of the runs, where it must observe the same (or, on a
// limited location, wsgate's own answer) and the server must read the
// same frames. The client answers Pings and does not record them.
func TestConformance(t *testing.T) {
	srv, err := NewEchoServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	g := gatetest.Start(t, gatetest.HTTP(fmt.Sprintf(gateConf, srv.Addr, LimitFrame, LimitMessage)), gatetest.Options{})
	cases := Cases()
	for i := range cases {
		c := &cases[i]
		t.Run(c.ID, func(t *testing.T) {
			if c.Big && raceEnabled {
				t.Skip("4 MiB or more: left out under the race detector")
			}
			t.Parallel()
			s := c.Script()
			timeout := 30 * time.Second
			if c.Big {
				timeout = 2 * time.Minute // a bound, not a speed
			}
			run := func(addr, path, name string) ([]string, Received) {
				t.Helper()
				key := c.ID + " " + name
				got, err := Run(Target{Addr: addr, Path: path, Timeout: timeout}, c, s.Frames, key)
				if err != nil {
					t.Fatalf("%s (%s): %v", c.Desc, name, err)
				}
				rec, ok := srv.Received(key, timeout)
				if !ok {
					t.Fatalf("%s (%s): the echo server's connection did not end", c.Desc, name)
				}
				return got, rec
			}
			direct, atServer := run(srv.Addr, "/ws/", "direct")
			if !slices.Equal(direct, s.Want) {
				t.Fatalf("%s, straight to the echo server:\n%s", c.Desc, diff(direct, s.Want))
			}
			for _, r := range runs {
				path, want := r.path, direct
				if c.Limited || c.UpstreamLimited {
					path = r.limited
					if c.UpstreamLimited {
						path = r.upstream
					}
					if s.Gate != nil {
						want = s.Gate
					}
				}
				if path == "" {
					continue
				}
				got, rec := run(g.Addr, path, r.name)
				if !slices.Equal(got, want) {
					t.Fatalf("%s, through %s:\n%s", c.Desc, r.name, diff(got, want))
				}
				if r.frames && s.Gate == nil && rec != atServer {
					t.Errorf("%s: the echo server read %d frames (digest %.12s) through %s; %d (%.12s) straight",
						c.Desc, rec.Frames, rec.Digest, r.name, atServer.Frames, atServer.Digest)
				}
			}
		})
	}
}

// diff shows where got and want part: the events from the first that
// differs, a few of them.
func diff(got, want []string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	show := func(ev []string) string {
		rest := ev[min(i, len(ev)):]
		if len(rest) > 6 {
			return fmt.Sprintf("%q … (%d more)", rest[:6], len(rest)-6)
		}
		return fmt.Sprintf("%q", rest)
	}
	return fmt.Sprintf(" after %d equal events (%d and %d in all)\n got  %s\n want %s", i, len(got), len(want), show(got), show(want))
}

// TestCaseIDs checks that case numbers are unique and that the README
// states how many cases there are.
func TestCaseIDs(t *testing.T) {
	cases := Cases()
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.ID] {
			t.Errorf("case %s is listed twice", c.ID)
		}
		seen[c.ID] = true
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`RFC 6455 conformance suite[^\n]*?(\d+) cases`).FindSubmatch(readme)
	if m == nil {
		t.Fatalf("the README does not say how many conformance cases there are (\"RFC 6455 conformance suite ... N cases\")")
	}
	if n, _ := strconv.Atoi(string(m[1])); n != len(cases) {
		t.Errorf("the README says %d conformance cases; there are %d", n, len(cases))
	}
}
