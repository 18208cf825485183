package ingress

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"wsgate/internal/config"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// fixtureClass is the --ingress-class a corpus file is served with when
// it names a class other than nginx.
var fixtureClass = map[string]string{
	"019-home-assistant-rke2.yaml":     "nginx-internal",
	"020-home-assistant-external.yaml": "external",
}

// TestGolden translates every file of the ingress corpus (real
// ingress-nginx Ingresses of WebSocket applications, testdata/corpus) in
// a cluster that has the Services, endpoints and TLS Secrets they name,
// and compares the configuration (--dump's form) and the report with
// testdata/golden/NAME.conf. Each configuration is printed, parsed back
// and checked again: what --dump prints is what wsgate -t accepts.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/corpus/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(strings.TrimSuffix(name, ".yaml"), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
			st, errs := LoadDir(dir, fixtureConfigMap(t, data))
			if st == nil {
				t.Fatalf("LoadDir: %v", errs)
			}
			if st.ConfigMap == nil {
				st.ConfigMap = snippetsOn()
			}
			synthesize(t, st, podAddrs)
			o := Options{Resolved: true, WithoutClass: true, SSLDir: "/ssl", Class: fixtureClass[name]}
			res, err := Translate(st, o)
			var out bytes.Buffer
			for _, e := range errs {
				out.WriteString("# refused: " + strings.ReplaceAll(e.Error(), "\n", "\n#   ") + "\n")
			}
			report(&out, res)
			if err != nil {
				out.WriteString("# error: " + err.Error() + "\n")
			} else {
				if err := config.Print(&out, res.AST.Main); err != nil {
					t.Fatal(err)
				}
				ast, perrs := config.ParseText("dump", out.Bytes())
				if len(perrs) > 0 {
					t.Fatalf("the dump does not parse: %v", perrs)
				}
				if _, cerrs := config.Check(ast); len(cerrs) > 0 {
					t.Fatalf("the dump does not check: %v", cerrs)
				}
			}
			golden := filepath.Join("testdata", "golden", strings.TrimSuffix(name, ".yaml")+".conf")
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("translation of %s differs from %s (run with -update and review the diff); got:\n%s", name, golden, out.Bytes())
			}
		})
	}
}

// report writes a translation's report as comments.
func report(out *bytes.Buffer, res *Result) {
	for _, r := range res.Rejected {
		out.WriteString("# left out " + r.Object + ":\n")
		for _, why := range r.Reasons {
			out.WriteString("#   " + why + "\n")
		}
	}
	for _, s := range res.Skipped {
		out.WriteString("# not served: " + s + "\n")
	}
	for _, n := range res.Notices {
		out.WriteString("# notice: " + n + "\n")
	}
}

// fixtureConfigMap returns "namespace/name" of the ConfigMap in a corpus
// file, "" when it has none.
func fixtureConfigMap(t *testing.T, data []byte) string {
	for _, doc := range strings.Split(string(data), "\n---") {
		var cm corev1.ConfigMap
		if err := yaml.Unmarshal([]byte(doc), &cm); err == nil && cm.Kind == "ConfigMap" {
			ns := cm.Namespace
			if ns == "" {
				ns = "default"
			}
			return ns + "/" + cm.Name
		}
	}
	return ""
}
