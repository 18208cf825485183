package snapshot

import (
	"testing"

	"wsgate/internal/config"
	"wsgate/internal/vars"
)

// seedHandshake is the browser handshake of reference §9.1.
const seedHandshake = `Host: example.com
Connection: Upgrade
Pragma: no-cache
Cache-Control: no-cache
User-Agent: Mozilla/5.0 test
Upgrade: websocket
Origin: http://example.com
Sec-WebSocket-Version: 13
Accept-Encoding: gzip, deflate, br
Accept-Language: en-US,en;q=0.9
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits
`

func seedWSConf() *config.LocConf {
	return &config.LocConf{
		ProxyPass:        &config.ProxyPass{Raw: "http://localhost:8080", Scheme: "http", Host: "localhost", Port: "8080"},
		ProxyHTTPVersion: "1.1",
		ProxySetHeaders: []config.HeaderSet{
			{Name: "Upgrade", Value: "$http_upgrade"},
			{Name: "Connection", Value: "upgrade"},
			{Name: "Host", Value: "$host"},
		},
		ProxyPassRequestHeaders: true,
		ServerTokens:            true,
		WS:                      config.WSConf{Upgrade: true},
	}
}

func seedRootConf() *config.LocConf {
	return &config.LocConf{
		ProxyPass:               &config.ProxyPass{Raw: "http://localhost:3000", Scheme: "http", Host: "localhost", Port: "3000"},
		ProxyHTTPVersion:        "1.0",
		ProxyPassRequestHeaders: true,
		ServerTokens:            true,
		AbsoluteRedirect:        true,
		PortInRedirect:          true,
		WS:                      config.WSConf{Upgrade: true},
	}
}

