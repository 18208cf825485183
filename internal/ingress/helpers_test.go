package ingress

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	netv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// testCert returns a self-signed certificate and key for names, in PEM.
func testCert(t testing.TB, names ...string) (crt, key []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		DNSNames:     names,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	var c, kb bytes.Buffer
	pem.Encode(&c, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	pem.Encode(&kb, &pem.Block{Type: "PRIVATE KEY", Bytes: kd})
	return c.Bytes(), kb.Bytes()
}

// backendAddr gives the endpoints of the synthesized Service number i.
type backendAddr func(i int, ns, svc string) (addrs []string, port int32)

// synthesize adds to st what a cluster would hold for its Ingresses: a
// Service (unless st has it) and an EndpointSlice (unless st has one) for
// every backend, and a TLS Secret for every secretName. Endpoints come
// from addr.
func synthesize(t testing.TB, st *State, addr backendAddr) {
	t.Helper()
	type svcKey struct{ ns, name string }
	ports := map[svcKey]map[string]int32{} // port name or number text → number
	var order []svcKey
	add := func(ns string, b *netv1.IngressServiceBackend) {
		if b == nil {
			return
		}
		k := svcKey{ns, b.Name}
		if ports[k] == nil {
			ports[k] = map[string]int32{}
			order = append(order, k)
		}
		if b.Port.Name != "" {
			ports[k][b.Port.Name] = 80
		} else {
			ports[k][""+fmt.Sprint(b.Port.Number)] = b.Port.Number
		}
	}
	secrets := map[svcKey][]string{}
	cas := map[svcKey]bool{}
	for _, ing := range st.Ingresses {
		if v := ing.Annotations[nginxPrefix+"auth-tls-secret"]; v != "" {
			k := svcKey{ing.Namespace, v}
			if ns, name, ok := strings.Cut(v, "/"); ok {
				k = svcKey{ns, name}
			}
			cas[k] = true
		}
		if ing.Spec.DefaultBackend != nil {
			add(ing.Namespace, ing.Spec.DefaultBackend.Service)
		}
		for _, r := range ing.Spec.Rules {
			if r.HTTP == nil {
				continue
			}
			for _, p := range r.HTTP.Paths {
				add(ing.Namespace, p.Backend.Service)
			}
		}
		for _, tl := range ing.Spec.TLS {
			if tl.SecretName != "" {
				k := svcKey{ing.Namespace, tl.SecretName}
				secrets[k] = append(secrets[k], tl.Hosts...)
			}
		}
	}
	for i, k := range order {
		svc := findService(st, k.ns, k.name)
		if svc == nil {
			svc = &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: k.ns, Name: k.name}}
			names := make([]string, 0, len(ports[k]))
			for n := range ports[k] {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				sp := corev1.ServicePort{Port: ports[k][n], Protocol: corev1.ProtocolTCP}
				if _, err := fmt.Sscan(n, new(int)); err != nil {
					sp.Name = n
				} else if len(names) > 1 {
					sp.Name = "p" + n
				}
				svc.Spec.Ports = append(svc.Spec.Ports, sp)
			}
			st.Services = append(st.Services, svc)
		}
		if hasSlice(st, k.ns, k.name) {
			continue
		}
		addrs, target := addr(i, k.ns, k.name)
		es := &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: k.ns, Name: k.name + "-abcde", Labels: map[string]string{discoveryv1.LabelServiceName: k.name}},
			AddressType: discoveryv1.AddressTypeIPv4,
		}
		for _, sp := range svc.Spec.Ports {
			name, p := sp.Name, target
			if p == 0 {
				p = sp.Port
				if sp.TargetPort.Type == intstr.Int && sp.TargetPort.IntVal != 0 {
					p = sp.TargetPort.IntVal
				}
			}
			proto := corev1.ProtocolTCP
			es.Ports = append(es.Ports, discoveryv1.EndpointPort{Name: &name, Port: &p, Protocol: &proto})
		}
		for _, a := range addrs {
			es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{a}})
		}
		st.EndpointSlices = append(st.EndpointSlices, es)
	}
	caKeys := make([]svcKey, 0, len(cas))
	for k := range cas {
		caKeys = append(caKeys, k)
	}
	sort.Slice(caKeys, func(i, j int) bool { return caKeys[i].ns+"/"+caKeys[i].name < caKeys[j].ns+"/"+caKeys[j].name })
	for _, k := range caKeys {
		if findSecret(st, k.ns, k.name) {
			continue
		}
		ca := newTestCA(t)
		clientCAs.Store(k.ns+"/"+k.name, ca)
		st.Secrets = append(st.Secrets, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: k.ns, Name: k.name},
			Data:       map[string][]byte{"ca.crt": ca.certPEM},
		})
	}
	keys := make([]svcKey, 0, len(secrets))
	for k := range secrets {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].ns+"/"+keys[i].name < keys[j].ns+"/"+keys[j].name })
	for _, k := range keys {
		names := secrets[k]
		if len(names) == 0 {
			names = []string{"example.com"}
		}
		crt, key := testCert(t, names...)
		st.Secrets = append(st.Secrets, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: k.ns, Name: k.name},
			Type:       corev1.SecretTypeTLS,
			Data:       map[string][]byte{corev1.TLSCertKey: crt, corev1.TLSPrivateKeyKey: key},
		})
	}
}

func findSecret(st *State, ns, name string) bool {
	for _, s := range st.Secrets {
		if s.Namespace == ns && s.Name == name {
			return true
		}
	}
	return false
}

// testCA is a certificate authority for client certificates.
type testCA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
}

// clientCAs are the CAs synthesize made for auth-tls-secret Secrets, by
// "namespace/name", so that a test can sign a client certificate.
var clientCAs sync.Map

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test client CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: k, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// client returns a client certificate for cn signed by ca.
func (ca *testCA) client(t testing.TB, cn string) tls.Certificate {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &k.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}
}

func findService(st *State, ns, name string) *corev1.Service {
	for _, s := range st.Services {
		if s.Namespace == ns && s.Name == name {
			return s
		}
	}
	return nil
}

func hasSlice(st *State, ns, name string) bool {
	for _, es := range st.EndpointSlices {
		if es.Namespace == ns && es.Labels[discoveryv1.LabelServiceName] == name {
			return true
		}
	}
	return false
}

// podAddrs gives Service i two pod addresses, 10.i.0.1 and 10.i.0.2, on
// the Service port itself.
func podAddrs(i int, ns, svc string) ([]string, int32) {
	return []string{fmt.Sprintf("10.%d.0.1", i+1), fmt.Sprintf("10.%d.0.2", i+1)}, 0
}

// snippetsOn is the controller ConfigMap the fixtures are served with
// unless they bring their own: ingress-nginx 1.9+ users that have
// snippets set allow-snippet-annotations.
func snippetsOn() *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ingress-nginx", Name: "ingress-nginx-controller"},
		Data:       map[string]string{"allow-snippet-annotations": "true"},
	}
}
