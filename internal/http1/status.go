package http1

import (
	"bytes"
	"errors"
	"strconv"
)

// StatusRequestHeaderTooLarge is nginx's internal code 494
// (NGX_HTTP_REQUEST_HEADER_TOO_LARGE): sent as "400 Bad Request" with the
// "Request Header Or Cookie Too Large" page.
const StatusRequestHeaderTooLarge = 494

// StatusSSLCertError and StatusSSLNoCert are nginx's internal codes 495
// and 496 (NGX_HTTPS_CERT_ERROR, NGX_HTTPS_NO_CERT, ssl_verify_client):
// sent as "400 Bad Request" with the "The SSL certificate error" and "No
// required SSL certificate was sent" pages.
const (
	StatusSSLCertError = 495
	StatusSSLNoCert    = 496
)

// StatusToHTTPS is nginx's internal code 497 (NGX_HTTP_TO_HTTPS): plain
// HTTP on an ssl address, sent as "400 Bad Request" with the "The plain
// HTTP request was sent to HTTPS port" page.
const StatusToHTTPS = 497

// WireStatus is the status nginx puts on the wire for code: 400 for its
// internal 494, 495 and 496, code itself otherwise.
func WireStatus(code int) int {
	switch code {
	case StatusRequestHeaderTooLarge, StatusSSLCertError, StatusSSLNoCert, StatusToHTTPS:
		return 400
	}
	return code
}

// StatusClientClosedRequest is nginx's 499: logged, never sent.
const StatusClientClosedRequest = 499

// StatusNoResponse is nginx's 444 (return 444, NGX_HTTP_CLOSE): the
// connection is closed without an answer and 444 is logged.
const StatusNoResponse = 444

// StatusError is a client error that maps to an nginx status. Status is the
// code nginx would finalize the request with (494 for too large headers,
// 408 for timeouts, which nginx never sends).
type StatusError struct {
	Status int
	Msg    string // nginx's log wording, e.g. "client sent invalid request"
}

func (e *StatusError) Error() string {
	return strconv.Itoa(e.Status) + ": " + e.Msg
}

// StatusCode is Status, for exchange.StatusOf.
func (e *StatusError) StatusCode() int { return e.Status }

func statusErr(status int, msg string) error {
	return &StatusError{Status: status, Msg: msg}
}

// StatusOf returns the status carried by err (a *StatusError in its chain),
// or 0.
func StatusOf(err error) int {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status
	}
	return 0
}

// StatusText returns the reason nginx's header filter writes after code
// in a status line it makes itself (ngx_http_status_lines in
// ngx_http_header_filter_module.c), or "" for codes that table has no text
// for: nginx then sends "NNN " with an empty reason. nginx 1.22 has none for
// 1xx (its "HTTP/1.1 100 Continue" is a literal, see send100; "return 101
// x" goes out as "101 "), nor for its own 494, whose page goes out as 400
// (WriteError). This is the only status table: the proxy uses it, through
// AppendStatusLine, for an upstream status it has no line of.
func StatusText(code int) string {
	switch code {
	case 200:
		return "OK"
	case 201:
		return "Created"
	case 202:
		return "Accepted"
	case 204:
		return "No Content"
	case 206:
		return "Partial Content"
	case 301:
		return "Moved Permanently"
	case 302:
		return "Moved Temporarily"
	case 303:
		return "See Other"
	case 304:
		return "Not Modified"
	case 307:
		return "Temporary Redirect"
	case 308:
		return "Permanent Redirect"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 402:
		return "Payment Required"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Not Allowed"
	case 406:
		return "Not Acceptable"
	case 408:
		return "Request Time-out"
	case 409:
		return "Conflict"
	case 410:
		return "Gone"
	case 411:
		return "Length Required"
	case 412:
		return "Precondition Failed"
	case 413:
		return "Request Entity Too Large"
	case 414:
		return "Request-URI Too Large"
	case 415:
		return "Unsupported Media Type"
	case 416:
		return "Requested Range Not Satisfiable"
	case 421:
		return "Misdirected Request"
	case 429:
		return "Too Many Requests"
	case 500:
		return "Internal Server Error"
	case 501:
		return "Not Implemented"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service Temporarily Unavailable"
	case 504:
		return "Gateway Time-out"
	case 505:
		return "HTTP Version Not Supported"
	case 507:
		return "Insufficient Storage"
	}
	return ""
}

