// Package rewrite runs nginx's rewrite module: the rewrite, return, break,
// set and if directives of a server block before a location is searched
// (the server rewrite phase, Set.Server), and those of the location found
// (the rewrite phase, Set.Location), which asks for a search again when
// they changed the URI (ngx_http_core_post_rewrite_phase). The request
// pipeline (internal/pipeline) calls both and owns the search and its
// limit of ten.
//
// Compile turns each block's instruction list (config.Server.Rewrite,
// config.Location.Rewrite) into a Program once per configuration: regular
// expressions, replacements and values are compiled against the
// configuration's variables (internal/vars), so that -t reports an unknown
// variable or a bad pattern where nginx does. Each phase call changes the
// request's variables in place ($uri, $args, the captures $1..$9, what set
// assigns) and says what comes next in an Outcome: go on (with the
// configuration of a matching if block when there is one), search again,
// answer with a return directive's code and text, redirect (rewrite ...
// redirect or permanent), or fail with 500 (a URI rewritten to nothing).
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
// What it leaves to others: the location search, searching again and
// internal redirects (error_page, try_files) are the pipeline's; so is
// answering (the return text, the redirect's absolute Location, the error
// page), from the Outcome; sending the rewritten URI upstream is the
// proxy's, for which State says what nginx's r->internal,
// r->valid_unparsed_uri and r->valid_location would.
package rewrite
