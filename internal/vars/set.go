package vars

import (
	"strings"

	"wsgate/internal/config"
)

// This file holds the variables the rewrite module's set assigns
// (ngx_http_rewrite_set): declared for the whole configuration before any
// template is compiled, so that "$upstream" in a proxy_pass reads what a
// set in the same location assigned, and an unknown name is still an
// error at -t.

// declareSet declares the variables set assigns (config.HTTP.SetVariables,
// given to NewCompiler). A set may assign a new name, a map's variable
// (the set value then replaces the map's for the request, as nginx's
// changeable map variables) or $args (which changes the request's
// arguments); the other built-in variables are refused as nginx refuses
// them ("the duplicate "uri" variable"), but for $limit_rate, which sets
// the response's rate. Assigning a prefix variable
// ($http_x, $arg_x, $cookie_x, $upstream_http_x) is refused: nginx
// accepts it but reads some of them from the request regardless.
func (c *Compiler) declareSet(decls []config.VarDecl, errs *config.ErrorList) {
	if c.sets == nil {
		c.sets = make(map[string]int)
	}
	for _, d := range decls {
		name := strings.ToLower(d.Name)
		if _, ok := c.sets[name]; ok {
			continue
		}
		if k, ok := builtin[name]; ok && k != kArgs && k != kLimitRate {
			errs.Add(d.Pos, "the duplicate %q variable", name)
			continue
		}
		if name == "limit_rate" {
			continue // a field of Ctx
		}
		if isPrefixVar(name) || name == "content_type" || name == "content_length" {
			errs.Add(d.Pos, "\"set\" cannot assign $%s in wsgate: it is read from the request; set a variable of another name", name)
			continue
		}
		c.sets[name] = len(c.setNames)
		c.setNames = append(c.setNames, name)
	}
}

// Setter assigns one variable for set. The zero Setter assigns nothing.
type Setter struct {
	slot      int // index in Ctx.sets, plus one
	args      bool
	limitRate bool
}

// Setter returns the Setter of a variable given to NewCompiler as set.
func (c *Compiler) Setter(name string) (Setter, bool) {
	name = strings.ToLower(name)
	if name == "args" {
		return Setter{args: true}, true
	}
	if name == "limit_rate" {
		return Setter{limitRate: true}, true
	}
	i, ok := c.sets[name]
	if !ok {
		return Setter{}, false
	}
	return Setter{slot: i + 1}, true
}

// Args reports whether the Setter assigns $args: the request's arguments
// change, and nginx no longer sends the request-target as received
// (V:ngx_http_variable_set_args clears r->valid_unparsed_uri).
func (s Setter) Args() bool { return s.args }

// Set assigns v in c. v must not change afterwards (it is kept, not
// copied).
func (s Setter) Set(cp *Compiler, c *Ctx, v string) {
	if s.args {
		c.Args, c.HasArgs = v, true
		return
	}
	if s.limitRate {
		// ngx_http_variable_set_limit_rate: a size; anything else
		// leaves the rate as it was (nginx logs "invalid $limit_rate").
		if n, ok := config.ParseSize(v); ok {
			c.LimitRate, c.LimitRateSet = n, true
		}
		return
	}
	if s.slot == 0 {
		return
	}
	if c.sets == nil {
		c.sets = make([]setSlot, len(cp.setNames))
	}
	c.sets[s.slot-1] = setSlot{val: v, ok: true}
}

// setSlot is one set variable's value in a Ctx.
type setSlot struct {
	val string
	ok  bool
}

// setValue returns the value a set assigned to variable i, and whether one
// did.
func (c *Ctx) setValue(i int) (string, bool) {
	if i < len(c.sets) && c.sets[i].ok {
		return c.sets[i].val, true
	}
	return "", false
}

// userValue is the value of a variable only set makes: what the last set
// assigned, else "" after telling Uninitialized (ngx_http_rewrite_var:
// found, empty, and "using uninitialized "x" variable" when
// uninitialized_variable_warn is on).
func (cp *Compiler) userValue(c *Ctx, i int) string {
	if v, ok := c.setValue(i); ok {
		return v
	}
	if c.Uninitialized != nil {
		c.Uninitialized(cp.setNames[i])
	}
	return ""
}