// AppendStatusLine appends a status line's code and reason as
// ngx_http_header_filter writes them for a status without a line of its
// own: the code in at least three digits, a space, then StatusText(code),
// which may be empty ("426 "). No "HTTP/1.1 " before it, no CRLF after.
func AppendStatusLine(dst []byte, code int) []byte {
	if code >= 0 && code < 100 {
		dst = append(dst, '0')
		if code < 10 {
			dst = append(dst, '0')
		}
	}
	dst = strconv.AppendInt(dst, int64(code), 10)
	dst = append(dst, ' ')
	return append(dst, StatusText(code)...)
}

// errorPageTitle is the <title>/<h1> text of nginx's built-in page for code
// (ngx_http_error_pages in ngx_http_special_response.c); "" means nginx
// sends the status with an empty body.
func errorPageTitle(code int) string {
	switch code {
	case 401:
		return "401 Authorization Required"
	case 302:
		return "302 Found"
	case StatusRequestHeaderTooLarge:
		return "400 Request Header Or Cookie Too Large"
	case StatusSSLCertError:
		return "400 The SSL certificate error"
	case StatusSSLNoCert:
		return "400 No required SSL certificate was sent"
	case StatusToHTTPS:
		return "400 The plain HTTP request was sent to HTTPS port"
	case 301, 303, 307, 308,
		400, 402, 403, 404, 405, 406, 408, 409, 410, 411, 412, 413, 414, 415, 416, 421, 429,
		500, 501, 502, 503, 504, 505, 507:
		return strconv.Itoa(code) + " " + StatusText(code)
	}
	return ""
}

// HasErrorPage reports whether nginx has a built-in page for code.
func HasErrorPage(code int) bool { return errorPageTitle(code) != "" }

// AppendErrorPage appends nginx's built-in HTML body for code, with server
// (e.g. "wsgate" or "wsgate/1.0") in the footer where nginx puts
// NGINX_VER. It appends nothing for codes without a page (204, 304, 1xx…).
func AppendErrorPage(dst []byte, code int, server string) []byte {
	title := errorPageTitle(code)
	if title == "" {
		return dst
	}
	dst = append(dst, "<html>\r\n<head><title>"...)
	dst = append(dst, title...)
	dst = append(dst, "</title></head>\r\n<body>\r\n<center><h1>"...)
	if WireStatus(code) != code {
		dst = append(dst, "400 Bad Request</h1></center>\r\n<center>"...)
		dst = append(dst, title[len("400 "):]...)
		dst = append(dst, "</center>\r\n"...)
	} else {
		dst = append(dst, title...)
		dst = append(dst, "</h1></center>\r\n"...)
	}
	dst = append(dst, "<hr><center>"...)
	dst = append(dst, server...)
	dst = append(dst, "</center>\r\n</body>\r\n</html>\r\n"...)
	return dst
}

// errorPagePadding is ngx_http_msie_padding: six HTML comments after a 4xx
// or 5xx page so that MSIE and Chrome show it rather than their own
// "friendly" error page.
const errorPagePadding = "<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n" +
	"<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n" +
	"<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n" +
	"<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n" +
	"<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n" +
	"<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n"

// AppendErrorPadding appends the padding nginx writes after the built-in
// page for code when it is a 4xx or 5xx page (msie_padding on, the
// default; ngx_http_send_special_response); nothing for other codes. nginx
// pads only for HTTP/1.0 and later requests whose User-Agent WantsPadding.
func AppendErrorPadding(dst []byte, code int) []byte {
	if code < 400 || errorPageTitle(code) == "" {
		return dst
	}
	return append(dst, errorPagePadding...)
}

// WantsPadding reports whether nginx pads error pages for this User-Agent
// (the first one the client sent): MSIE (not Opera) or Chrome (not
// Gecko/), as ngx_http_process_user_agent classifies them.
func WantsPadding(userAgent []byte) bool {
	msie := false
	if i := bytes.Index(userAgent, []byte("MSIE ")); i >= 0 && i+7 < len(userAgent) {
		msie = true
	}
	if bytes.Contains(userAgent, []byte("Opera")) {
		return false
	}
	if msie {
		return true
	}
	return !bytes.Contains(userAgent, []byte("Gecko/")) && bytes.Contains(userAgent, []byte("Chrome/"))
}

// ClosesKeepalive reports whether nginx turns keep-alive off when it answers
// with code (ngx_http_special_response_handler; 495 to 497 are TLS
// errors, which "return" can give too).
func ClosesKeepalive(code int) bool {
	switch code {
	case 400, 413, 414, 500, 501, StatusRequestHeaderTooLarge, StatusSSLCertError, StatusSSLNoCert, StatusToHTTPS:
		return true
	}
	return false
}
