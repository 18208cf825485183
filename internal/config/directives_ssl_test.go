package config

import (
	"strings"
	"testing"
)

// TestSSLDirectives checks what -t says about the ssl_* and proxy_ssl_*
// directives: errors where nginx (or Go) cannot serve what is written,
// notices where Go serves it differently, nothing where it is exact.
func TestSSLDirectives(t *testing.T) {
	const cert = "ssl_certificate c.pem; ssl_certificate_key k.pem; "
	tests := []struct {
		desc, server string
		err, notice  string // substrings; "" for none
	}{
		{desc: "exact", server: cert + "ssl_protocols TLSv1.2; ssl_ciphers ECDHE+AESGCM; ssl_session_tickets off; ssl_session_timeout 10m;"},
		{desc: "unknown cipher", server: cert + "ssl_ciphers ECDHE-RSA-AES128-GCM-SHA265;", err: `unknown cipher "ECDHE-RSA-AES128-GCM-SHA265"`},
		{desc: "no suite left", server: cert + "ssl_ciphers DHE-RSA-AES128-GCM-SHA256;", err: `selects no TLSv1.2 suite`},
		{desc: "TLS 1.3 only needs no suite", server: cert + "ssl_protocols TLSv1.3; ssl_ciphers DHE-RSA-AES128-GCM-SHA256;", notice: `not served`},
		{desc: "DHE named", server: cert + "ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256;", notice: `DHE-RSA-AES128-GCM-SHA256 not served`},
		{desc: "TLS 1.3 suite named", server: cert + "ssl_ciphers TLS_AES_256_GCM_SHA384:HIGH;", notice: `TLS 1.3 suites are fixed in Go`},
		{desc: "old protocols", server: cert + "ssl_protocols TLSv1 TLSv1.1 TLSv1.2;", notice: `TLSv1, TLSv1.1 in "ssl_protocols" not served`},
		{desc: "no protocol left", server: cert + "ssl_protocols TLSv1 TLSv1.1;", err: `allows no protocol wsgate serves`},
		{desc: "bad protocol", server: cert + "ssl_protocols TLSv1.4;", err: `invalid value "TLSv1.4"`},
		{desc: "prefer server ciphers", server: cert + "ssl_prefer_server_ciphers on;", notice: `Go orders the allowed suites itself`},
		{desc: "session cache", server: cert + "ssl_session_cache shared:SSL:10m;", notice: `never by a TLS 1.2 session ID`},
		{desc: "ocsp", server: cert + "ssl_verify_client on; ssl_client_certificate ca.pem; ssl_ocsp leaf; ssl_ocsp_responder http://127.0.0.1:1; ssl_ocsp_cache shared:OCSP:1m;"},
		{desc: "bad ocsp", server: cert + "ssl_ocsp yes;", err: `invalid value "yes"`},
		{desc: "bad ocsp cache", server: cert + "ssl_ocsp_cache OCSP;", err: `invalid "ssl_ocsp_cache" "OCSP"`},
		{desc: "bad session cache", server: cert + "ssl_session_cache shared:SSL;", err: `invalid session cache "shared:SSL"`},
		{desc: "curves", server: cert + "ssl_ecdh_curve X25519:prime256v1:X448;", notice: `X448 not offered`},
		{desc: "unknown curve", server: cert + "ssl_ecdh_curve prime257v1;", err: `unknown curve "prime257v1"`},
		{desc: "dhparam", server: cert + "ssl_dhparam dh.pem;", notice: `Go serves no DHE suites`},
		{desc: "verify without CA", server: cert + "ssl_verify_client on;", err: `no ssl_client_certificate for ssl_verify_client`},
		{desc: "verify optional_no_ca without CA", server: cert + "ssl_verify_client optional_no_ca;"},
		{desc: "bad verify", server: cert + "ssl_verify_client maybe;", err: `invalid value "maybe" in "ssl_verify_client"`},
		{desc: "two certificates", server: cert + "ssl_certificate e.pem; ssl_certificate_key ek.pem;"},
		{desc: "a certificate without its key", server: cert + "ssl_certificate e.pem;", err: `no "ssl_certificate_key" is defined for certificate "e.pem"`},
		{desc: "no certificate", server: "", err: `no "ssl_certificate" is defined`},
		{desc: "reject handshake", server: "ssl_reject_handshake on;"},
		{desc: "unverified https upstream", server: cert + "location / { proxy_pass https://127.0.0.1:8443; }", notice: `the upstream's certificate is not verified`},
		{desc: "verify without trusted", server: cert + "location / { proxy_ssl_verify on; proxy_pass https://127.0.0.1:8443; }", err: `no "proxy_ssl_trusted_certificate" for "proxy_ssl_verify"`},
		{desc: "verified upstream", server: cert + "location / { proxy_ssl_verify on; proxy_ssl_trusted_certificate ca.pem; proxy_ssl_server_name on; proxy_pass https://127.0.0.1:8443; }"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			src := "events {}\nhttp {\n server { listen 127.0.0.1:18443 ssl; " + tc.server + " }\n}\n"
			ast, errs := parse("t.conf", []byte(src), ParseOptions{})
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			spec, errs := Check(ast)
			var got []string
			for _, e := range errs {
				got = append(got, e.Msg)
			}
			all := strings.Join(got, "\n")
			if tc.err == "" && len(errs) > 0 || tc.err != "" && !strings.Contains(all, tc.err) {
				t.Errorf("errors:\n%s\nwant %q", all, tc.err)
			}
			var notes []string
			if spec != nil {
				for _, n := range spec.Notices {
					notes = append(notes, n.Msg)
				}
			}
			if tc.notice != "" && !strings.Contains(strings.Join(notes, "\n"), tc.notice) {
				t.Errorf("notices:\n%s\nwant %q", strings.Join(notes, "\n"), tc.notice)
			}
		})
	}
}
