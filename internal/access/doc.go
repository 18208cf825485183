// Package access holds the access phase's checks (NGX_HTTP_ACCESS_PHASE)
// as compiled from a location's configuration: allow and deny
// (ngx_http_access_module, rules.go).
//
// What it promises: a location's checks are compiled once, when its
// snapshot is built, into values that never change and are safe for
// concurrent use; a check on the request path does not allocate. A check
// only says what it decided; the request pipeline (internal/pipeline)
// runs the phase and answers the client.
//
// What it leaves to others: the configuration's syntax and inheritance
// (internal/config), the client's address (internal/server), and the
// answer (internal/pipeline).
package access
