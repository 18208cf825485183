package config

import "strings"

// Module is one of nginx's build options as configure names it
// ("http_rewrite_module" for --with-http_rewrite_module and
// --without-http_rewrite_module; "http-cache" for --without-http-cache).
type Module struct {
	Name string
	// Default: nginx builds it unless told not to (a --without option).
	Default bool
	// Probe is a directive of the module; wsgate has the module when the
	// directive table implements Probe (neither unknown, nor accepted with
	// a notice, nor refused as not supported). Implementing a module's
	// directives is then all it takes for -V to claim it.
	Probe string
}

// nginxModules lists nginx 1.22's HTTP build options that bear on what a
// configuration may say, with the directive that shows whether wsgate has
// each.
var nginxModules = []Module{
	{"http_ssl_module", false, "ssl_certificate"},
	{"http_v2_module", false, "http2_max_concurrent_streams"},
	{"http_v3_module", false, "http3_max_concurrent_streams"},
	{"http_realip_module", false, "set_real_ip_from"},
	{"http_addition_module", false, "add_before_body"},
	{"http_xslt_module", false, "xslt_stylesheet"},
	{"http_image_filter_module", false, "image_filter"},
	{"http_geoip_module", false, "geoip_country"},
	{"http_sub_module", false, "sub_filter"},
	{"http_dav_module", false, "dav_methods"},
	{"http_flv_module", false, "flv"},
	{"http_mp4_module", false, "mp4"},
	{"http_gunzip_module", false, "gunzip"},
	{"http_gzip_static_module", false, "gzip_static"},
	{"http_auth_request_module", false, "auth_request"},
	{"http_random_index_module", false, "random_index"},
	{"http_secure_link_module", false, "secure_link"},
	{"http_slice_module", false, "slice"},
	{"http_stub_status_module", false, "stub_status"},
	{"http_perl_module", false, "perl"},
	{"stream", false, "stream"},
	{"mail", false, "mail"},
	{"http_charset_module", true, "charset"},
	{"http_gzip_module", true, "gzip"},
	// "ssi off" is read, but no include is processed: the module is
	// not claimed (ssi_silent_errors is accepted with a notice only).
	{"http_ssi_module", true, "ssi_silent_errors"},
	{"http_userid_module", true, "userid"},
	{"http_access_module", true, "allow"},
	{"http_auth_basic_module", true, "auth_basic"},
	{"http_mirror_module", true, "mirror"},
	{"http_autoindex_module", true, "autoindex"},
	{"http_geo_module", true, "geo"},
	{"http_map_module", true, "map"},
	{"http_split_clients_module", true, "split_clients"},
	{"http_referer_module", true, "valid_referers"},
	{"http_rewrite_module", true, "rewrite"},
	{"http_proxy_module", true, "proxy_pass"},
	{"http_fastcgi_module", true, "fastcgi_pass"},
	{"http_uwsgi_module", true, "uwsgi_pass"},
	{"http_scgi_module", true, "scgi_pass"},
	{"http_grpc_module", true, "grpc_pass"},
	{"http_memcached_module", true, "memcached_pass"},
	{"http_limit_conn_module", true, "limit_conn"},
	{"http_limit_req_module", true, "limit_req"},
	{"http_empty_gif_module", true, "empty_gif"},
	{"http_browser_module", true, "modern_browser"},
	{"http_upstream_hash_module", true, "hash"},
	{"http_upstream_ip_hash_module", true, "ip_hash"},
	{"http_upstream_least_conn_module", true, "least_conn"},
	{"http_upstream_random_module", true, "random"},
	{"http_upstream_keepalive_module", true, "keepalive"},
	{"http_upstream_zone_module", true, "zone"},
	{"http-cache", true, "proxy_cache"},
}

// addModules are the third-party modules that configure takes as
// --add-module=PATH (Name is the path), claimed when built.
// headers-more is named as OpenResty's configure line names it
// (--add-module=../headers-more-nginx-module-0.34): tools that look for
// the module in nginx -V find "headers-more-nginx-module".
var addModules = []Module{
	{"../headers-more-nginx-module", false, "more_set_headers"},
}

// built reports whether wsgate has module m (see Module.Probe).
func (m Module) built(t map[string]*directive) bool {
	d := t[m.Probe]
	return d != nil && !d.ignored && d.instead == "" && (d.set != nil || d.block)
}

// ConfigureArgs is the "configure arguments" line of -V, in nginx's form,
// derived from the directive table: --with-X for each module wsgate has
// that nginx builds only when asked, then --without-X for each that nginx
// builds by default and wsgate does not have, then --add-module=PATH for
// the third-party modules wsgate has. Tools that parse nginx -V
// then see the modules that work, no more and no less.
func ConfigureArgs() string {
	t := directiveTable()
	var with, without, add []string
	for _, m := range addModules {
		if m.built(t) {
			add = append(add, "--add-module="+m.Name)
		}
	}
	for _, m := range nginxModules {
		switch b := m.built(t); {
		case b && !m.Default:
			with = append(with, "--with-"+m.Name)
		case !b && m.Default:
			without = append(without, "--without-"+m.Name)
		}
	}
	return strings.Join(append(append(with, without...), add...), " ")
}
