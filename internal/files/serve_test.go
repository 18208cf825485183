package files

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"wsgate/internal/config"
)

var tree = map[string]string{
	"html/a.txt":             "hello world\n",
	"html/index.html":        "<h1>hi</h1>\n",
	"html/dir/index.html":    "x",
	"html/r.bin":             "0123456789abcdefghij",
	"html/s.css":             "css{}",
	"html/Up.HTML":           "up",
	"html/empty.txt":         "",
	"html/noidx/":            "",
	"html/sp ace/a%b.txt":    "sp",
	"html/link.txt -> a.txt": "",
	"data/static/f.js":       "static\n",
	"data/secret.txt":        "SECRET\n",
	"data/staticx.txt":       "X\n",
}

type serveCase struct {
	name   string
	conf   func(c *Config)
	method string
	target string
	hdrs   []string
	head   string // expected head without Server and Date
	body   string // expected body; "-" skips the check
}

func runCases(t *testing.T, cases []serveCase) {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, tree)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig(dir)
			c.Root = dir + "/html"
			c.Types = map[string]string{"html": "text/html", "txt": "text/plain", "css": "text/css",
				"js": "application/javascript", "bin": "application/octet-stream"}
			if tc.conf != nil {
				tc.conf(&c)
			}
			var re *regexp.Regexp
			if c.Regex {
				re = regexp.MustCompile(c.Location)
			}
			addr := serveRegex(t, newHandler(t, c), re)
			method := tc.method
			if method == "" {
				method = "GET"
			}
			r := get(t, addr, method, tc.target, tc.hdrs...)
			if got := headText(r); got != tc.head {
				t.Errorf("head:\n%s\nwant:\n%s", got, tc.head)
			}
			if tc.body != "-" && string(r.Body) != tc.body {
				t.Errorf("body %q; want %q", r.Body, tc.body)
			}
		})
	}
}

const (
	lm = "Last-Modified: Tue, 02 Jan 2024 03:04:05 GMT"
	ka = "Connection: keep-alive"
)

func page(status, text string) string {
	return "<html>\r\n<head><title>" + status + " " + text + "</title></head>\r\n<body>\r\n<center><h1>" +
		status + " " + text + "</h1></center>\r\n<hr><center>wsgate</center>\r\n</body>\r\n</html>\r\n"
}

