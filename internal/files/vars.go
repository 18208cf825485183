package files

import "wsgate/internal/vars"

// This file gives the variables of the file system view of a location:
// $document_root, $realpath_root and $request_filename (vars.PathVars).

// AppendDocumentRoot appends the location's root or alias, evaluated for
// c and made absolute (ngx_http_variable_document_root).
func (h *Handler) AppendDocumentRoot(dst []byte, c *vars.Ctx) []byte {
	s := state{h: h, vc: c}
	return s.appendRoot(dst)
}

// AppendFilename appends the path of c.URI under the root or alias
// (ngx_http_variable_request_filename, ngx_http_map_uri_to_path); ok is
// false when an alias's location name is longer than the URI.
func (h *Handler) AppendFilename(dst []byte, c *vars.Ctx) ([]byte, bool) {
	s := state{h: h, vc: c, uri: c.URI}
	return s.appendPath(dst)
}

var _ vars.PathVars = (*Handler)(nil)
