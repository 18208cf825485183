package access

import (
	"fmt"
	"net/netip"

	"wsgate/internal/config"
)

// Rules is a compiled allow/deny list (ngx_http_access_module). The zero
// value and nil have no rules and allow everyone.
type Rules struct {
	rules []rule
}

type rule struct {
	deny   bool
	all    bool
	unix   bool
	prefix netip.Prefix
}

// CompileRules compiles a location's effective allow/deny list; nil when
// it has none, so that the access phase skips the check.
func CompileRules(list []config.AccessRule) (*Rules, error) {
	if len(list) == 0 {
		return nil, nil
	}
	rs := &Rules{rules: make([]rule, 0, len(list))}
	for _, r := range list {
		c := rule{deny: r.Deny, all: r.All, unix: r.Unix}
		if !r.All && !r.Unix {
			p, err := netip.ParsePrefix(r.CIDR)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", r.Pos, err)
			}
			c.prefix = p
		}
		rs.rules = append(rs.rules, c)
	}
	return rs, nil
}

// Decide is ngx_http_access_handler's answer for a client at addr: the
// first rule that matches decides (Allowed or Forbidden); Declined when
// none matches. unix is true for a client on a UNIX-domain socket, whose
// addr is not looked at. An IPv4-mapped IPv6 address is matched as the
// IPv4 address it maps; IPv4 and IPv6 rules never match each other's
// clients; "all" matches every client.
func (rs *Rules) Decide(addr netip.Addr, unix bool) Decision {
	if rs == nil {
		return Declined
	}
	addr = addr.Unmap().WithZone("")
	for i := range rs.rules {
		r := &rs.rules[i]
		switch {
		case r.all:
		case r.unix:
			if !unix {
				continue
			}
		case unix || !addr.IsValid() || !r.prefix.Contains(addr):
			continue
		}
		if r.deny {
			return Forbidden
		}
		return Allowed
	}
	return Declined
}

// Len is the number of rules.
func (rs *Rules) Len() int {
	if rs == nil {
		return 0
	}
	return len(rs.rules)
}