// TestStatic pins the static module's answers, each observed from nginx
// 1.22 with the same tree and settings.
func TestStatic(t *testing.T) {
	runCases(t, []serveCase{
		{name: "file", target: "/a.txt",
			head: "HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 12\n" + lm + "\n" + ka + "\nETag: \"65937d25-c\"\nAccept-Ranges: bytes",
			body: "hello world\n"},
		{name: "head", method: "HEAD", target: "/a.txt",
			head: "HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 12\n" + lm + "\n" + ka + "\nETag: \"65937d25-c\"\nAccept-Ranges: bytes"},
		{name: "symlink followed", target: "/link.txt",
			head: "HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 12\n" + lm + "\n" + ka + "\nETag: \"65937d25-c\"\nAccept-Ranges: bytes",
			body: "hello world\n"},
		{name: "extension case-insensitive", target: "/Up.HTML",
			head: "HTTP/1.1 200 OK\nContent-Type: text/html\nContent-Length: 2\n" + lm + "\n" + ka + "\nETag: \"65937d25-2\"\nAccept-Ranges: bytes",
			body: "up"},
		{name: "default type", target: "/empty.txt", conf: func(c *Config) { c.Types = nil },
			head: "HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 0\n" + lm + "\n" + ka + "\nETag: \"65937d25-0\"\nAccept-Ranges: bytes"},
		{name: "etag off", target: "/s.css", conf: func(c *Config) { c.ETag = false },
			head: "HTTP/1.1 200 OK\nContent-Type: text/css\nContent-Length: 5\n" + lm + "\n" + ka + "\nAccept-Ranges: bytes",
			body: "css{}"},
		{name: "escaped name", target: "/sp%20ace/a%25b.txt",
			head: "HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 2\n" + lm + "\n" + ka + "\nETag: \"65937d25-2\"\nAccept-Ranges: bytes",
			body: "sp"},
		{name: "missing", target: "/nope",
			head: "HTTP/1.1 404 Not Found\nContent-Type: text/html\nContent-Length: 147\n" + ka,
			body: page("404", "Not Found")},
		{name: "file as directory", target: "/a.txt/x",
			head: "HTTP/1.1 404 Not Found\nContent-Type: text/html\nContent-Length: 147\n" + ka, body: "-"},
		{name: "directory redirect", target: "/dir",
			head: "HTTP/1.1 301 Moved Permanently\nContent-Type: text/html\nContent-Length: 0\nLocation: /dir/\n" + ka},
		{name: "directory redirect keeps args", target: "/dir?x=1",
			head: "HTTP/1.1 301 Moved Permanently\nContent-Type: text/html\nContent-Length: 0\nLocation: /dir/?x=1\n" + ka},
		{name: "directory redirect escapes", target: "/sp%20ace",
			head: "HTTP/1.1 301 Moved Permanently\nContent-Type: text/html\nContent-Length: 0\nLocation: /sp%20ace/\n" + ka},
		{name: "index", target: "/",
			head: "HTTP/1.1 200 OK\nContent-Type: text/html\nContent-Length: 12\n" + lm + "\n" + ka + "\nETag: \"65937d25-c\"\nAccept-Ranges: bytes",
			body: "<h1>hi</h1>\n"},
		{name: "no index forbidden", target: "/noidx/",
			head: "HTTP/1.1 403 Forbidden\nContent-Type: text/html\nContent-Length: 147\n" + ka, body: page("403", "Forbidden")},
		{name: "index of missing directory", target: "/gone/",
			head: "HTTP/1.1 404 Not Found\nContent-Type: text/html\nContent-Length: 147\n" + ka, body: "-"},
		{name: "absolute index redirects", target: "/noidx/", conf: func(c *Config) { c.Index = []string{"none.html", "/a.txt"} },
			head: "HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 12\n" + lm + "\n" + ka + "\nETag: \"65937d25-c\"\nAccept-Ranges: bytes",
			body: "hello world\n"},
		{name: "post to file", method: "POST", target: "/a.txt",
			head: "HTTP/1.1 405 Not Allowed\nContent-Type: text/html\nContent-Length: 151\n" + ka, body: page("405", "Not Allowed")},
		{name: "delete", method: "DELETE", target: "/a.txt",
			head: "HTTP/1.1 405 Not Allowed\nContent-Type: text/html\nContent-Length: 151\n" + ka, body: "-"},
		{name: "post to index goes to file", method: "POST", target: "/",
			head: "HTTP/1.1 405 Not Allowed\nContent-Type: text/html\nContent-Length: 151\n" + ka, body: "-"},
		{name: "post to unindexed directory", method: "POST", target: "/noidx/",
			head: "HTTP/1.1 403 Forbidden\nContent-Type: text/html\nContent-Length: 147\n" + ka, body: "-"},
		{name: "post to missing", method: "POST", target: "/nope",
			head: "HTTP/1.1 404 Not Found\nContent-Type: text/html\nContent-Length: 147\n" + ka, body: "-"},
	})
}

// TestAlias covers alias in prefix and regex locations and the traversal
// nginx allows under an alias without a trailing slash.
func TestAlias(t *testing.T) {
	alias := func(loc, val string, regex bool) func(c *Config) {
		return func(c *Config) {
			c.Root, c.Alias, c.Location, c.Regex = strings.ReplaceAll(val, "DIR", c.Prefix), true, loc, regex
		}
	}
	okJS := "HTTP/1.1 200 OK\nContent-Type: application/javascript\nContent-Length: 7\n" + lm + "\n" + ka + "\nETag: \"65937d25-7\"\nAccept-Ranges: bytes"
	notFound := "HTTP/1.1 404 Not Found\nContent-Type: text/html\nContent-Length: 147\n" + ka
	runCases(t, []serveCase{
		{name: "prefix", target: "/static/f.js", conf: alias("/static/", "DIR/data/static/", false), head: okJS, body: "static\n"},
		{name: "prefix without slashes", target: "/static/f.js", conf: alias("/static", "DIR/data/static", false), head: okJS, body: "static\n"},
		{name: "off-by-slash traversal refused", target: "/static../secret.txt", conf: alias("/static", "DIR/data/static/", false),
			head: notFound, body: "-"},
		{name: "sibling by prefix refused", target: "/staticx.txt", conf: alias("/static", "DIR/data/static", false),
			head: notFound, body: "-"},
		{name: "regex with capture", target: "/js/f.js", conf: alias("^/js/(.+)$", "DIR/data/static/$1", true), head: okJS, body: "static\n"},
		{name: "exact file alias", target: "/f", conf: alias("/f", "DIR/data/static/f.js", false),
			head: strings.Replace(okJS, "application/javascript", "text/plain", 1), body: "static\n"},
		{name: "alias directory redirect uses the URI", target: "/st", conf: alias("/st", "DIR/data/static", false),
			head: "HTTP/1.1 301 Moved Permanently\nContent-Type: text/html\nContent-Length: 0\nLocation: /st/\n" + ka},
	})
}

