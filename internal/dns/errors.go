package dns

import (
	"strconv"
)

// Code is why a name could not be resolved: a DNS RCODE (RFC 1035 §4.1.1)
// or TimedOut. The numbers are nginx's (ngx_resolver_strerror), which its
// error log shows.
type Code int

const (
	FormErr  Code = 1 // the server could not read the query
	ServFail Code = 2 // the server failed
	NXDomain Code = 3 // the name has no records of the asked types
	NotImp   Code = 4 // the server does not implement the query
	Refused  Code = 5 // the server refused to answer
	// TimedOut is nginx's NGX_RESOLVE_TIMEDOUT, ETIMEDOUT on Linux: no
	// answer within resolver_timeout.
	TimedOut Code = 110
)

// String is nginx's text for the code.
func (c Code) String() string {
	switch c {
	case FormErr:
		return "Format error"
	case ServFail:
		return "Server failure"
	case NXDomain:
		return "Host not found"
	case NotImp:
		return "Unimplemented"
	case Refused:
		return "Operation refused"
	case TimedOut:
		return "Operation timed out"
	}
	return "Unknown error"
}

// Error is a failed lookup.
type Error struct {
	// Name is the name that was asked for (lower-cased, without a trailing
	// dot), not the end of the CNAME chain, as nginx logs it.
	Name string
	Code Code
}

// Error is nginx's line: "NAME could not be resolved (3: Host not found)".
func (e *Error) Error() string {
	return e.Name + " could not be resolved (" + strconv.Itoa(int(e.Code)) + ": " + e.Code.String() + ")"
}

// Timeout reports whether the lookup ran out of time (net.Error).
func (e *Error) Timeout() bool { return e.Code == TimedOut }
