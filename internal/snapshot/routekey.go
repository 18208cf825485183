package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"reflect"
	"sort"
	"strconv"
	"time"

	"wsgate/internal/config"
)

// A route key decides which tunnels a reload keeps: a tunnel stays open
// when its route's key is in the new snapshot, and is closed with a Close
// frame (ws_reload_close_code) otherwise. The key is derived from the whole
// configuration of the route, never from a list of fields kept by hand: it
// hashes, by reflection, every field of
//
//   - the server block (its listen and server_name lines and settings),
//   - the location (match and path),
//   - the location's effective configuration (config.LocConf, which holds
//     everything inherited), and
//   - the named upstream the location proxies to, if any,
//
// except positions (config.Pos: moving a block in the file keeps the key),
// nested blocks (config.Location.Locations, config.Server.Locations and
// config.Server.Named: a sibling, child or named location is another route) and the fields tagged
// `reload:"keep"`. That tag is the one way to leave a setting out, and it
// says, beside the field, that the setting cannot change what an open
// tunnel does or where it goes (a request-body limit, a log format, a lint
// flag). A new setting therefore takes part in the key until somebody
// decides otherwise; TestRouteKeyCoversEveryField checks that each field
// either changes the key or carries the tag.
//
// Maps (http-level map blocks) are not part of any key: a map is shared by
// every route, and closing all tunnels for a changed map line would make
// the common "map $http_upgrade $connection_upgrade" edit a reload storm.

// keepTag is the struct tag that leaves a field out of route keys.
const keepTag = "keep"

var (
	posType      = reflect.TypeFor[config.Pos]()
	durationType = reflect.TypeFor[time.Duration]()
	locationType = reflect.TypeFor[config.Location]()
	serverType   = reflect.TypeFor[config.Server]()
)

// routeKey is the key of loc, which proxies to the named upstream up (nil
// for an implicit upstream, variables in proxy_pass, or no proxy_pass).
func routeKey(loc *Loc, up *config.Upstream) string {
	h := sha256.New()
	writeValue(h, "server", reflect.ValueOf(loc.Server).Elem())
	if loc.Location != nil {
		writeValue(h, "location", reflect.ValueOf(loc.Location).Elem())
	}
	writeValue(h, "conf", reflect.ValueOf(loc.Conf).Elem())
	if up != nil {
		writeValue(h, "upstream", reflect.ValueOf(up).Elem())
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// skipField reports whether f is left out of route keys.
func skipField(owner reflect.Type, f reflect.StructField) bool {
	if f.Type == posType || f.Tag.Get("reload") == keepTag || !f.IsExported() {
		return true
	}
	// A block's nested and named locations are routes of their own, and its Conf is
	// hashed as the route's effective configuration (for a server, the
	// server-level route's; a location's settings inherit from it).
	switch owner {
	case locationType, serverType:
		return f.Name == "Locations" || f.Name == "Named" || f.Name == "Conf"
	}
	return false
}

// writeValue writes a canonical text of v, named path, to h: one line per
// scalar ("path=value"), so that values cannot run into each other.
func writeValue(h hash.Hash, path string, v reflect.Value) {
	if v.Type() == durationType {
		fmt.Fprintf(h, "%s=%d\n", path, v.Int())
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if skipField(t, f) {
				continue
			}
			writeValue(h, path+"."+f.Name, v.Field(i))
		}
	case reflect.Pointer:
		if v.IsNil() {
			fmt.Fprintf(h, "%s=nil\n", path)
			return
		}
		writeValue(h, path, v.Elem())
	case reflect.Slice, reflect.Array:
		fmt.Fprintf(h, "%s#=%d\n", path, v.Len())
		for i := 0; i < v.Len(); i++ {
			writeValue(h, path+"["+strconv.Itoa(i)+"]", v.Index(i))
		}
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		fmt.Fprintf(h, "%s#=%d\n", path, len(keys))
		for _, k := range keys {
			writeValue(h, path+"["+fmt.Sprint(k)+"]", v.MapIndex(k))
		}
	case reflect.String:
		fmt.Fprintf(h, "%s=%q\n", path, v.String())
	case reflect.Bool:
		fmt.Fprintf(h, "%s=%t\n", path, v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		fmt.Fprintf(h, "%s=%d\n", path, v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		fmt.Fprintf(h, "%s=%d\n", path, v.Uint())
	case reflect.Float32, reflect.Float64:
		fmt.Fprintf(h, "%s=%g\n", path, v.Float())
	default:
		// Funcs, channels and interfaces have no place in config.Spec,
		// which is plain data; a field of such a type must be tagged.
		panic(fmt.Sprintf("route key: %s has kind %s, which has no canonical form; tag it reload:\"keep\" or give it a plain type", path, v.Kind()))
	}
}