// TestTryFiles covers the SPA fallback, $uri/, =code and @named.
func TestTryFiles(t *testing.T) {
	try := func(args ...string) func(c *Config) { return func(c *Config) { c.TryFiles = args } }
	indexHead := "HTTP/1.1 200 OK\nContent-Type: text/html\nContent-Length: 12\n" + lm + "\n" + ka + "\nETag: \"65937d25-c\"\nAccept-Ranges: bytes"
	runCases(t, []serveCase{
		{name: "file found", target: "/a.txt", conf: try("$uri", "$uri/", "/index.html"),
			head: "HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 12\n" + lm + "\n" + ka + "\nETag: \"65937d25-c\"\nAccept-Ranges: bytes",
			body: "hello world\n"},
		{name: "spa fallback", target: "/app/route?q=1", conf: try("$uri", "$uri/", "/index.html"), head: indexHead, body: "<h1>hi</h1>\n"},
		{name: "directory then 301", target: "/dir", conf: try("$uri", "$uri/", "=404"),
			head: "HTTP/1.1 301 Moved Permanently\nContent-Type: text/html\nContent-Length: 0\nLocation: /dir/\n" + ka},
		{name: "code", target: "/nope", conf: try("$uri", "=404"),
			head: "HTTP/1.1 404 Not Found\nContent-Type: text/html\nContent-Length: 147\n" + ka, body: page("404", "Not Found")},
		{name: "named", target: "/nope", conf: try("$uri", "@app"),
			head: "HTTP/1.1 502 Bad Gateway\nContent-Type: text/html\nContent-Length: 151\n" + ka, body: "-"},
		{name: "file is not a directory", target: "/a.txt", conf: try("$uri/", "=404"),
			head: "HTTP/1.1 404 Not Found\nContent-Type: text/html\nContent-Length: 147\n" + ka, body: "-"},
		{name: "dot dot in value refused", target: "/x", conf: try("/../data/secret.txt", "=404"),
			head: "HTTP/1.1 404 Not Found\nContent-Type: text/html\nContent-Length: 147\n" + ka, body: "-"},
		{name: "fallback args", target: "/nope?a=b", conf: try("$uri", "/index.html?x=$uri"), head: indexHead, body: "<h1>hi</h1>\n"},
		{name: "alias prefix maps $uri", target: "/static/f.js", conf: func(c *Config) {
			c.Root, c.Alias, c.Location, c.TryFiles = c.Prefix+"/data/static/", true, "/static/", []string{"$uri", "=404"}
		}, head: "HTTP/1.1 200 OK\nContent-Type: application/javascript\nContent-Length: 7\n" + lm + "\n" + ka + "\nETag: \"65937d25-7\"\nAccept-Ranges: bytes",
			body: "static\n"},
	})
}

