package ingress

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	netv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// DocError is a manifest document that could not be used.
type DocError struct {
	File string
	Doc  int // from 1
	Err  error
}

func (e *DocError) Error() string { return fmt.Sprintf("%s: document %d: %v", e.File, e.Doc, e.Err) }

// LoadDir reads every *.yaml, *.yml and *.json file directly in dir (in
// name order) as Kubernetes manifests, as `kubectl apply -f DIR` would,
// and returns the objects of the kinds the controller reads. configMap is
// the controller's ConfigMap, "namespace/name"; "" takes a ConfigMap named
// ingress-nginx-controller in any namespace.
//
// Decoding is strict, as kubectl's default field validation
// (--validate=strict since Kubernetes 1.27): a document with an unknown
// field or a key written twice is refused with the reason, as a cluster
// would refuse it, and the rest is read. Documents of other kinds
// (Deployments, cert-manager's Certificates) are skipped. A document
// without a namespace is in "default".
func LoadDir(dir, configMap string) (*State, []error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, []error{fmt.Errorf("reading manifests: %w", err)}
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if e.Type().IsRegular() && (strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml") || strings.HasSuffix(n, ".json")) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	st := &State{}
	var errs []error
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			errs = append(errs, fmt.Errorf("reading manifests: %w", err))
			continue
		}
		errs = append(errs, st.addManifests(n, data, configMap)...)
	}
	return st, errs
}

// addManifests decodes the YAML documents of data (a file named name).
func (st *State) addManifests(name string, data []byte, configMap string) []error {
	var errs []error
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for doc := 1; ; doc++ {
		raw, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, &DocError{File: name, Doc: doc, Err: err})
			break
		}
		if len(bytes.TrimSpace(stripComments(raw))) == 0 {
			doc--
			continue
		}
		if err := st.addDoc(raw, configMap); err != nil {
			errs = append(errs, &DocError{File: name, Doc: doc, Err: err})
		}
	}
	return errs
}

func stripComments(b []byte) []byte {
	var out []byte
	for _, line := range bytes.Split(b, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			out = append(out, line...)
			out = append(out, '\n')
		}
	}
	return out
}

// addDoc decodes one document strictly into its kind.
func (st *State) addDoc(raw []byte, configMap string) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(raw, &tm); err != nil {
		return err
	}
	strict := func(obj any) error {
		if err := yaml.UnmarshalStrict(raw, obj); err != nil {
			return fmt.Errorf("%s %s: %w", tm.APIVersion, tm.Kind, err)
		}
		return nil
	}
	ns := func(m *metav1.ObjectMeta) {
		if m.Namespace == "" {
			m.Namespace = "default"
		}
	}
	switch tm.Kind {
	case "Ingress":
		if tm.APIVersion != "networking.k8s.io/v1" {
			return fmt.Errorf("Ingress %s was removed in Kubernetes 1.22: write it as networking.k8s.io/v1 (serviceName and servicePort become service.name and service.port)", tm.APIVersion)
		}
		o := &netv1.Ingress{}
		if err := strict(o); err != nil {
			return err
		}
		ns(&o.ObjectMeta)
		st.Ingresses = append(st.Ingresses, o)
	case "IngressClass":
		o := &netv1.IngressClass{}
		if err := strict(o); err != nil {
			return err
		}
		st.IngressClasses = append(st.IngressClasses, o)
	case "Service":
		o := &corev1.Service{}
		if err := strict(o); err != nil {
			return err
		}
		ns(&o.ObjectMeta)
		st.Services = append(st.Services, o)
	case "EndpointSlice":
		o := &discoveryv1.EndpointSlice{}
		if err := strict(o); err != nil {
			return err
		}
		ns(&o.ObjectMeta)
		st.EndpointSlices = append(st.EndpointSlices, o)
	case "Secret":
		o := &corev1.Secret{}
		if err := strict(o); err != nil {
			return err
		}
		ns(&o.ObjectMeta)
		st.Secrets = append(st.Secrets, o)
	case "ConfigMap":
		o := &corev1.ConfigMap{}
		if err := strict(o); err != nil {
			return err
		}
		ns(&o.ObjectMeta)
		if (configMap == "" && o.Name == "ingress-nginx-controller") || objKey(o.Namespace, o.Name) == configMap {
			st.ConfigMap = o
		}
	}
	return nil
}
