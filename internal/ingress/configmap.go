package ingress

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"wsgate/internal/config"
)

// globalConf is the controller's ConfigMap, with ingress-nginx's defaults
// for the keys that are not set.
type globalConf struct {
	readTimeout, sendTimeout, connectTimeout value
	bodySize, httpVersion                    value
	sslRedirect, forceSSLRedirect            value
	loadBalance                              value
	useForwardedHeaders                      bool
	computeFullForwardedFor                  bool
	forwardedForHeader                       string
	realIPCIDRs                              []string
	realIPPos                                config.Pos
	logFormat                                value
	logEscape                                string
	accessLogOff                             bool
	allowSnippets                            bool
	httpSnippet, serverSnippet, locSnippet   []*config.Directive
	// ShutdownTimeout is worker-shutdown-timeout: how long a graceful
	// stop may take (ws_drain_window spreads the Close frames within it).
	shutdownTimeout time.Duration
	// keys records which key each statement came from (its origin's File).
	notices []string
}

// defaultLogFormat is ingress-nginx's log-format-upstream, less the
// variables that only its Lua balancer sets ($proxy_upstream_name,
// $proxy_alternative_upstream_name, $req_id), with $request_id for $req_id.
const defaultLogFormat = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $request_id`

// configMapKeys says what is done with each ConfigMap key wsgate-ingress
// knows; every other key is listed once as unknown.
var configMapNoticed = map[string]string{
	"use-gzip": "responses go out as the backend sent them", "gzip-level": "", "gzip-min-length": "", "gzip-types": "",
	"enable-brotli": "", "brotli-level": "", "brotli-types": "",
	"proxy-buffering": "wsgate streams; WebSockets are never buffered", "proxy-buffer-size": "", "proxy-buffers-number": "",
	"proxy-busy-buffers-size": "", "proxy-request-buffering": "", "client-body-buffer-size": "",
	"worker-processes": "wsgate runs one process with an event loop per core", "max-worker-connections": "",
	"max-worker-open-files": "", "worker-cpu-affinity": "", "use-http2": "", "enable-real-ip": "use use-forwarded-headers",
	"annotations-risk-level":         "snippets are parsed by wsgate's own parser; allow-snippet-annotations decides",
	"upstream-keepalive-connections": "", "upstream-keepalive-timeout": "", "upstream-keepalive-requests": "",
	"keep-alive": "", "keep-alive-requests": "", "ssl-protocols": "", "ssl-ciphers": "", "hsts": "", "hsts-max-age": "",
	"hsts-include-subdomains": "", "hsts-preload": "", "server-tokens": "", "enable-opentelemetry": "", "enable-opentracing": "",
}

// parseConfigMap reads the controller's ConfigMap (nil: all defaults).
// Bad values are noticed and the default kept: a ConfigMap key never takes
// the controller down.
func parseConfigMap(data map[string]string, key string) *globalConf {
	g := &globalConf{
		readTimeout:        value{s: "60s", set: true},
		sendTimeout:        value{s: "60s", set: true},
		connectTimeout:     value{s: "5s", set: true},
		bodySize:           value{s: "1m", set: true},
		httpVersion:        value{s: "1.1", set: true},
		sslRedirect:        value{s: "true", set: true},
		forceSSLRedirect:   value{s: "false", set: true},
		forwardedForHeader: "X-Forwarded-For",
		realIPCIDRs:        []string{"0.0.0.0/0", "::/0"},
		logFormat:          value{s: defaultLogFormat, set: true},
		logEscape:          "default",
		shutdownTimeout:    240 * time.Second,
	}
	pos := func(k string) config.Pos { return origin("ConfigMap " + key + " key " + k) }
	note := func(k, msg string) { g.notices = append(g.notices, "ConfigMap "+key+" key "+k+": "+msg) }
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := strings.TrimSpace(data[k])
		switch k {
		case "proxy-read-timeout", "proxy-send-timeout", "proxy-connect-timeout":
			if n, err := strconv.Atoi(v); err != nil || n < 0 {
				note(k, strconv.Quote(v)+" is not a number of seconds; the default is kept")
				continue
			}
			val := value{s: v + "s", pos: pos(k), set: true}
			switch k {
			case "proxy-read-timeout":
				g.readTimeout = val
			case "proxy-send-timeout":
				g.sendTimeout = val
			default:
				g.connectTimeout = val
			}
		case "proxy-body-size":
			if _, ok := config.ParseSize(v); !ok {
				note(k, strconv.Quote(v)+" is not a size; the default is kept")
				continue
			}
			g.bodySize = value{s: v, pos: pos(k), set: true}
		case "proxy-http-version":
			if v != "1.0" && v != "1.1" {
				note(k, strconv.Quote(v)+" is neither 1.0 nor 1.1; the default is kept")
				continue
			}
			g.httpVersion = value{s: v, pos: pos(k), set: true}
		case "ssl-redirect", "force-ssl-redirect", "use-forwarded-headers", "compute-full-forwarded-for",
			"allow-snippet-annotations", "enable-access-log-for-default-backend", "disable-access-log":
			b, err := strconv.ParseBool(v)
			if err != nil {
				note(k, strconv.Quote(v)+" is not true or false; the default is kept")
				continue
			}
			switch k {
			case "ssl-redirect":
				g.sslRedirect = value{s: strconv.FormatBool(b), pos: pos(k), set: true}
			case "force-ssl-redirect":
				g.forceSSLRedirect = value{s: strconv.FormatBool(b), pos: pos(k), set: true}
			case "use-forwarded-headers":
				g.useForwardedHeaders = b
			case "compute-full-forwarded-for":
				g.computeFullForwardedFor = b
			case "allow-snippet-annotations":
				g.allowSnippets = b
			case "disable-access-log":
				g.accessLogOff = b
			default:
				note(k, "accepted and ignored")
			}
		case "load-balance":
			switch v {
			case "round_robin":
			case "ewma":
				g.loadBalance = value{s: v, pos: pos(k), set: true}
				note(k, "ewma is served as least_conn (fewest open connections and tunnels)")
			default:
				note(k, strconv.Quote(v)+" is neither round_robin nor ewma; round_robin is kept")
			}
		case "forwarded-for-header":
			g.forwardedForHeader = v
		case "proxy-real-ip-cidr":
			g.realIPCIDRs = nil
			for _, c := range strings.Split(v, ",") {
				if c = strings.TrimSpace(c); c != "" {
					g.realIPCIDRs = append(g.realIPCIDRs, c)
				}
			}
			g.realIPPos = pos(k)
		case "log-format-upstream":
			g.logFormat = value{s: v, pos: pos(k), set: true}
		case "log-format-escape-json", "log-format-escape-none":
			if b, _ := strconv.ParseBool(v); b {
				g.logEscape = strings.TrimPrefix(k, "log-format-escape-")
			}
		case "worker-shutdown-timeout":
			d, ok := config.ParseTime(v, true)
			if !ok {
				note(k, strconv.Quote(v)+" is not a time; 240s is kept")
				continue
			}
			g.shutdownTimeout = d
		case "http-snippet", "server-snippet", "location-snippet":
			ast, errs := config.ParseText("ConfigMap "+key+" key "+k, []byte(v))
			if len(errs) > 0 {
				note(k, "left out: "+errs.Error())
				continue
			}
			switch k {
			case "http-snippet":
				g.httpSnippet = ast.Main
			case "server-snippet":
				g.serverSnippet = ast.Main
			default:
				g.locSnippet = ast.Main
			}
		default:
			if why, ok := configMapNoticed[k]; ok {
				if why == "" {
					why = "nothing to tune in wsgate"
				}
				note(k, "accepted and ignored: "+why)
				continue
			}
			note(k, "unknown key: ignored")
		}
	}
	return g
}
