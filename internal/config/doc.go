// Package config is wsgate's nginx configuration front end: it turns
// nginx.conf text into a Spec, or into every error found on the way.
//
// Stages, one file each: the lexer (lexer.go: nginx's ngx_conf_read_token,
// quoting and escapes), the parser (parser.go: directives, blocks and
// includes into an AST, with -g's globals), the check (check.go and the
// directive table, directives.go plus one directives_*.go file per nginx
// module family: contexts, argument counts, typed values, nginx's defaults
// and inheritance from http to server to location), and lint (lint.go:
// the pitfalls of the seed tutorial, as warnings with a fix). Load runs
// parse and check; -t and -T are built from Load, Lint and Spec.Files.
//
// What it promises:
//   - It is pure: it reads configuration files (through
//     ParseOptions.ReadFile and Glob, which tests replace) and nothing
//     else. It opens no sockets and imports neither net nor net/http nor
//     any other wsgate package but internal/openssl (OpenSSL's names, pure
//     as this one, so that -t checks "ssl_ciphers" where it is written);
//     compiling the Spec into something that serves (regexps, variables,
//     routes, TLS) is the caller's.
//   - Spec is plain data (no compiled regexps, no sockets), built by Check:
//     inheritance is already resolved, so every Location carries its
//     effective settings. Callers treat it as read-only, so one Spec may
//     be shared between goroutines and between a running configuration
//     and the one that replaces it.
//   - Errors are nginx's: "file:line:col: message" with the text nginx 1.22
//     prints where wsgate accepts the same input, all of them at once
//     (ErrorList), not just the first. A Spec returned beside errors is
//     partial and must not be served.
//   - Unknown directives are errors, as in nginx. A real nginx directive
//     wsgate does not implement is an error that names what to use
//     instead; one that means nothing here (worker_processes, sendfile …)
//     is accepted with a Notice. Nothing is ignored silently.
//
// What it leaves to others: whether a configuration can be served right
// now (addresses free, certificates readable) is the server's to find out
// when it applies the Spec.
package config