func TestAppendRequest(t *testing.T) {
	env := map[string]string{"http_upgrade": "websocket", "host": "example.com", "empty": ""}
	tests := []struct {
		name    string
		lc      *config.LocConf
		method  string
		target  string
		headers string
		bodyLen int64
		chunked bool
		upgrade bool
		want    string
	}{
		{
			// §9.1, byte for byte.
			name: "seed handshake", lc: seedWSConf(), method: "GET", target: "/ws/chat?room=1",
			headers: seedHandshake, bodyLen: -1, upgrade: true,
			want: `GET /ws/chat?room=1 HTTP/1.1
Upgrade: websocket
Connection: upgrade
Host: example.com
Pragma: no-cache
Cache-Control: no-cache
User-Agent: Mozilla/5.0 test
Origin: http://example.com
Sec-WebSocket-Version: 13
Accept-Encoding: gzip, deflate, br
Accept-Language: en-US,en;q=0.9
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits

`,
		},
		{
			// §9.2, byte for byte.
			name: "seed plain get", lc: seedRootConf(), method: "GET", target: "/",
			headers: `Host: example.com
Connection: keep-alive
User-Agent: Mozilla/5.0 test
Accept: text/html
Accept-Encoding: gzip, deflate, br
Keep-Alive: 300
TE: trailers
Proxy-Connection: keep-alive
X-Forwarded-For: 192.0.2.1
Upgrade: h2c
X-Hop: 1
`, bodyLen: -1,
			want: `GET / HTTP/1.0
Host: localhost:3000
Connection: close
User-Agent: Mozilla/5.0 test
Accept: text/html
Accept-Encoding: gzip, deflate, br
Proxy-Connection: keep-alive
X-Forwarded-For: 192.0.2.1
X-Hop: 1

`,
		},
		{
			// §9.3: Expect dropped, Content-Length from the client's.
			name: "seed post", lc: seedRootConf(), method: "POST", target: "/p%2Fq/../r?a=%2F",
			headers: "Host: example.com\nExpect: 100-continue\nContent-Length: 3\n", bodyLen: 3,
			want: "POST /p%2Fq/../r?a=%2F HTTP/1.0\nHost: localhost:3000\nConnection: close\nContent-Length: 3\n\n",
		},
		{
			name: "content-length zero is sent", lc: seedRootConf(), method: "POST", target: "/",
			headers: "Content-Length: 0\n", bodyLen: 0,
			want: "POST / HTTP/1.0\nHost: localhost:3000\nConnection: close\nContent-Length: 0\n\n",
		},
		{
			// §9.3: a handshake through "location /" gets the defaults in
			// nginx; wsgate's upgrade variant speaks 1.1 and passes it.
			name: "upgrade variant without config lines", lc: seedRootConf(), method: "GET", target: "/socket",
			headers: seedHandshake, bodyLen: -1, upgrade: true,
			want: `GET /socket HTTP/1.1
Host: localhost:3000
Connection: upgrade
Upgrade: websocket
Pragma: no-cache
Cache-Control: no-cache
User-Agent: Mozilla/5.0 test
Origin: http://example.com
Sec-WebSocket-Version: 13
Accept-Encoding: gzip, deflate, br
Accept-Language: en-US,en;q=0.9
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits

`,
		},
		{
			name: "handshake through location / as nginx", lc: seedRootConf(), method: "GET", target: "/socket",
			headers: "Host: example.com\nConnection: Upgrade\nUpgrade: websocket\nSec-WebSocket-Key: k\n", bodyLen: -1,
			want: "GET /socket HTTP/1.0\nHost: localhost:3000\nConnection: close\nSec-WebSocket-Key: k\n\n",
		},
		{
			name: "empty evaluated value omits the line, literal empty removes the header",
			lc: &config.LocConf{
				ProxyPass:        &config.ProxyPass{Scheme: "http", Host: "b"},
				ProxyHTTPVersion: "1.0",
				ProxySetHeaders: []config.HeaderSet{
					{Name: "X-Empty", Value: "$empty"},
					{Name: "User-Agent", Value: ""},
					{Name: "X-Const", Value: "c"},
					{Name: "x-forwarded-for", Value: "$host"},
				},
				ProxyPassRequestHeaders: true,
			},
			method: "GET", target: "/", bodyLen: -1,
			headers: "User-Agent: ua\nX-Empty: client\nX-Forwarded-For: 1.2.3.4\nX-Other: o\nx-const: dup\n",
			want:    "GET / HTTP/1.0\nX-Const: c\nx-forwarded-for: example.com\nHost: b\nConnection: close\nX-Other: o\n\n",
		},
		{
			name: "overriding Host and Connection case-insensitively",
			lc: &config.LocConf{
				ProxyPass:               &config.ProxyPass{Scheme: "http", Host: "b", Port: "80"},
				ProxyHTTPVersion:        "1.1",
				ProxySetHeaders:         []config.HeaderSet{{Name: "connection", Value: ""}, {Name: "HOST", Value: "h"}},
				ProxyPassRequestHeaders: true,
			},
			method: "GET", target: "/", bodyLen: -1,
			headers: "host: x\nConnection: keep-alive\nA: 1\nA: 2\n",
			want:    "GET / HTTP/1.1\nHOST: h\nA: 1\nA: 2\n\n",
		},
		{
			name: "chunked body with HTTP/1.1",
			lc: &config.LocConf{
				ProxyPass: &config.ProxyPass{Scheme: "http", Host: "b"}, ProxyHTTPVersion: "1.1", ProxyPassRequestHeaders: true,
			},
			method: "POST", target: "/", bodyLen: -1, chunked: true,
			headers: "Transfer-Encoding: chunked\nX: y\n",
			want:    "POST / HTTP/1.1\nHost: b\nConnection: close\nTransfer-Encoding: chunked\nX: y\n\n",
		},
		{
			name: "chunked body spooled for HTTP/1.0",
			lc: &config.LocConf{
				ProxyPass: &config.ProxyPass{Scheme: "http", Host: "b"}, ProxyHTTPVersion: "1.0", ProxyPassRequestHeaders: true,
			},
			method: "POST", target: "/", bodyLen: 11, chunked: true,
			headers: "Transfer-Encoding: chunked\n",
			want:    "POST / HTTP/1.0\nHost: b\nConnection: close\nContent-Length: 11\n\n",
		},
		{
			name:   "proxy_pass_request_headers off",
			lc:     &config.LocConf{ProxyPass: &config.ProxyPass{Scheme: "http", Host: "b"}, ProxyHTTPVersion: "1.0"},
			method: "GET", target: "/", bodyLen: -1, headers: "A: 1\n",
			want: "GET / HTTP/1.0\nHost: b\nConnection: close\n\n",
		},
		{
			name: "upgrade variant keeps configured Connection",
			lc: &config.LocConf{
				ProxyPass:               &config.ProxyPass{Scheme: "http", Host: "b"},
				ProxyHTTPVersion:        "1.0",
				ProxySetHeaders:         []config.HeaderSet{{Name: "Connection", Value: "$http_upgrade"}},
				ProxyPassRequestHeaders: true,
				WS:                      config.WSConf{Upgrade: true},
			},
			method: "GET", target: "/", bodyLen: -1, upgrade: true,
			headers: "Upgrade: websocket\nConnection: Upgrade\n",
			want:    "GET / HTTP/1.1\nConnection: websocket\nHost: b\nUpgrade: websocket\n\n",
		},
		{
			name: "ws_upgrade off ignores the upgrade flag",
			lc: &config.LocConf{
				ProxyPass: &config.ProxyPass{Scheme: "http", Host: "b"}, ProxyHTTPVersion: "1.0", ProxyPassRequestHeaders: true,
			},
			method: "GET", target: "/", bodyLen: -1, upgrade: true,
			headers: "Upgrade: websocket\n",
			want:    "GET / HTTP/1.0\nHost: b\nConnection: close\n\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := NewHeaderPlan(tc.lc, compileWith(env))
			if err != nil {
				t.Fatal(err)
			}
			req := &UpstreamRequest{
				Method: []byte(tc.method), Target: []byte(tc.target), Headers: parseHead(t, tc.headers),
				BodyLength: tc.bodyLen, Chunked: tc.chunked, Upgrade: tc.upgrade,
			}
			got := plan.AppendRequest(nil, req)
			diffBytes(t, got, []byte(crlf(tc.want)))
		})
	}
}

