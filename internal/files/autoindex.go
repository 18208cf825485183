package files

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"wsgate/internal/vars"
)

// nameLen is the width of the name column of an HTML listing
// (NGX_HTTP_AUTOINDEX_NAME_LEN).
const nameLen = 50

// dirEntry is one listed entry.
type dirEntry struct {
	name  string
	dir   bool
	file  bool
	mtime time.Time
	size  int64
}

// autoindex is ngx_http_autoindex_handler: the directory's entries but the
// hidden ones, directories first, then by name in byte order, as an HTML
// page or a JSON array, sent chunked like nginx (the length is not
// announced).
func (s *state) autoindex(w ResponseWriter) Result {
	h := s.h
	p, ok := s.appendPath(s.sc.path[:0])
	if !ok {
		s.sc.path = p
		return s.fail(500)
	}
	nb, ok := safePath(p, h.rootBase)
	if !ok {
		s.sc.path = p
		return s.refused(p)
	}
	s.sc.path = nb
	name := display(nb)
	if len(name) > 1 {
		name = strings.TrimSuffix(name, "/")
	}
	format, callback := h.aiFormat, ""
	if format == aiJSONP {
		cb, ok := jsonpCallback(s.vc.Args)
		if !ok {
			if h.log != nil && h.log.Enabled(context.Background(), slog.LevelInfo) {
				h.log.Info("client sent invalid or too long callback name", "callback", cb)
			}
			return s.fail(400)
		}
		if callback = cb; cb == "" {
			format = aiJSON
		}
	}
	d, err := os.Open(name)
	if err != nil {
		st := openStatus(err)
		h.logErr(levelFor(st), "opendir() failed", err, name)
		return s.fail(st)
	}
	defer d.Close()
	fi, err := d.Stat()
	if err == nil && !fi.IsDir() {
		err = syscall.ENOTDIR
	}
	if err != nil {
		st := openStatus(err)
		h.logErr(levelFor(st), "opendir() failed", err, name)
		return s.fail(st)
	}
	names, err := d.Readdirnames(-1)
	if err != nil {
		h.logErr(slog.LevelError, "readdir() failed", err, name)
		return s.fail(500)
	}
	entries := make([]dirEntry, 0, len(names))
	for _, n := range names {
		if strings.HasPrefix(n, ".") {
			continue
		}
		full := filepath.Join(name, n)
		st, err := os.Stat(full)
		if err != nil {
			if errors.Is(err, syscall.EACCES) {
				continue
			}
			if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ELOOP) {
				h.logErr(slog.LevelError, "stat() failed", err, full)
				return s.fail(500)
			}
			// A dangling or looping symbolic link is listed as the link.
			if st, err = os.Lstat(full); err != nil {
				return s.fail(500)
			}
		}
		entries = append(entries, dirEntry{name: n, dir: st.IsDir(), file: st.Mode().IsRegular(),
			mtime: st.ModTime(), size: st.Size()})
	}
	slices.SortFunc(entries, func(a, b dirEntry) int {
		switch {
		case a.dir && !b.dir:
			return -1
		case !a.dir && b.dir:
			return 1
		}
		return strings.Compare(a.name, b.name)
	})

	w.AddServerDate()
	var body []byte
	switch {
	case format == aiJSON:
		w.AddHeader("Content-Type", "application/json")
	case format == aiJSONP:
		w.AddHeader("Content-Type", "application/javascript")
	case format == aiXML:
		// nginx sets the charset itself: the listing is UTF-8.
		w.AddHeader("Content-Type", "text/xml; charset=utf-8")
	default:
		if cs := s.pageCharset(); cs != "" {
			w.AddHeader("Content-Type", "text/html; charset="+cs)
		} else {
			w.AddHeader("Content-Type", "text/html")
		}
	}
	w.MarkFraming()
	if ex := s.expiresLines(s.sc.extra[:0], time.Time{}, false); len(ex) > 0 {
		s.sc.extra = ex
		addLines(w, ex)
	}
	if err := w.WriteHeader(200, "", -1); err != nil || s.r.Method == "HEAD" {
		return Result{Action: Done, Status: 200}
	}
	switch format {
	case aiJSON:
		body = appendJSONListing(nil, entries)
	case aiJSONP:
		body = append(append(append(body, "/* callback */\r\n"...), callback...), '(')
		body = append(appendJSONListing(body, entries), ')', ';')
	case aiXML:
		body = appendXMLListing(nil, entries)
	default:
		utf8Names := strings.EqualFold(s.pageCharset(), "utf-8")
		body = h.appendHTMLListing(nil, s.uri, entries, utf8Names)
	}
	w.Write(body)
	return Result{Action: Done, Status: 200}
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// appendHTMLListing is ngx_http_autoindex_html: names cut to 50 columns
// ("..>" marks a cut), the date, and the size in bytes or, with
// autoindex_exact_size off, rounded to K, M or G.
func (h *Handler) appendHTMLListing(b []byte, uri string, entries []dirEntry, utf8Names bool) []byte {
	b = append(b, "<html>\r\n<head><title>Index of "...)
	b = appendHTML(b, uri)
	b = append(b, "</title></head>\r\n<body>\r\n<h1>Index of "...)
	b = appendHTML(b, uri)
	b = append(b, "</h1><hr><pre><a href=\"../\">../</a>\r\n"...)
	for _, e := range entries {
		b = append(b, "<a href=\""...)
		b = appendEscaped(b, e.name, escComponent)
		if e.dir {
			b = append(b, '/')
		}
		b = append(b, "\">"...)
		n := len(e.name)
		if utf8Names && utf8.ValidString(e.name) {
			n = utf8.RuneCountInString(e.name)
		}
		shown := e.name
		if n > nameLen {
			// Cut to 47 characters, then "..>".
			shown = cutRunes(e.name, nameLen-3, n != len(e.name))
		}
		b = appendHTML(b, shown)
		if n > nameLen {
			b = append(b, "..&gt;</a>"...)
		} else {
			if e.dir && nameLen-n > 0 {
				b = append(b, '/')
				n++
			}
			b = append(b, "</a>"...)
			for k := n; k < nameLen; k++ {
				b = append(b, ' ')
			}
		}
		b = append(b, ' ')
		t := e.mtime.UTC()
		if h.localtime {
			t = e.mtime.Local()
		}
		b = appendPad(b, int64(t.Day()), 2, '0')
		b = append(b, '-')
		b = append(b, months[t.Month()-1]...)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(t.Year()), 10)
		b = append(b, ' ')
		b = appendPad(b, int64(t.Hour()), 2, '0')
		b = append(b, ':')
		b = appendPad(b, int64(t.Minute()), 2, '0')
		b = append(b, ' ')
		b = h.appendSize(b, e)
		b = append(b, "\r\n"...)
	}
	return append(b, "</pre><hr></body>\r\n</html>\r\n"...)
}

