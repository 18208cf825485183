package access

import (
	"bufio"
	"strings"
	"testing"
)

// TestParseBasic pins ngx_http_auth_basic_user: the scheme in any case,
// spaces, base64 up to a first "=", a user that is not empty.
func TestParseBasic(t *testing.T) {
	tests := []struct {
		name, value, user, password string
		ok                          bool
	}{
		{"plain", "Basic YWxpY2U6d29uZGVybGFuZA==", "alice", "wonderland", true},
		{"case and spaces", "bASIC    YWxpY2U6d29uZGVybGFuZA==", "alice", "wonderland", true},
		{"no padding", "Basic YWxpY2U6d29uZGVybGFuZA", "alice", "wonderland", true},
		{"after =", "Basic YWxpY2U6d29uZGVybGFuZA==junk", "alice", "wonderland", true},
		{"colon in password", "Basic YTpiOmM=", "a", "b:c", true},
		{"empty password", "Basic YTo=", "a", "", true},
		{"nul ends password", "Basic YTpiAGM=", "a", "b", true},
		{"empty user", "Basic OnB3", "", "", false},
		{"no colon", "Basic YWxpY2U=", "", "", false},
		{"bad base64", "Basic !!!!", "", "", false},
		{"other scheme", "Bearer YWxpY2U6d29uZGVybGFuZA==", "", "", false},
		{"no space", "BasicYWxpY2U6d29uZGVybGFuZA==", "", "", false},
		{"nothing", "Basic ", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user, pw, _, ok := ParseBasic([]byte(tt.value), nil)
			if ok != tt.ok || string(user) != tt.user || string(pw) != tt.password {
				t.Errorf("got %q, %q, %v; want %q, %q, %v", user, pw, ok, tt.user, tt.password, tt.ok)
			}
		})
	}
}

// TestFindUser pins how the user file is read: the first line for the
// user, "#" and CR lines skipped, the entry ending at ":", CR or LF.
func TestFindUser(t *testing.T) {
	const file = "# alice:{PLAIN}commented\n\r\nbob:{PLAIN}b\nalice:{PLAIN}a:comment\nalice:{PLAIN}second\ncarol:{PLAIN}c\r\ndave:{PLAIN}d"
	tests := []struct {
		user, want string
		found      bool
	}{
		{"alice", "{PLAIN}a", true},
		{"bob", "{PLAIN}b", true},
		{"carol", "{PLAIN}c", true},
		{"dave", "{PLAIN}d", true},
		{"al", "", false},
		{"# alice", "", false},
		{"eve", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			got, found, err := findUser(bufio.NewReader(strings.NewReader(file)), []byte(tt.user))
			if err != nil || found != tt.found || string(got) != tt.want {
				t.Errorf("got %q, %v, %v; want %q, %v", got, found, err, tt.want, tt.found)
			}
		})
	}
}
