package vars

import "strings"

// This file holds the variables of the response as it went to the client
// (ngx_http_variables.c): $sent_http_NAME, $sent_trailer_NAME and
// $request_completion. wsgate reads them from the head and trailers the
// wire layer sent (Ctx.SentHead, Ctx.SentTrailers), which hold what
// nginx's r->headers_out holds once its header filters have run.

// sentHeader is $sent_http_NAME (name lower-case, "_" for "-") over head,
// as nginx 1.22 answers it: Cache-Control and Link lines joined with ", "
// (ngx_http_variable_headers), Connection "close" when the head has none
// (ngx_http_variable_sent_connection), the first line of any other name
// (ngx_http_variable_unknown_header). The Server and Date lines nginx
// writes itself are not in r->headers_out's list and are not found.
func sentHeader(dst []byte, head, name string) ([]byte, bool) {
	join := name == "cache_control" || name == "link"
	if name == "server" || name == "date" {
		return dst, false
	}
	found := false
	for _, line := range headLines(head) {
		n, v, ok := strings.Cut(line, ":")
		if !ok || !headerIs(n, name) {
			continue
		}
		v = strings.Trim(v, " \t")
		if !join {
			return append(dst, v...), true
		}
		if found {
			dst = append(dst, ", "...)
		}
		dst = append(dst, v...)
		found = true
	}
	if !found && name == "connection" {
		return append(dst, "close"...), true
	}
	return dst, found
}

// headLines returns the header lines of head: the status line and the
// empty line that ends the head left out. A head of HTTP/0.9 (empty)
// has none.
func headLines(head string) []string {
	if head == "" {
		return nil
	}
	_, rest, _ := strings.Cut(head, "\r\n") // the status line
	rest, _, _ = strings.Cut(rest, "\r\n\r\n")
	if rest == "" || rest == "\r\n" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(rest, "\r\n"), "\r\n")
}

// lineValue is the first "Name: value" of lines (CRLF-separated, the
// trailer form) whose name is the variable suffix name.
func lineValue(lines, name string) (string, bool) {
	for lines != "" {
		var line string
		line, lines, _ = strings.Cut(lines, "\r\n")
		n, v, ok := strings.Cut(line, ":")
		if ok && headerIs(n, name) {
			return strings.Trim(v, " \t"), true
		}
	}
	return "", false
}
