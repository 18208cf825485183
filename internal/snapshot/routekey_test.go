package snapshot

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"wsgate/internal/config"
	"wsgate/internal/upstream"
)

// sampleLoc is a route with every kind of field set to a non-zero value,
// so that each mutation below is a real change.
func sampleLoc() (*Loc, *config.Upstream) {
	srv := &config.Server{
		Listens: []config.Listen{{Addr: "127.0.0.1:80"}},
		Names:   []config.ServerName{{Name: "example.com"}},
	}
	l := &config.Location{Match: config.MatchPrefix, Path: "/ws/"}
	l.Conf = config.LocConf{
		ProxyPass:        &config.ProxyPass{Raw: "http://backend", Scheme: "http", Host: "backend", Upstream: "backend"},
		ProxyHTTPVersion: "1.1",
		ProxySetHeaders:  []config.HeaderSet{{Name: "Upgrade", Value: "$http_upgrade"}},
		ProxyReadTimeout: time.Hour,
		WS:               config.WSConf{Upgrade: true, ReloadClose: 1012, DrainWindow: 10 * time.Second},
	}
	srv.Locations = []*config.Location{l}
	up := &config.Upstream{Name: "backend", Servers: []config.UpstreamServer{{Addr: "127.0.0.1:8080", Weight: 1}}}
	return &Loc{Conf: &l.Conf, Location: l, Server: srv}, up
}

// field is one settable field reached from a route, with the struct it
// belongs to.
type field struct {
	path  string
	owner reflect.Type
	sf    reflect.StructField
	get   func(loc *Loc, up *config.Upstream) reflect.Value
}

// fieldsOf lists every field below t (a struct type), following structs,
// pointers to structs and slices of structs, as writeValue does. A type
// met again below itself (an if block's instructions hold instructions)
// is not followed again: its fields are listed where it was first met.
func fieldsOf(path string, t reflect.Type, get func(*Loc, *config.Upstream) reflect.Value, above ...reflect.Type) []field {
	for _, a := range above {
		if a == t {
			return nil
		}
	}
	above = append(above[:len(above):len(above)], t)
	var out []field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		i := i
		g := func(loc *Loc, up *config.Upstream) reflect.Value { return get(loc, up).Field(i) }
		out = append(out, field{path: path + "." + sf.Name, owner: t, sf: sf, get: g})
		if skipField(t, sf) || sf.Type == durationType {
			continue
		}
		switch ft := sf.Type; {
		case ft.Kind() == reflect.Struct:
			out = append(out, fieldsOf(path+"."+sf.Name, ft, g, above...)...)
		case ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct:
			out = append(out, fieldsOf(path+"."+sf.Name, ft.Elem(), func(loc *Loc, up *config.Upstream) reflect.Value {
				v := g(loc, up)
				if v.IsNil() {
					v.Set(reflect.New(ft.Elem()))
				}
				return v.Elem()
			}, above...)...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			out = append(out, fieldsOf(path+"."+sf.Name+"[0]", ft.Elem(), func(loc *Loc, up *config.Upstream) reflect.Value {
				v := g(loc, up)
				if v.Len() == 0 {
					v.Set(reflect.Append(v, reflect.New(ft.Elem()).Elem()))
				}
				return v.Index(0)
			}, above...)...)
		}
	}
	return out
}

// mutate changes v to another value of its type; false when it cannot.
func mutate(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(v.Int() + 7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(v.Uint() + 7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(v.Float() + 0.5)
	case reflect.String:
		v.SetString(v.String() + "x")
	case reflect.Slice:
		v.Set(reflect.Append(v, reflect.New(v.Type().Elem()).Elem()))
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		} else {
			v.Set(reflect.Zero(v.Type()))
		}
	case reflect.Struct:
		return false // its fields are mutated one by one
	default:
		return false
	}
	return true
}

