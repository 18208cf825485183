package snapshot

import (
	"fmt"

	"wsgate/internal/config"
)

// ProxyOptions are a proxied location's compiled proxy_method,
// proxy_set_body and proxy_bind, with the settings of its upstream
// connections (ngx_http_proxy_create_request's method and body,
// ngx_http_upstream_set_local).
type ProxyOptions struct {
	// Method is the method sent upstream; nil sends the client's.
	Method Template
	// Body is sent instead of the client's body; nil sends the client's.
	Body Template
	// Bind is the local address of upstream connections; nil binds none.
	// An empty or invalid value binds none either (nginx logs the
	// invalid one).
	Bind        Template
	Transparent bool
	// SocketKeepalive sets SO_KEEPALIVE (proxy_socket_keepalive).
	SocketKeepalive bool
	// LimitRate bounds the reading of a response in bytes per second
	// (proxy_limit_rate); 0: unlimited.
	LimitRate int64
	// IgnoreClientAbort keeps the upstream request going when the
	// client leaves (proxy_ignore_client_abort).
	IgnoreClientAbort bool
}

// newProxyOptions compiles lc's options; the error names the directive.
func newProxyOptions(lc *config.LocConf, compile CompileFunc) (*ProxyOptions, error) {
	o := &ProxyOptions{
		Transparent:       lc.Proxy.Transparent,
		SocketKeepalive:   lc.Proxy.SocketKeepalive,
		LimitRate:         lc.Proxy.LimitRate,
		IgnoreClientAbort: lc.ProxyIgnoreClientAbort,
	}
	var err error
	if lc.Proxy.Method != "" {
		if o.Method, err = compile(lc.Proxy.Method); err != nil {
			return nil, fmt.Errorf("proxy_method: %w", err)
		}
	}
	if lc.Proxy.HasBody {
		if o.Body, err = compile(lc.Proxy.Body); err != nil {
			return nil, fmt.Errorf("proxy_set_body: %w", err)
		}
	}
	if lc.Proxy.Bind != "" {
		if o.Bind, err = compile(lc.Proxy.Bind); err != nil {
			return nil, fmt.Errorf("proxy_bind: %w", err)
		}
	}
	return o, nil
}
