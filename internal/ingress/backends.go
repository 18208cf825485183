package ingress

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	netv1 "k8s.io/api/networking/v1"

	"wsgate/internal/config"
)

// EndpointSuffix ends the names that upstream blocks list for a Service
// port's endpoints; the Resolver answers them. .invalid is reserved (RFC
// 2606 §2) so no real name can be taken for one.
const EndpointSuffix = ".endpoints.invalid"

// endpointName is the name listed for the endpoints of Service ns/svc on
// target port port.
func endpointName(ns, svc string, port int32) string {
	return fmt.Sprintf("%s.%s.%d%s", svc, ns, port, EndpointSuffix)
}

// balance is how an upstream picks its peer, from the annotations.
type balance struct {
	hashBy    string // hash VALUE consistent
	leastConn bool
}

func (b balance) suffix() string {
	if b == (balance{}) {
		return ""
	}
	h := sha256.Sum256([]byte(fmt.Sprintf("%q %t", b.hashBy, b.leastConn)))
	return "-" + hex.EncodeToString(h[:4])
}

// upstreams collects the upstream blocks of one translation, one per
// Service port and balance.
type upstreams struct {
	st       *State
	resolved bool
	blocks   map[string]*config.Directive
	order    []string
	// Endpoints is the Resolver's table: name → addresses.
	endpoints map[string][]netip.Addr
	notices   []string
}

// backend returns the upstream name (and whether it has peers) for the
// Service backend svc of an Ingress in namespace ns. An empty name means
// the Service, its port or its ready endpoints are missing: the location
// answers 503 (or goes to its default-backend), as ingress-nginx's does.
func (u *upstreams) backend(ns string, b *netv1.IngressServiceBackend, bal balance, who string) string {
	if b == nil {
		return ""
	}
	svc := u.service(ns, b.Name)
	if svc == nil {
		u.notices = append(u.notices, fmt.Sprintf("%s: Service %s/%s not found: its paths answer 503", who, ns, b.Name))
		return ""
	}
	var sp *corev1.ServicePort
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if (b.Port.Name != "" && p.Name == b.Port.Name) || (b.Port.Name == "" && p.Port == b.Port.Number) {
			sp = p
			break
		}
	}
	if sp == nil {
		u.notices = append(u.notices, fmt.Sprintf("%s: Service %s/%s has no port %s: its paths answer 503", who, ns, b.Name, portText(b.Port)))
		return ""
	}
	name := fmt.Sprintf("%s-%s-%s%s", ns, b.Name, portText(b.Port), bal.suffix())
	if _, ok := u.blocks[name]; ok {
		return name
	}
	pos := origin("Service " + objKey(ns, b.Name))
	var servers []*config.Directive
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		servers = append(servers, stmt(pos, "server", svc.Spec.ExternalName+":"+strconv.Itoa(int(sp.Port))))
	} else {
		byPort := u.ready(ns, svc.Name, sp)
		ports := make([]int32, 0, len(byPort))
		for p := range byPort {
			ports = append(ports, p)
		}
		sort.Slice(ports, func(i, j int) bool { return ports[i] < ports[j] })
		for _, p := range ports {
			addrs := byPort[p]
			if u.resolved {
				for _, a := range addrs {
					servers = append(servers, stmt(pos, "server", netip.AddrPortFrom(a, uint16(p)).String()))
				}
				continue
			}
			host := endpointName(ns, svc.Name, p)
			u.endpoints[host] = addrs
			servers = append(servers, stmt(pos, "server", host+":"+strconv.Itoa(int(p))))
		}
	}
	if len(servers) == 0 {
		u.notices = append(u.notices, fmt.Sprintf("%s: Service %s/%s has no ready endpoints: its paths answer 503", who, ns, b.Name))
		return ""
	}
	var body []*config.Directive
	switch {
	case bal.hashBy != "":
		body = append(body, stmt(pos, "hash", bal.hashBy, "consistent"))
	case bal.leastConn:
		body = append(body, stmt(pos, "least_conn"))
	}
	body = append(body, servers...)
	u.blocks[name] = block(pos, "upstream", []string{name}, body...)
	u.order = append(u.order, name)
	return name
}

func portText(p netv1.ServiceBackendPort) string {
	if p.Name != "" {
		return p.Name
	}
	return strconv.Itoa(int(p.Number))
}

func (u *upstreams) service(ns, name string) *corev1.Service {
	for _, s := range u.st.Services {
		if s.Namespace == ns && s.Name == name {
			return s
		}
	}
	return nil
}

// ready returns the ready endpoint addresses of Service ns/name's port sp,
// by target port, sorted and without duplicates. An endpoint whose ready
// condition is unset counts as ready (discovery/v1: "nil should be
// interpreted as true"); terminating endpoints are not ready.
func (u *upstreams) ready(ns, name string, sp *corev1.ServicePort) map[int32][]netip.Addr {
	out := map[int32][]netip.Addr{}
	seen := map[netip.AddrPort]bool{}
	for _, es := range u.st.EndpointSlices {
		if es.Namespace != ns || es.Labels[discoveryv1.LabelServiceName] != name {
			continue
		}
		if es.AddressType != discoveryv1.AddressTypeIPv4 && es.AddressType != discoveryv1.AddressTypeIPv6 {
			continue
		}
		var port int32 = -1
		for _, p := range es.Ports {
			pname := ""
			if p.Name != nil {
				pname = *p.Name
			}
			proto := corev1.ProtocolTCP
			if p.Protocol != nil {
				proto = *p.Protocol
			}
			if pname == sp.Name && proto == corev1.ProtocolTCP && p.Port != nil {
				port = *p.Port
				break
			}
		}
		if port < 0 {
			continue
		}
		for _, ep := range es.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			for _, s := range ep.Addresses {
				a, err := netip.ParseAddr(s)
				if err != nil {
					continue
				}
				ap := netip.AddrPortFrom(a, uint16(port))
				if seen[ap] {
					continue
				}
				seen[ap] = true
				out[port] = append(out[port], a)
			}
		}
	}
	for _, addrs := range out {
		sort.Slice(addrs, func(i, j int) bool { return addrs[i].Less(addrs[j]) })
	}
	return out
}

// safeName makes s usable in zone and variable names.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, s)
}
