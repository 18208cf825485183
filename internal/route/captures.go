package route

// Captures are the groups of the last regular expression that matched
// (a regex server_name or a ~ / ~* location), as nginx keeps them in
// r->captures for $1..$9 and named captures (ngx_http_regex_exec).
//
// The zero value means "no groups": every $N is empty. Index is what
// regexp.FindStringSubmatchIndex returns: pairs of byte offsets into
// Subject, group 0 first, -1 for a group that did not take part. Names is
// the regexp's SubexpNames (Names[i] names group i, "" when unnamed); it is
// shared and must not be modified.
type Captures struct {
	Subject string
	Index   []int
	Names   []string
}

// Group returns group i (1..9 for $1..$9; 0 is the whole match), or ""
// when the group does not exist or did not take part.
func (c Captures) Group(i int) string {
	if i < 0 || 2*i+1 >= len(c.Index) {
		return ""
	}
	lo, hi := c.Index[2*i], c.Index[2*i+1]
	if lo < 0 || hi < lo {
		return ""
	}
	return c.Subject[lo:hi]
}

// Named returns the group called name and whether such a group exists in
// the expression that matched. name is compared exactly (nginx variable
// names are lower-cased; named groups are written lower-case by
// convention).
func (c Captures) Named(name string) (string, bool) {
	for i, n := range c.Names {
		if n == name && i > 0 {
			return c.Group(i), true
		}
	}
	return "", false
}

// Len is the number of groups, not counting group 0.
func (c Captures) Len() int {
	if len(c.Index) < 2 {
		return 0
	}
	return len(c.Index)/2 - 1
}
