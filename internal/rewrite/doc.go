// Package rewrite runs nginx's rewrite module: the rewrite, return, break,
// set and if directives of a server block before a location is searched
// (the server rewrite phase), and those of the chosen location after it
// (the rewrite phase), searching again when a location's directives
// changed the URI, at most ten times, as ngx_http_core_post_rewrite_phase
// does.
//
// Compile turns each block's instruction list (config.Server.Rewrite,
// config.Location.Rewrite) into a Program once per configuration: regular
// expressions, replacements and values are compiled against the
// configuration's variables (internal/vars), so that -t reports an unknown
// variable or a bad pattern where nginx does. Set.Run then serves one
// request: it changes the request's variables in place ($uri, $args, the
// captures $1..$9, what set assigns) and says what comes next in an
// Outcome: serve the content of the location it settled on (with the
// configuration of a matching if block when there is one), answer with a
// return directive's code and text, redirect (rewrite ... redirect or
// permanent), or fail with 500 (a URI rewritten to nothing, or more than
// ten searches).
//
// What it promises:
//   - The semantics are nginx 1.22's (ngx_http_rewrite_module.c and the
//     script codes of ngx_http_script.c): a location's directives do not
//     run for a request that matched no location; break and
//     "rewrite ... break" stop the block and keep the request where it
//     is; "last" stops and searches again; a rewrite without a flag goes
//     on with the next directive and searches again at the end; a failed
//     regex test forgets $1..$9; an if block that matches switches the
//     request to its configuration for the rest of the block and for the
//     content phase, which is what makes "if is evil": directives after
//     the block still run, and only the last matching block's settings
//     apply.
//   - A Program and a Set are immutable and safe for concurrent use; a
//     State belongs to one request at a time.
//
// What it leaves to others: answering (the return text, the redirect's
// absolute Location, the error page) is the content side's, which reads
// the Outcome; so is sending the rewritten URI upstream, for which State
// says what nginx's r->valid_unparsed_uri and r->valid_location would.
// An internal redirect to a named location or another URI (error_page,
// try_files) is a search this package does not start: the request loop
// that owns those calls Set.Run's location phase again.
package rewrite