// TestConditionalAndRanges pins the not_modified and range filters.
func TestConditionalAndRanges(t *testing.T) {
	binHead := "Content-Type: application/octet-stream\n"
	runCases(t, []serveCase{
		{name: "ims off", target: "/a.txt", conf: func(c *Config) { c.IfModifiedSince = "off" },
			hdrs: []string{"If-Modified-Since: Tue, 02 Jan 2024 03:04:05 GMT"},
			head: "HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 12\n" + lm + "\n" + ka + "\nETag: \"65937d25-c\"\nAccept-Ranges: bytes", body: "-"},
		{name: "ims equal", target: "/a.txt", hdrs: []string{"If-Modified-Since: Tue, 02 Jan 2024 03:04:05 GMT"},
			head: "HTTP/1.1 304 Not Modified\n" + lm + "\n" + ka + "\nETag: \"65937d25-c\""},
		{name: "ims later before", target: "/a.txt", conf: func(c *Config) { c.IfModifiedSince = "before" },
			hdrs: []string{"If-Modified-Since: Wed, 03 Jan 2024 03:04:05 GMT"},
			head: "HTTP/1.1 304 Not Modified\n" + lm + "\n" + ka + "\nETag: \"65937d25-c\""},
		{name: "ims later (exact, the default)", target: "/a.txt",
			hdrs: []string{"If-Modified-Since: Wed, 03 Jan 2024 03:04:05 GMT"},
			head: "HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 12\n" + lm + "\n" + ka + "\nETag: \"65937d25-c\"\nAccept-Ranges: bytes", body: "-"},
		{name: "ims earlier", target: "/a.txt", conf: func(c *Config) { c.IfModifiedSince = "before" },
			hdrs: []string{"If-Modified-Since: Mon, 01 Jan 2024 03:04:05 GMT"},
			head: "HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 12\n" + lm + "\n" + ka + "\nETag: \"65937d25-c\"\nAccept-Ranges: bytes", body: "-"},
		{name: "inm", target: "/a.txt", hdrs: []string{`If-None-Match: "x", W/"65937d25-c"`},
			head: "HTTP/1.1 304 Not Modified\n" + lm + "\n" + ka + "\nETag: \"65937d25-c\""},
		{name: "inm other", target: "/a.txt", hdrs: []string{`If-None-Match: "x"`},
			head: "HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 12\n" + lm + "\n" + ka + "\nETag: \"65937d25-c\"\nAccept-Ranges: bytes", body: "-"},
		{name: "ius garbage", target: "/a.txt", hdrs: []string{"If-Unmodified-Since: garbage"},
			head: "HTTP/1.1 412 Precondition Failed\nContent-Type: text/html\nContent-Length: 167\n" + ka, body: page("412", "Precondition Failed")},
		{name: "if-match miss", target: "/a.txt", hdrs: []string{`If-Match: "nope"`},
			head: "HTTP/1.1 412 Precondition Failed\nContent-Type: text/html\nContent-Length: 167\n" + ka, body: "-"},
		{name: "range", target: "/r.bin", hdrs: []string{"Range: bytes=2-4"},
			head: "HTTP/1.1 206 Partial Content\n" + binHead + "Content-Length: 3\n" + lm + "\n" + ka + "\nETag: \"65937d25-14\"\nContent-Range: bytes 2-4/20",
			body: "234"},
		{name: "suffix range", target: "/r.bin", hdrs: []string{"Range: bytes=-3"},
			head: "HTTP/1.1 206 Partial Content\n" + binHead + "Content-Length: 3\n" + lm + "\n" + ka + "\nETag: \"65937d25-14\"\nContent-Range: bytes 17-19/20",
			body: "hij"},
		{name: "range past end", target: "/r.bin", hdrs: []string{"Range: bytes=50-"},
			head: "HTTP/1.1 416 Requested Range Not Satisfiable\nContent-Type: text/html\nContent-Length: 191\n" + ka + "\nContent-Range: bytes */20",
			body: page("416", "Requested Range Not Satisfiable")},
		{name: "range of empty file", target: "/empty.txt", hdrs: []string{"Range: bytes=0-"},
			head: "HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 0\n" + lm + "\n" + ka + "\nETag: \"65937d25-0\"\nAccept-Ranges: bytes"},
		{name: "if-range etag", target: "/r.bin", hdrs: []string{`If-Range: "65937d25-14"`, "Range: bytes=1-2"},
			head: "HTTP/1.1 206 Partial Content\n" + binHead + "Content-Length: 2\n" + lm + "\n" + ka + "\nETag: \"65937d25-14\"\nContent-Range: bytes 1-2/20",
			body: "12"},
		{name: "if-range stale date", target: "/r.bin", hdrs: []string{"If-Range: Tue, 02 Jan 2024 03:04:06 GMT", "Range: bytes=1-2"},
			head: "HTTP/1.1 200 OK\n" + binHead + "Content-Length: 20\n" + lm + "\n" + ka + "\nETag: \"65937d25-14\"\nAccept-Ranges: bytes",
			body: "0123456789abcdefghij"},
		{name: "max_ranges 0", target: "/r.bin", hdrs: []string{"Range: bytes=1-2"}, conf: func(c *Config) { c.MaxRanges = 0 },
			head: "HTTP/1.1 200 OK\n" + binHead + "Content-Length: 20\n" + lm + "\n" + ka + "\nETag: \"65937d25-14\"", body: "-"},
	})
}

