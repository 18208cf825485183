package route

import "wsgate/internal/http1"

// ValidHost is what a request's host goes through before Server sees it:
// http1's parser checks it as ngx_http_validate_host does
// (http1.ValidateHost) and Server normalizes it. It returns the host
// lower-cased, without its port and without one trailing dot. ok is false
// when nginx answers 400 ("client sent invalid host header"). An IPv6
// literal keeps its brackets ("[::1]:80" → "[::1]"). The result shares
// host's memory unless an upper-case letter had to change.
func ValidHost(host string) (string, bool) {
	n, ok := http1.ValidateHost([]byte(host))
	if !ok {
		return "", false
	}
	// A validated host never ends in '.', so normalizeHost only lower-cases.
	return normalizeHost(host[:n]), true
}
