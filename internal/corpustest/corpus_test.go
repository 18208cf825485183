package corpustest

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"wsgate/internal/config"
	"wsgate/internal/proxytest"
	"wsgate/internal/server"
)

var update = flag.Bool("update", false, "rewrite testdata/realconfigs/rejected.txt from this run")

const dataDir = "../../testdata/realconfigs"

// portsPerFile is how many loopback ports a corpus file may listen on.
const portsPerFile = 6

// verdict is what the configuration tests said about one corpus file.
type verdict struct {
	nginxOK, wsgateOK bool
	nginxOut          string
	wsgateErr         string
}

// readList reads a list file: one "NAME<TAB>TEXT" entry per line, "#"
// comments and blank lines skipped. A missing file is an empty list.
func readList(t *testing.T, name string) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dataDir, name))
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, _ := strings.Cut(line, "\t")
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// subjectRE matches what an error is about: its text up to and with the
// first quoted word ("add_header", named location "@x").
var subjectRE = regexp.MustCompile(`^[^"]*"[^"]*"`)

// checkErr renders wsgate's configuration errors for rejected.txt: what
// each is about, once, in the order of the errors.
func checkErr(err error) string {
	var list config.ErrorList
	var msgs []string
	if errors.As(err, &list) {
		for _, e := range list {
			msgs = append(msgs, e.Msg)
		}
	} else {
		msgs = strings.Split(strings.TrimSpace(err.Error()), "\n")
	}
	seen := map[string]bool{}
	var out []string
	for _, m := range msgs {
		if s := subjectRE.FindString(m); strings.HasPrefix(s, `"`) {
			m = strings.Trim(s, `"`)
		} else if s != "" {
			m = s
		}
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	return strings.Join(out, ", ")
}

// TestCorpus checks every corpus file with nginx -t and wsgate's
// configuration test, and sends the same requests through both for every
// file both accept (see the package doc).
func TestCorpus(t *testing.T) {
	nginx := proxytest.NeedNginx(t)
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed (the corpus's stubber is a Python script)")
	}
	files, err := filepath.Glob(filepath.Join(dataDir, "corpus", "*.conf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files (%v)", err)
	}
	rejected := readList(t, "rejected.txt")
	uncompared := readList(t, "uncompared.txt")
	differences := readList(t, "differences.txt")
	script, _ := filepath.Abs(filepath.Join(dataDir, "stub.py"))
	stubs, _ := filepath.Abs(filepath.Join(dataDir, "stubs"))
	assets := t.TempDir()
	Assets(t, assets)

	var mu sync.Mutex
	verdicts := map[string]verdict{}
	compared := 0
	t.Run("files", func(t *testing.T) {
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".conf")
			src, _ := filepath.Abs(f)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				v, n := runFile(t, nginx, script, src, assets, stubs, rejected, uncompared, differences)
				mu.Lock()
				verdicts[name] = v
				compared += n
				mu.Unlock()
			})
		}
	})

	var accepted, both int
	var now []string
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".conf")
		v, ok := verdicts[name]
		if !ok || !v.nginxOK {
			continue
		}
		accepted++
		if v.wsgateOK {
			both++
		} else {
			now = append(now, name+"\t"+v.wsgateErr)
		}
	}
	sort.Strings(now)
	t.Logf("wsgate -t accepts %d of %d files nginx accepts (%d corpus files; requests compared through both: %d)",
		both, accepted, len(files), compared)
	fmt.Printf("wsgate -t accepts %d of %d files nginx accepts\n", both, accepted)
	switch {
	case *update && len(verdicts) == len(files):
		writeRejected(t, now)
	case *update:
		t.Errorf("-update: rejected.txt not written: %d of %d files have no verdict", len(files)-len(verdicts), len(files))
	}
}

