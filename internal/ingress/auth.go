package ingress

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"wsgate/internal/config"
)

// auth renders auth-type basic as ingress-nginx's template does:
// auth_basic with the realm, and auth_basic_user_file naming the users of
// the auth-secret, written beside the certificates (queued in t.certs,
// mode 0600, rewritten when the Secret changes). A Secret that is missing
// or holds no users takes the Ingress out: serving an application
// without the authentication its Ingress asks for would be wrong
// (ingress-nginx answers 503 there).
func (t *translation) auth(c *ingConf) []*config.Directive {
	a := c.basicAuth
	if a == nil {
		return nil
	}
	var sec *corev1.Secret
	for _, s := range t.st.Secrets {
		if s.Namespace == a.ns && s.Name == a.name {
			sec = s
			break
		}
	}
	if sec == nil {
		t.reject(c.key, fmt.Sprintf("annotation %sauth-secret: Secret %s/%s not found", nginxPrefix, a.ns, a.name))
		return nil
	}
	users, err := htpasswd(sec, a.typ)
	if err != nil {
		t.reject(c.key, fmt.Sprintf("annotation %sauth-secret: Secret %s/%s: %v", nginxPrefix, a.ns, a.name, err))
		return nil
	}
	p := filepath.Join(t.o.sslDir(), "auth-"+a.ns+"-"+a.name+".htpasswd")
	t.certs[p] = users
	return []*config.Directive{
		stmt(a.pos, "auth_basic", a.realm),
		stmt(a.pos, "auth_basic_user_file", p),
	}
}

// htpasswd returns the user file of an auth-secret: the key auth as it is
// (auth-file, htpasswd's format), or a "user:hash" line per key
// (auth-map).
func htpasswd(sec *corev1.Secret, typ string) ([]byte, error) {
	if typ == "auth-file" {
		b := sec.Data["auth"]
		if len(b) == 0 {
			return nil, fmt.Errorf("no key auth (auth-secret-type auth-file: htpasswd lines under the key auth)")
		}
		return b, nil
	}
	users := make([]string, 0, len(sec.Data))
	for u := range sec.Data {
		users = append(users, u)
	}
	sort.Strings(users)
	var b strings.Builder
	for _, u := range users {
		if strings.ContainsAny(u, ":\n") || strings.ContainsAny(string(sec.Data[u]), "\n") {
			return nil, fmt.Errorf("key %q: auth-map keys are user names and values password hashes, on one line", u)
		}
		b.WriteString(u + ":" + string(sec.Data[u]) + "\n")
	}
	if b.Len() == 0 {
		return nil, fmt.Errorf("no users (auth-secret-type auth-map: a key per user)")
	}
	return []byte(b.String()), nil
}
