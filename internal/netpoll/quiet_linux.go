//go:build linux

package netpoll

// Quiet reports, without a system call, that nothing has come to c's
// socket since a read found its receive queue empty: the socket is in a
// loop, which reports every arrival (bytes, the input's end, an error)
// as an edge, and none has been reported since that read. It is how
// nginx knows a cached upstream connection is still usable: a read event
// on it while idle closes it (ngx_http_upstream_keepalive_close_handler),
// and none means there is nothing to look at. false means Quiet cannot
// tell (the socket is in no loop, its last read filled its buffer, or a
// wake-up came since, which may be stale): the caller looks (Empty). An
// arrival that its loop has not reported yet is missed, as it is by
// nginx: the caller's read then finds it. Only for a Conn with its own
// Waiter (Dial, Accept), whose reads note a drained queue; c must not be
// in use by another goroutine.
func (c *Conn) Quiet() bool {
	if !c.drained.Load() || c.hup.Load() {
		return false
	}
	c.mu.Lock()
	quiet := c.loop != nil && len(c.w.rch) == 0
	c.mu.Unlock()
	return quiet
}
