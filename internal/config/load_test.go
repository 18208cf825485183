package config

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/config/*.golden from the current output")

// goldenDir is the repository's testdata/config, relative to this package.
const goldenDir = "../../testdata/config"

// render is what a golden file holds for one configuration: the error list
// when Load fails, else the Dump followed by the Lint warnings. The
// absolute directory of the inputs is cut so goldens are portable.
func render(t *testing.T, path string) string {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	s, errs := Load(abs, ParseOptions{})
	var b bytes.Buffer
	if len(errs) > 0 {
		b.WriteString("errors:\n")
		b.WriteString(errs.Error())
		b.WriteByte('\n')
	} else {
		Dump(&b, s)
		for _, w := range Lint(s) {
			fmt.Fprintf(&b, "%s: warning: %s\n\tfix: %s\n", w.Pos, w.Msg, w.Fix)
		}
	}
	dir, err := filepath.Abs(goldenDir)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(b.String(), dir+string(filepath.Separator), "")
}

func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join(goldenDir, "*.conf"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("finding inputs: %v (%d found)", err, len(inputs))
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".conf")
		t.Run(name, func(t *testing.T) {
			got := render(t, in)
			golden := strings.TrimSuffix(in, ".conf") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("reading golden (run go test ./internal/config -run Golden -update): %v", err)
			}
			if got != string(want) {
				t.Errorf("%s: output differs from %s\ngot:\n%s\nwant:\n%s", in, golden, got, want)
			}
			// Error cases must fail and the others must not.
			isErr := strings.HasPrefix(name, "err_")
			if hasErr := strings.HasPrefix(got, "errors:\n"); hasErr != isErr {
				t.Errorf("%s: got errors=%v; want errors=%v", name, hasErr, isErr)
			}
		})
	}
}
