package ingress

import (
	"os"
	"strings"
	"testing"
)

// supportLabel is the first column of the README's annotation table.
var supportLabel = [...]string{Supported: "supported", Noticed: "ignored, with a notice", Rejected: "rejected"}

// annotationRows renders the migration table's rows from the annotation
// table: one row per support and note, the names sorted.
func annotationRows() string {
	type row struct {
		support Support
		note    string
		names   []string
	}
	var rows []*row
	byKey := map[string]*row{}
	for _, a := range Annotations() {
		k := supportLabel[a.Support] + "\x00" + a.Note
		r := byKey[k]
		if r == nil {
			r = &row{support: a.Support, note: a.Note}
			byKey[k] = r
			rows = append(rows, r)
		}
		r.names = append(r.names, "`"+a.Name+"`")
	}
	var b strings.Builder
	for _, r := range rows {
		b.WriteString("| " + supportLabel[r.support] + " | " + strings.Join(r.names, ", ") + " | " + r.note + " |\n")
	}
	return b.String()
}

// TestREADMEAnnotations checks that the README's "Migrating from
// ingress-nginx" table says what the translation does with every
// annotation it knows; on a difference it prints the rows to paste.
func TestREADMEAnnotations(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := annotationRows()
	if !strings.Contains(string(readme), "|---|---|---|\n"+rows+"\n") {
		t.Errorf("README's annotation table differs from the translation's; its rows should be:\n%s", rows)
	}
}
