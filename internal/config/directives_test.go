package config

import "testing"

// TestDirectiveFamilies checks the table's assembly: no directive is in
// two module families, and none of a family's is shadowed by the lists of
// ignored or unsupported names.
func TestDirectiveFamilies(t *testing.T) {
	table := directiveTable()
	owner := map[string]int{}
	for i, family := range directiveFamilies() {
		for name, d := range family() {
			if j, ok := owner[name]; ok {
				t.Errorf("%q is in families %d and %d; want one", name, j, i)
			}
			owner[name] = i
			if d.set == nil && !d.block {
				t.Errorf("%q has no setter", name)
			}
			got := table[name]
			if got == nil || got.ignored || got.instead != "" {
				t.Errorf("%q in the table got %+v; want family %d's entry", name, got, i)
			}
		}
	}
	if len(owner) == 0 {
		t.Fatal("got no family entries")
	}
}