// cutRunes returns the first n characters of s: runes when multibyte,
// bytes otherwise.
func cutRunes(s string, n int, runes bool) string {
	if !runes {
		return s[:n]
	}
	i := 0
	for k := 0; k < n && i < len(s); k++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i]
}

func (h *Handler) appendSize(b []byte, e dirEntry) []byte {
	if h.exactSize {
		if e.dir {
			return append(b, "                  -"...)
		}
		return appendPad(b, e.size, 19, ' ')
	}
	if e.dir {
		return append(b, "      -"...)
	}
	const k, m, g = 1024, 1024 * 1024, 1024 * 1024 * 1024
	length := e.size
	var size int64
	var scale byte
	switch {
	case length > g-1:
		size = length / g
		if length%g > g/2-1 {
			size++
		}
		scale = 'G'
	case length > m-1:
		size = length / m
		if length%m > m/2-1 {
			size++
		}
		scale = 'M'
	case length > 9999:
		size = length / k
		if length%k > 511 {
			size++
		}
		scale = 'K'
	default:
		b = append(b, ' ')
		return appendPad(b, length, 6, ' ')
	}
	b = appendPad(b, size, 6, ' ')
	return append(b, scale)
}

// appendPad appends n right-aligned in width with pad.
func appendPad(b []byte, n int64, width int, pad byte) []byte {
	var tmp [24]byte
	s := strconv.AppendInt(tmp[:0], n, 10)
	for k := len(s); k < width; k++ {
		b = append(b, pad)
	}
	return append(b, s...)
}

// appendJSONListing is ngx_http_autoindex_json.
func appendJSONListing(b []byte, entries []dirEntry) []byte {
	b = append(b, '[')
	for i, e := range entries {
		b = append(b, "\r\n{ \"name\":\""...)
		b = appendJSON(b, e.name)
		b = append(b, "\", \"type\":\""...)
		switch {
		case e.dir:
			b = append(b, "directory"...)
		case e.file:
			b = append(b, "file"...)
		default:
			b = append(b, "other"...)
		}
		b = append(b, "\", \"mtime\":\""...)
		b = appendHTTPTime(b, e.mtime)
		if e.file {
			b = append(b, "\", \"size\":"...)
			b = strconv.AppendInt(b, e.size, 10)
		} else {
			b = append(b, '"')
		}
		b = append(b, " }"...)
		if i < len(entries)-1 {
			b = append(b, ',')
		}
	}
	return append(b, "\r\n]"...)
}

// jsonpCallback is ngx_http_autoindex_jsonp_callback: the "callback"
// argument, at most 128 bytes of letters, digits, "_" and "."; false
// (answered 400) otherwise. An absent or empty callback is "" and
// sends plain JSON.
func jsonpCallback(args string) (string, bool) {
	cb, found := vars.Arg(args, "callback")
	if !found {
		return "", true
	}
	if len(cb) > 128 {
		return cb, false
	}
	for i := 0; i < len(cb); i++ {
		c := cb[i]
		if l := c | 0x20; l >= 'a' && l <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' {
			continue
		}
		return cb, false
	}
	return cb, true
}

// appendXMLListing is ngx_http_autoindex_xml: one element per entry named
// by its type, the mtime in ISO 8601 UTC, the size of files, the name
// HTML-escaped.
func appendXMLListing(b []byte, entries []dirEntry) []byte {
	b = append(b, "<?xml version=\"1.0\"?>\r\n<list>\r\n"...)
	for _, e := range entries {
		typ := "other"
		switch {
		case e.dir:
			typ = "directory"
		case e.file:
			typ = "file"
		}
		b = append(b, '<')
		b = append(b, typ...)
		b = append(b, " mtime=\""...)
		b = e.mtime.UTC().AppendFormat(b, "2006-01-02T15:04:05Z")
		if e.file {
			b = append(b, "\" size=\""...)
			b = strconv.AppendInt(b, e.size, 10)
		}
		b = append(b, '"', '>')
		b = appendHTML(b, e.name)
		b = append(b, '<', '/')
		b = append(b, typ...)
		b = append(b, ">\r\n"...)
	}
	return append(b, "</list>\r\n"...)
}

func levelFor(status int) slog.Level {
	if status == 500 {
		return slog.LevelError + 4 // crit
	}
	return slog.LevelError
}

// errText is an errno's text as nginx logs it, without Go's "open PATH:".
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	var en syscall.Errno
	if errors.As(err, &en) {
		return "(" + strconv.Itoa(int(en)) + ": " + en.Error() + ")"
	}
	return err.Error()
}