func TestAppendRequestVariableProxyPass(t *testing.T) {
	lc := &config.LocConf{
		ProxyPass:        &config.ProxyPass{Raw: "http://$b$request_uri", Scheme: "http", HasVars: true},
		ProxyHTTPVersion: "1.0", ProxyPassRequestHeaders: true,
	}
	plan, err := NewHeaderPlan(lc, compileWith(nil))
	if err != nil {
		t.Fatal(err)
	}
	u, err := ParsePassURL([]byte("http://backend:8081/x"))
	if err != nil {
		t.Fatal(err)
	}
	got := plan.AppendRequest(nil, &UpstreamRequest{
		Method: []byte("GET"), Target: u.URI, ProxyHost: u.ProxyHost(), BodyLength: -1,
		Headers: parseHead(t, "Host: c\n"),
	})
	diffBytes(t, got, []byte(crlf("GET /x HTTP/1.0\nHost: backend:8081\nConnection: close\n\n")))
}

func TestAppendRequestAllocs(t *testing.T) {
	plan, err := NewHeaderPlan(seedWSConf(), compileWith(map[string]string{"http_upgrade": "websocket", "host": "example.com"}))
	if err != nil {
		t.Fatal(err)
	}
	req := &UpstreamRequest{
		Method: []byte("GET"), Target: []byte("/ws/chat?room=1"), Headers: parseHead(t, seedHandshake),
		BodyLength: -1, Upgrade: true,
	}
	buf := make([]byte, 0, 4096)
	allocs := testing.AllocsPerRun(100, func() {
		buf = plan.AppendRequest(buf[:0], req)
	})
	if allocs != 0 {
		t.Errorf("got %v allocs per request; want 0", allocs)
	}
}

