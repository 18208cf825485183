// Package files is the static file content handler: what nginx's content
// phase does for a location without proxy_pass or return, module by
// module — try_files (the precontent phase), index, autoindex and static
// — with the header filters that act on their responses (not_modified,
// expires, charset with charset_map recoding, range).
//
// A Handler is compiled once per location from a Config (New) and is
// immutable; Serve answers one request with it. Serve writes only the
// responses the file modules produce themselves (200, 206, 304 and
// directory listings); everything nginx would hand to its special-response
// or redirect machinery comes back as a Result for the caller to act on:
// an error status (with the lines nginx's filters add to that page, such
// as the Content-Range of a 416), the 301 to a directory's slashed URI
// (relative: the caller makes it absolute per absolute_redirect,
// server_name_in_redirect and port_in_redirect), an internal redirect
// (index, the last argument of try_files) or a named location
// (try_files ... @name). The caller re-runs location matching for an
// internal redirect, as ngx_http_internal_redirect does, at most ten
// times.
//
// What it promises:
//   - Paths are nginx's: root + $uri, or the alias with the location's
//     prefix replaced (prefix locations) or the alias alone (regex
//     locations, whose alias holds the captures), then the try_files and
//     index names; variables are evaluated per request.
//   - No file outside the root or alias directory is ever opened: a path
//     is cleaned and must stay under the literal part of the root or alias
//     after normalisation. nginx's own URI parsing already rejects ".."
//     above the root, %00 and the like (400, see http1); this check adds
//     what nginx lacks: the "alias without a trailing slash" traversal
//     (location /i { alias /data/i/; } with /i../secret) and ".." that a
//     try_files or index value brings in. Such a request is answered 404
//     where nginx would serve the file. Symbolic links are followed, as
//     with nginx's default "disable_symlinks off".
//   - Statuses as ngx_http_static_module: 404 for ENOENT, ENOTDIR and
//     ENAMETOOLONG, 403 for EACCES and ELOOP, 500 otherwise; 405 for
//     methods other than GET, HEAD and POST, and for POST to a file; 403
//     for a directory URI with no index file and autoindex off.
//   - Bodies go to the socket with sendfile(2) (http1.ResponseWriter
//     WriteFile), so memory does not grow with the file's size.
//
// Where this package differs from nginx 1.22 on purpose:
//   - the traversal check above (404 instead of the file);
//   - disable_symlinks other than off is not implemented (the
//     configuration check rejects it); nginx's own error pages are not
//     recoded by charset_map (only files are);
//   - open_file_cache is accepted and does nothing; instead, on Linux,
//     small files are served from a Cache that every request validates
//     with one statx(2) (see Cache): the same bytes as opening the file,
//     with one system call where nginx makes four.
package files