// runFile stubs one corpus file, checks it with both proxies and, when
// both accept it, compares their answers. It returns the verdicts and how
// many requests it compared.
func runFile(t *testing.T, nginx, script, src, assets, stubs string, rejected, uncompared, differences map[string]string) (verdict, int) {
	name := strings.TrimSuffix(filepath.Base(src), ".conf")
	backend := NewBackend(t)
	ports := make([]int, portsPerFile)
	for i := range ports {
		ports[i] = proxytest.FreePort(t)
	}
	st := Stub(t, script, src, t.TempDir(), assets, stubs, ports, backend.Addr)

	var v verdict
	v.nginxOK, v.nginxOut = proxytest.NginxTest(t, nginx, st.NginxConf)
	_, cerr := server.Check(server.Options{ConfPath: st.WsgateConf, Prefix: st.Prefix + "/",
		Log: slog.New(slog.DiscardHandler)})
	v.wsgateOK = cerr == nil
	if cerr != nil {
		v.wsgateErr = checkErr(cerr)
	}
	if !v.nginxOK {
		t.Logf("nginx rejects the file (not counted):\n%s", v.nginxOut)
		return v, 0
	}
	_, listed := rejected[name]
	switch {
	case *update:
		// rejected.txt is being rewritten from this run's verdicts
	case !v.wsgateOK && !listed:
		t.Errorf("nginx accepts the file and wsgate rejects it, and rejected.txt does not list it:\n%s", v.wsgateErr)
	case v.wsgateOK && listed:
		t.Errorf("wsgate accepts the file now: remove it from rejected.txt (go test ./internal/corpustest -run TestCorpus -update)")
	}
	if !v.wsgateOK {
		return v, 0
	}
	if reason, ok := uncompared[name]; ok {
		t.Logf("requests not compared: %s", reason)
		return v, 0
	}
	reqs := Requests(st.Plan)
	addrs := st.Addrs()
	if len(reqs) == 0 || len(addrs) == 0 {
		t.Errorf("no request to send (plan %+v): list the file in uncompared.txt with the reason", st.Plan)
		return v, 0
	}
	ngx := proxytest.StartNginxFile(t, st.NginxConf, addrs...)
	ref := make([]Result, len(reqs))
	for i, r := range reqs {
		ref[i] = Do(r, backend)
	}
	ngx.Stop() // wsgate takes the same ports: $server_port and redirects compare equal
	gate, err := server.Start(server.Options{ConfPath: st.WsgateConf, Prefix: st.Prefix + "/", Version: "test",
		Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("wsgate accepts the file and cannot serve it: %v", err)
	}
	defer gate.Stop()
	for i, r := range reqs {
		got := Do(r, backend)
		t.Logf("%s: nginx %s; wsgate %s", r.Name, ref[i].Status, got.Status)
		for _, p := range Parts {
			want, have := ref[i].Part(p), got.Part(p)
			key := r.Name + " " + p
			reason, documented := differences[name+" "+key]
			switch {
			case want != have && !documented:
				t.Errorf("%s, %s: nginx and wsgate differ\n--- nginx\n%s\n--- wsgate\n%s", r.Name, p, want, have)
			case want == have && documented:
				t.Errorf("%s, %s: the difference differences.txt lists is gone (%s): remove the line", r.Name, p, reason)
			}
		}
	}
	return v, len(reqs)
}

// writeRejected rewrites rejected.txt with the files wsgate rejects now.
func writeRejected(t *testing.T, lines []string) {
	t.Helper()
	var b strings.Builder
	b.WriteString(rejectedHeader)
	for _, l := range lines {
		b.WriteString(l)
		b.WriteString("\n")
	}
	if err := os.WriteFile(filepath.Join(dataDir, "rejected.txt"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote rejected.txt: %d files", len(lines))
}

const rejectedHeader = `# Corpus files nginx accepts and wsgate rejects, with wsgate's errors.
# TestCorpus fails when a file listed here is accepted and when one not
# listed is rejected. Regenerate, never edit by hand:
#   go test ./internal/corpustest -run TestCorpus -update
`

// TestRejectedDocumented: every corpus file wsgate rejects
// (rejected.txt) is named in the README's table of the configurations
// wsgate refuses, with its reason, so that no rejection goes unexplained.
// It reads files only (no nginx).
func TestRejectedDocumented(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for name := range readList(t, "rejected.txt") {
		if !strings.Contains(string(readme), "| `"+name+"` |") {
			t.Errorf("rejected.txt lists %s; want a row \"| `%s` | ...\" in the README's table of refused corpus files", name, name)
		}
	}
}
