package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	netv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"wsgate/internal/ingress"
)

// deployed are the objects of deploy/kubernetes, decoded strictly.
type deployed struct {
	deployments  []*appsv1.Deployment
	services     []*corev1.Service
	configMaps   []*corev1.ConfigMap
	classes      []*netv1.IngressClass
	pdbs         []*policyv1.PodDisruptionBudget
	clusterRoles []*rbacv1.ClusterRole
	roles        []*rbacv1.Role
	kinds        []string
}

// TestDeployManifests decodes every document of deploy/kubernetes
// strictly (an unknown or misspelt field fails, as kubectl's
// --validate=strict would) and checks what the controller relies on: the
// Deployment's arguments are flags wsgate-ingress has, the pod runs as
// non-root on a read-only root with no capabilities, the preStop hook
// drains, the ConfigMap's keys are ones the controller knows, the
// IngressClass is ingress-nginx's, and RBAC grants the informers what
// they list and watch and writes nothing but Ingress status, Events and
// the Lease.
func TestDeployManifests(t *testing.T) {
	d := decodeDeploy(t, filepath.Join("..", "..", "deploy", "kubernetes"))
	for _, k := range []string{"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
		"ConfigMap", "IngressClass", "Deployment", "Service", "PodDisruptionBudget"} {
		if !slices.Contains(d.kinds, k) {
			t.Errorf("deploy/kubernetes has no %s", k)
		}
	}
	if len(d.deployments) != 1 {
		t.Fatalf("%d Deployments; want 1", len(d.deployments))
	}
	dep := d.deployments[0]
	pod := dep.Spec.Template.Spec
	c := pod.Containers[0]
	args := make([]string, len(c.Args))
	for i, a := range c.Args {
		args[i] = strings.ReplaceAll(a, "$(POD_NAMESPACE)", "wsgate-ingress")
	}
	o, err := parseOptions(args, io.Discard)
	if err != nil {
		t.Fatalf("the Deployment's args: %v", err)
	}
	if o.configMap != "wsgate-ingress/wsgate-ingress" || o.publish != "wsgate-ingress/wsgate-ingress" {
		t.Errorf("configmap %q, publish-service %q", o.configMap, o.publish)
	}
	sc := c.SecurityContext
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Error("the pod may run as root")
	}
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil ||
		*sc.AllowPrivilegeEscalation || sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, corev1.Capability("ALL")) ||
		len(sc.Capabilities.Add) > 0 {
		t.Errorf("container security context %+v: want a read-only root, no escalation, no capabilities", sc)
	}
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Exec == nil ||
		!slices.Contains(c.Lifecycle.PreStop.Exec.Command, "--wait-shutdown") {
		t.Error("no preStop --wait-shutdown")
	} else if _, err := parseOptions(c.Lifecycle.PreStop.Exec.Command[1:], io.Discard); err != nil {
		t.Errorf("preStop command: %v", err)
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		if strings.HasPrefix(o.translate.SSLDir, m.MountPath) {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("--ssl-dir %s is not on a mounted volume (the root is read-only)", o.translate.SSLDir)
	}
	if len(d.configMaps) != 1 {
		t.Fatalf("%d ConfigMaps; want 1", len(d.configMaps))
	}
	cm := d.configMaps[0]
	res, err := ingress.Translate(&ingress.State{ConfigMap: cm}, ingress.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range res.Notices {
		t.Errorf("ConfigMap: %s", n)
	}
	if grace := pod.TerminationGracePeriodSeconds; grace == nil || res.ShutdownTimeout.Seconds() >= float64(*grace) {
		t.Errorf("worker-shutdown-timeout %v does not fit in terminationGracePeriodSeconds %v", res.ShutdownTimeout, grace)
	}
	if len(d.classes) != 1 || d.classes[0].Spec.Controller != ingress.DefaultController || d.classes[0].Name != ingress.DefaultClass {
		t.Errorf("IngressClass: want %s with controller %s", ingress.DefaultClass, ingress.DefaultController)
	}
	if len(d.pdbs) != 1 || !selects(d.pdbs[0].Spec.Selector, dep.Spec.Template.Labels) {
		t.Error("the PodDisruptionBudget does not select the Deployment's pods")
	}
	if len(d.services) != 1 || !mapSubset(d.services[0].Spec.Selector, dep.Spec.Template.Labels) {
		t.Error("the Service does not select the Deployment's pods")
	}

	// RBAC: what the informers need, and no write beyond status, Events
	// and the Lease.
	var rules []rbacv1.PolicyRule
	for _, r := range d.clusterRoles {
		rules = append(rules, r.Rules...)
	}
	for _, r := range d.roles {
		rules = append(rules, r.Rules...)
	}
	for _, need := range []struct{ group, resource, verb string }{
		{"networking.k8s.io", "ingresses", "watch"}, {"networking.k8s.io", "ingressclasses", "list"},
		{"", "services", "watch"}, {"discovery.k8s.io", "endpointslices", "watch"}, {"", "secrets", "watch"},
		{"", "configmaps", "watch"}, {"networking.k8s.io", "ingresses/status", "update"}, {"", "events", "create"},
		{"coordination.k8s.io", "leases", "create"}, {"coordination.k8s.io", "leases", "update"},
	} {
		if !grants(rules, need.group, need.resource, need.verb) {
			t.Errorf("RBAC does not grant %s %s/%s", need.verb, need.group, need.resource)
		}
	}
	writes := map[string]bool{"ingresses/status": true, "events": true, "leases": true}
	for _, r := range rules {
		for _, v := range r.Verbs {
			if v == "*" || slices.Contains(r.Resources, "*") {
				t.Errorf("RBAC rule %+v uses a wildcard", r)
			}
			if v != "get" && v != "list" && v != "watch" {
				for _, res := range r.Resources {
					if !writes[res] {
						t.Errorf("RBAC lets the controller %s %s", v, res)
					}
				}
			}
		}
	}
}

func decodeDeploy(t *testing.T, dir string) *deployed {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in %s: %v", dir, err)
	}
	d := &deployed{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for {
			doc, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal(doc, &tm); err != nil || tm.Kind == "" {
				t.Fatalf("%s: a document without kind: %v", f, err)
			}
			var obj any
			switch tm.Kind {
			case "Namespace":
				obj = &corev1.Namespace{}
			case "ServiceAccount":
				obj = &corev1.ServiceAccount{}
			case "ClusterRole":
				o := &rbacv1.ClusterRole{}
				d.clusterRoles, obj = append(d.clusterRoles, o), o
			case "ClusterRoleBinding":
				obj = &rbacv1.ClusterRoleBinding{}
			case "Role":
				o := &rbacv1.Role{}
				d.roles, obj = append(d.roles, o), o
			case "RoleBinding":
				obj = &rbacv1.RoleBinding{}
			case "ConfigMap":
				o := &corev1.ConfigMap{}
				d.configMaps, obj = append(d.configMaps, o), o
			case "IngressClass":
				o := &netv1.IngressClass{}
				d.classes, obj = append(d.classes, o), o
			case "Deployment":
				o := &appsv1.Deployment{}
				d.deployments, obj = append(d.deployments, o), o
			case "Service":
				o := &corev1.Service{}
				d.services, obj = append(d.services, o), o
			case "PodDisruptionBudget":
				o := &policyv1.PodDisruptionBudget{}
				d.pdbs, obj = append(d.pdbs, o), o
			default:
				t.Fatalf("%s: unexpected kind %s", f, tm.Kind)
			}
			if err := yaml.UnmarshalStrict(doc, obj); err != nil {
				t.Errorf("%s: %s: %v", f, tm.Kind, err)
			}
			d.kinds = append(d.kinds, tm.Kind)
		}
	}
	return d
}

func grants(rules []rbacv1.PolicyRule, group, resource, verb string) bool {
	for _, r := range rules {
		if slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, verb) {
			return true
		}
	}
	return false
}

func selects(sel *metav1.LabelSelector, labels map[string]string) bool {
	return sel != nil && mapSubset(sel.MatchLabels, labels)
}

func mapSubset(sub, m map[string]string) bool {
	if len(sub) == 0 {
		return false
	}
	for k, v := range sub {
		if m[k] != v {
			return false
		}
	}
	return true
}

// TestDockerfile checks the image recipe: a static build, a distroless
// base, a non-root user.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "wsgate-ingress.Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"CGO_ENABLED=0", "./cmd/wsgate-ingress", "FROM gcr.io/distroless/static", "USER 65532", `ENTRYPOINT ["/wsgate-ingress"]`} {
		if !strings.Contains(s, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}