// TestMultipartRanges checks the multipart/byteranges body and its length.
func TestMultipartRanges(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, tree)
	c := DefaultConfig(dir)
	c.Root = dir + "/html"
	c.Types = map[string]string{"bin": "application/octet-stream"}
	addr := serveHandler(t, newHandler(t, c))
	r := get(t, addr, "GET", "/r.bin", "Range: bytes=0-1,5-6")
	ct, _ := r.Get("Content-Type")
	b, ok := strings.CutPrefix(ct, "multipart/byteranges; boundary=")
	if !ok || len(b) != 20 {
		t.Fatalf("Content-Type %q", ct)
	}
	want := "\r\n--" + b + "\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 0-1/20\r\n\r\n01" +
		"\r\n--" + b + "\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 5-6/20\r\n\r\n56" +
		"\r\n--" + b + "--\r\n"
	if string(r.Body) != want {
		t.Errorf("body %q; want %q", r.Body, want)
	}
	if cl, _ := r.Get("Content-Length"); cl != "226" {
		t.Errorf("Content-Length %s; want 226 (nginx's, for the same ranges)", cl)
	}
}

// TestExpiresAndCharset pins the headers the expires and charset
// directives add, on files and on the pages nginx builds.
func TestExpiresAndCharset(t *testing.T) {
	at := time.Date(2026, 12, 7, 3, 21, 52, 0, time.UTC)
	fixed := func() time.Time { return at }
	clock.Store(&fixed)
	t.Cleanup(func() { clock.Store(nil) })
	ex := func(e config.Expires) func(c *Config) { return func(c *Config) { c.Expires = e } }
	file := "HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 12\n" + lm + "\n" + ka + "\nETag: \"65937d25-c\"\n"
	runCases(t, []serveCase{
		{name: "1h", target: "/a.txt", conf: ex(config.Expires{Mode: config.ExpiresAccess, Time: time.Hour}),
			head: file + "Expires: Mon, 07 Dec 2026 04:21:52 GMT\nCache-Control: max-age=3600\nAccept-Ranges: bytes", body: "-"},
		{name: "epoch", target: "/a.txt", conf: ex(config.Expires{Mode: config.ExpiresEpoch}),
			head: file + "Expires: Thu, 01 Jan 1970 00:00:01 GMT\nCache-Control: no-cache\nAccept-Ranges: bytes", body: "-"},
		{name: "max", target: "/a.txt", conf: ex(config.Expires{Mode: config.ExpiresMax}),
			head: file + "Expires: Thu, 31 Dec 2037 23:55:55 GMT\nCache-Control: max-age=315360000\nAccept-Ranges: bytes", body: "-"},
		{name: "modified +1d", target: "/a.txt", conf: ex(config.Expires{Mode: config.ExpiresModified, Time: 24 * time.Hour}),
			head: file + "Expires: Wed, 03 Jan 2024 03:04:05 GMT\nCache-Control: no-cache\nAccept-Ranges: bytes", body: "-"},
		{name: "-1", target: "/a.txt", conf: ex(config.Expires{Mode: config.ExpiresAccess, Time: -time.Second}),
			head: file + "Expires: Mon, 07 Dec 2026 03:21:51 GMT\nCache-Control: no-cache\nAccept-Ranges: bytes", body: "-"},
		{name: "not on 404", target: "/nope", conf: ex(config.Expires{Mode: config.ExpiresMax}),
			head: "HTTP/1.1 404 Not Found\nContent-Type: text/html\nContent-Length: 147\n" + ka, body: "-"},
		{name: "on 301", target: "/dir", conf: ex(config.Expires{Mode: config.ExpiresMax}),
			head: "HTTP/1.1 301 Moved Permanently\nContent-Type: text/html\nContent-Length: 0\nLocation: /dir/\n" + ka +
				"\nExpires: Thu, 31 Dec 2037 23:55:55 GMT\nCache-Control: max-age=315360000"},
		{name: "on 304", target: "/a.txt", conf: ex(config.Expires{Mode: config.ExpiresMax}), hdrs: []string{`If-None-Match: "65937d25-c"`},
			head: "HTTP/1.1 304 Not Modified\n" + lm + "\n" + ka + "\nETag: \"65937d25-c\"\nExpires: Thu, 31 Dec 2037 23:55:55 GMT\nCache-Control: max-age=315360000"},
		{name: "charset html", target: "/index.html", conf: func(c *Config) { c.Charset = "utf-8" },
			head: "HTTP/1.1 200 OK\nContent-Type: text/html; charset=utf-8\nContent-Length: 12\n" + lm + "\n" + ka + "\nETag: \"65937d25-c\"\nAccept-Ranges: bytes", body: "-"},
		{name: "charset not css", target: "/s.css", conf: func(c *Config) { c.Charset = "utf-8" },
			head: "HTTP/1.1 200 OK\nContent-Type: text/css\nContent-Length: 5\n" + lm + "\n" + ka + "\nETag: \"65937d25-5\"\nAccept-Ranges: bytes", body: "-"},
		{name: "charset on error page", target: "/nope", conf: func(c *Config) { c.Charset = "utf-8" },
			head: "HTTP/1.1 404 Not Found\nContent-Type: text/html; charset=utf-8\nContent-Length: 147\n" + ka, body: "-"},
	})
}

