package demo

import (
	_ "embed"
	"encoding/json"
	"net/http"
)

//go:embed page.html
var page []byte

// app is the HTTP application the tutorial runs on :3000: the demo page
// and two small endpoints it and scripts use.
//   - GET /                the page (inline CSS and JS, nothing external)
//   - GET /demo/observed   what wsgate reported, as a JSON array of Observed
//   - GET /demo/config     the configuration wsgate is running, as text
type app struct {
	obs  *observer
	conf string
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed\n", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	switch r.URL.Path {
	case "/", "/index.html":
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:")
		w.Write(page)
	case "/demo/observed":
		h.Set("Content-Type", "application/json")
		list := a.obs.snapshot()
		if list == nil {
			list = []Observed{}
		}
		json.NewEncoder(w).Encode(list)
	case "/demo/config":
		h.Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte(a.conf))
	default:
		http.Error(w, "not found: this demo app serves /, /demo/observed and /demo/config\n", http.StatusNotFound)
	}
}
