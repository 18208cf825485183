// Package access holds the access phase's checks (NGX_HTTP_ACCESS_PHASE)
// as compiled from a location's configuration: allow and deny
// (ngx_http_access_module, rules.go), auth_basic and its user file
// (ngx_http_auth_basic_module, basic.go), the htpasswd password forms
// (htpasswd.go) and limit_except's block (limit.go). satisfy, which
// combines the checks, is applied by the request pipeline
// (internal/pipeline/access.go), which runs the phase.
//
// What it promises: a location's checks are compiled once, when its
// snapshot is built, into values that never change and are safe for
// concurrent use. allow/deny does not allocate; auth_basic reads its user
// file at every request that brings credentials, as nginx does, so that
// an edited file needs no reload. Passwords are compared in constant
// time. A check only says what it decided; the pipeline answers the
// client and writes the error log.
//
// What it leaves to others: the configuration's syntax and inheritance
// (internal/config), the client's address (internal/server), and the
// answer (internal/pipeline).
package access