func BenchmarkAppendRequestSeedHandshake(b *testing.B) {
	plan, err := NewHeaderPlan(seedWSConf(), compileWith(map[string]string{"http_upgrade": "websocket", "host": "example.com"}))
	if err != nil {
		b.Fatal(err)
	}
	rule := NewTargetRule(seedWSConf().ProxyPass, "/ws/", false)
	ct := &ClientTarget{RequestURI: []byte("/ws/chat?room=1"), URI: []byte("/ws/chat"), Args: []byte("room=1")}
	req := &UpstreamRequest{Method: []byte("GET"), Headers: parseHead(b, seedHandshake), BodyLength: -1, Upgrade: true}
	target := make([]byte, 0, 256)
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		target, _ = rule.Append(target[:0], ct, nil)
		req.Target = target
		buf = plan.AppendRequest(buf[:0], req)
	}
	b.SetBytes(int64(len(buf)))
}

// TestAppendRequestWithVars runs the seed handshake through the real
// variables package, including the canonical $connection_upgrade map.
func TestAppendRequestWithVars(t *testing.T) {
	maps := []*config.Map{{
		Source: "$http_upgrade", Var: "connection_upgrade", Default: "upgrade",
		Entries: []config.MapEntry{{Key: "", Value: "close"}},
	}}
	vc, err := vars.NewCompiler(maps)
	if err != nil {
		t.Fatal(err)
	}
	lc := seedWSConf()
	lc.ProxySetHeaders[1].Value = "$connection_upgrade"
	lc.ProxySetHeaders = append(lc.ProxySetHeaders, config.HeaderSet{Name: "X-Forwarded-For", Value: "$proxy_add_x_forwarded_for"})
	plan, err := NewHeaderPlan(lc, CompileWith(vc))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		headers []vars.Header
		want    string
	}{
		{
			name:    "handshake",
			headers: []vars.Header{{Name: "Host", Value: "Example.com"}, {Name: "Upgrade", Value: "websocket"}, {Name: "X-Forwarded-For", Value: "192.0.2.1"}},
			want:    "GET /ws/x HTTP/1.1\nUpgrade: websocket\nConnection: upgrade\nHost: example.com\nX-Forwarded-For: 192.0.2.1, 127.0.0.1\n\n",
		},
		{
			name:    "no upgrade header",
			headers: []vars.Header{{Name: "Host", Value: "example.com"}, {Name: "Accept", Value: "*/*"}},
			want:    "GET /ws/x HTTP/1.1\nConnection: close\nHost: example.com\nX-Forwarded-For: 127.0.0.1\nAccept: */*\n\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := &vars.Ctx{Method: "GET", RequestURI: "/ws/x", URI: "/ws/x", Host: "example.com",
				Headers: tc.headers, RemoteAddr: "127.0.0.1", Proxied: true, ProxyHost: "localhost:8080", ProxyPort: "8080"}
			var f Fields
			for _, h := range tc.headers {
				f = append(f, Field{Name: []byte(h.Name), Value: []byte(h.Value)})
			}
			got := plan.AppendRequest(nil, &UpstreamRequest{
				Method: []byte("GET"), Target: []byte("/ws/x"), Headers: &f, BodyLength: -1, Vars: ctx,
			})
			diffBytes(t, got, []byte(crlf(tc.want)))
		})
	}
}

func BenchmarkAppendRequestSeedHandshakeVars(b *testing.B) {
	vc, err := vars.NewCompiler(nil)
	if err != nil {
		b.Fatal(err)
	}
	plan, err := NewHeaderPlan(seedWSConf(), CompileWith(vc))
	if err != nil {
		b.Fatal(err)
	}
	f := parseHead(b, seedHandshake)
	vh := make([]vars.Header, 0, len(*f))
	for _, h := range *f {
		vh = append(vh, vars.Header{Name: string(h.Name), Value: string(h.Value)})
	}
	ctx := &vars.Ctx{Method: "GET", RequestURI: "/ws/chat?room=1", URI: "/ws/chat", Args: "room=1", HasArgs: true,
		Host: "example.com", Headers: vh, Proxied: true, ProxyHost: "localhost:8080", ProxyPort: "8080"}
	req := &UpstreamRequest{Method: []byte("GET"), Target: []byte("/ws/chat?room=1"), Headers: f, BodyLength: -1, Upgrade: true, Vars: ctx}
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = plan.AppendRequest(buf[:0], req)
	}
	b.SetBytes(int64(len(buf)))
}
