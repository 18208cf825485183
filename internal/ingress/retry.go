package ingress

import (
	"errors"
	"slices"
	"strings"

	netv1 "k8s.io/api/networking/v1"

	"wsgate/internal/config"
)

// maxRetries bounds Do: each retry leaves out at least one Ingress.
const maxRetries = 16

// Do runs start or reload (the server's Start or Reload with this
// controller's Source) until it succeeds or fails on something no
// Ingress is to blame for: a configuration that translates and checks
// may still fail when the server builds it (a name in a snippet's
// proxy_pass that does not resolve, a log file it cannot open), and the
// Ingress whose statement failed is then left out at that version, as if
// the translation had refused it, so that the rest is served.
func (c *Controller) Do(f func() error) error {
	var err error
	for range maxRetries {
		if err = f(); err == nil || !c.Retry(err) {
			return err
		}
	}
	return err
}

// Retry reports whether err, a failed start or reload of the last
// translation, names statements of served Ingresses. Each of those
// Ingresses is then left out at its current version (reported as
// rejected, with its Events) until it changes, its previous version, if
// one built, serving meanwhile; the caller should try again.
func (c *Controller) Retry(err error) bool {
	var list config.ErrorList
	if !errors.As(err, &list) {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last == nil {
		return false
	}
	served := map[string]*netv1.Ingress{}
	for _, ing := range c.last.ServedIngresses {
		served[objKey(ing.Namespace, ing.Name)] = ing
	}
	if c.buildRejects == nil {
		c.buildRejects = map[string]*buildReject{}
	}
	blamed := false
	for _, e := range list {
		key, ok := strings.CutPrefix(blame(e.Pos.File), "Ingress ")
		ing := served[key]
		if !ok || ing == nil {
			continue
		}
		br := c.buildRejects[key]
		if br == nil || br.version != ing.ResourceVersion {
			br = &buildReject{version: ing.ResourceVersion}
			c.buildRejects[key] = br
		}
		if msg := e.Error(); !slices.Contains(br.reasons, msg) {
			br.reasons = append(br.reasons, msg)
		}
		if g := c.lastGood[key]; g != nil && g.ResourceVersion != ing.ResourceVersion {
			c.good[key] = g
		} else {
			delete(c.good, key)
		}
		blamed = true
	}
	return blamed
}

// withoutBuildRejects returns st with each Ingress the server could not
// build, at that version, replaced by its last good version or left out,
// and the rejections to report; an Ingress that changed since is tried
// again.
func (c *Controller) withoutBuildRejects(st *State) (*State, []Rejection) {
	if len(c.buildRejects) == 0 {
		return st, nil
	}
	out := *st
	out.Ingresses = nil
	var rejected []Rejection
	present := map[string]bool{}
	for _, ing := range st.Ingresses {
		key := objKey(ing.Namespace, ing.Name)
		present[key] = true
		br := c.buildRejects[key]
		if br == nil || br.version != ing.ResourceVersion {
			delete(c.buildRejects, key)
			out.Ingresses = append(out.Ingresses, ing)
			continue
		}
		rejected = append(rejected, Rejection{Object: "Ingress " + key, Reasons: br.reasons})
		if g := c.good[key]; g != nil {
			c.once("previous", "serving the previous version of an Ingress whose edit could not be built", "ingress", key, "resourceVersion", g.ResourceVersion)
			out.Ingresses = append(out.Ingresses, g)
		}
	}
	for key := range c.buildRejects {
		if !present[key] {
			delete(c.buildRejects, key)
		}
	}
	return &out, rejected
}
