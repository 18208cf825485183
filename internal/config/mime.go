package config

import _ "embed"

// builtinMimeTypes is nginx's MIME table as Debian's nginx-common ships it
// in /etc/nginx/mime.types (the same entries as nginx 1.22's
// conf/mime.types). "include mime.types" reads it when the configuration
// directory has no such file, so that a configuration written for
// /etc/nginx keeps its types wherever it is checked or served. It is
// embedded as the file itself, not a Go table, so that it goes through the
// parser and the types block exactly as the real file would.
//
//go:embed mime.types
var builtinMimeTypes []byte