// TestAutoindex pins both listing formats against nginx's output for the
// same directory.
func TestAutoindex(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"ad/subd/":                               "",
		"ad/a b&<c>.txt":                         "abc",
		"ad/big.bin":                             strings.Repeat("\x00", 3000),
		"ad/" + strings.Repeat("l", 60) + ".txt": "x",
		"ad/.hidden":                             "h",
	})
	for _, tc := range []struct {
		name, format, want string
	}{
		{"html", "html", "<html>\r\n<head><title>Index of /ad/</title></head>\r\n<body>\r\n<h1>Index of /ad/</h1><hr><pre><a href=\"../\">../</a>\r\n" +
			"<a href=\"subd/\">subd/</a>                                              02-Jan-2024 03:04                   -\r\n" +
			"<a href=\"a%20b%26%3Cc%3E.txt\">a b&amp;&lt;c&gt;.txt</a>                                        02-Jan-2024 03:04                   3\r\n" +
			"<a href=\"big.bin\">big.bin</a>                                            02-Jan-2024 03:04                3000\r\n" +
			"<a href=\"" + strings.Repeat("l", 60) + ".txt\">" + strings.Repeat("l", 47) + "..&gt;</a> 02-Jan-2024 03:04                   1\r\n" +
			"</pre><hr></body>\r\n</html>\r\n"},
		{"json", "json", "[\r\n" +
			"{ \"name\":\"subd\", \"type\":\"directory\", \"mtime\":\"Tue, 02 Jan 2024 03:04:05 GMT\" },\r\n" +
			"{ \"name\":\"a b&<c>.txt\", \"type\":\"file\", \"mtime\":\"Tue, 02 Jan 2024 03:04:05 GMT\", \"size\":3 },\r\n" +
			"{ \"name\":\"big.bin\", \"type\":\"file\", \"mtime\":\"Tue, 02 Jan 2024 03:04:05 GMT\", \"size\":3000 },\r\n" +
			"{ \"name\":\"" + strings.Repeat("l", 60) + ".txt\", \"type\":\"file\", \"mtime\":\"Tue, 02 Jan 2024 03:04:05 GMT\", \"size\":1 }\r\n]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig(dir)
			c.Root, c.Autoindex, c.AutoindexFormat = dir, true, tc.format
			addr := serveHandler(t, newHandler(t, c))
			r := get(t, addr, "GET", "/ad/")
			if string(r.Body) != tc.want {
				t.Errorf("body:\n%s\nwant:\n%s", r.Body, tc.want)
			}
			if !r.Chunked {
				t.Errorf("listing not chunked, nginx sends it chunked")
			}
		})
	}
}

// TestHTTPTime compares the hand-written date format with time.Format's.
func TestHTTPTime(t *testing.T) {
	for _, tm := range []time.Time{fixedMtime, time.Unix(0, 0), time.Date(2037, 12, 31, 23, 55, 55, 0, time.UTC),
		time.Date(1999, 2, 28, 9, 5, 7, 0, time.FixedZone("x", 3600))} {
		want := tm.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT")
		if got := string(appendHTTPTime(nil, tm)); got != want {
			t.Errorf("appendHTTPTime(%v) = %q; want %q", tm, got, want)
		}
	}
}