// TestRouteKeyCoversEveryField fails when a setting of a server, location,
// LocConf or upstream neither changes the route key nor is tagged
// reload:"keep": a new setting cannot be forgotten by the reload.
func TestRouteKeyCoversEveryField(t *testing.T) {
	roots := []struct {
		name string
		typ  reflect.Type
		get  func(*Loc, *config.Upstream) reflect.Value
	}{
		{"server", serverType, func(l *Loc, _ *config.Upstream) reflect.Value { return reflect.ValueOf(l.Server).Elem() }},
		{"location", locationType, func(l *Loc, _ *config.Upstream) reflect.Value { return reflect.ValueOf(l.Location).Elem() }},
		{"conf", reflect.TypeFor[config.LocConf](), func(l *Loc, _ *config.Upstream) reflect.Value { return reflect.ValueOf(l.Conf).Elem() }},
		{"upstream", reflect.TypeFor[config.Upstream](), func(_ *Loc, u *config.Upstream) reflect.Value { return reflect.ValueOf(u).Elem() }},
	}
	checked := 0
	for _, r := range roots {
		for _, f := range fieldsOf(r.name, r.typ, r.get) {
			if f.sf.Type == posType || !f.sf.IsExported() {
				continue
			}
			nested := f.sf.Name == "Locations" || f.sf.Name == "Named" || (f.sf.Name == "Conf" && (f.owner == serverType || f.owner == locationType))
			t.Run(f.path, func(t *testing.T) {
				loc, up := sampleLoc()
				f.get(loc, up) // materialize pointers and slices on the way
				before := routeKey(loc, up)
				v := f.get(loc, up)
				if !mutate(v) {
					if f.sf.Type.Kind() != reflect.Struct {
						t.Fatalf("cannot mutate a %s; teach mutate its kind", f.sf.Type)
					}
					return
				}
				after := routeKey(loc, up)
				keep := f.sf.Tag.Get("reload") == keepTag
				switch {
				case nested || keep:
					if after != before {
						t.Errorf("changing %s (tagged keep or a nested block) changed the key", f.path)
					}
				case after == before:
					t.Errorf("changing %s left the route key unchanged; hash it, or tag it reload:\"keep\" if it cannot affect an open tunnel", f.path)
				}
			})
			checked++
		}
	}
	if checked < 60 {
		t.Fatalf("checked only %d fields; the walk misses the spec's structure", checked)
	}
}

func TestRouteKeyIgnoresPositions(t *testing.T) {
	a, upA := sampleLoc()
	b, upB := sampleLoc()
	b.Server.Pos = config.Pos{File: "other.conf", Line: 40, Col: 3}
	b.Location.Pos.Line = 41
	b.Conf.ProxySetHeaders[0].Pos.Line = 42
	upB.Servers[0].Pos.Line = 43
	if routeKey(a, upA) != routeKey(b, upB) {
		t.Fatal("moving blocks in the file changed the route key")
	}
}

func TestRouteKeyIgnoresSiblingLocations(t *testing.T) {
	a, up := sampleLoc()
	before := routeKey(a, up)
	a.Server.Locations = append(a.Server.Locations, &config.Location{Path: "/other/"})
	a.Location.Locations = append(a.Location.Locations, &config.Location{Path: "/ws/admin/"})
	a.Server.Conf.ProxyReadTimeout = 5 * time.Second // the server level is a route of its own
	if after := routeKey(a, up); after != before {
		t.Fatal("a new sibling or child location changed the route key")
	}
}

func TestRouteKeyFromConfig(t *testing.T) {
	build := func(t *testing.T, src string) *Snapshot {
		t.Helper()
		path := filepath.Join(t.TempDir(), "t.conf")
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		spec, errs := config.Load(path, config.ParseOptions{})
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		snap, err := Build(t.Context(), spec, &Env{Upstreams: upstream.NewRegistry(upstream.Options{})})
		if err != nil {
			t.Fatal(err)
		}
		return snap
	}
	keyOf := func(s *Snapshot, path string) string {
		for _, l := range s.Locs {
			if l.Location != nil && l.Location.Path == path {
				return l.Key
			}
		}
		t.Fatalf("no location %s", path)
		return ""
	}
	const base = `server { listen 127.0.0.1:8000; location /ws/ { proxy_pass http://127.0.0.1:9000; proxy_read_timeout 1h; %s } location / { proxy_pass http://127.0.0.1:9001; } }`
	cases := []struct {
		desc, extra string
		same        bool
	}{
		{"nothing changed", "", true},
		{"a log format change keeps tunnels", "access_log off;", true},
		{"a body limit keeps tunnels", "client_max_body_size 5m;", true},
		{"a send timeout closes them", "proxy_send_timeout 2h;", false},
		{"a header sent at the handshake closes them", "proxy_set_header X-A b;", false},
		{"a ws setting closes them", "ws_reload_close_code 1001;", false},
	}
	ref := keyOf(build(t, strings.Replace(base, "%s", "", 1)), "/ws/")
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			got := keyOf(build(t, strings.Replace(base, "%s", c.extra, 1)), "/ws/")
			if (got == ref) != c.same {
				t.Errorf("key equal = %v; want %v", got == ref, c.same)
			}
		})
	}
}
