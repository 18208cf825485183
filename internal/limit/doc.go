// Package limit holds the preaccess phase's limits as nginx 1.22 has them:
// limit_req (ngx_http_limit_req_module, req.go), a leaky bucket per key
// counted in thousandths of a request, and limit_conn
// (ngx_http_limit_conn_module, conn.go), a count of the requests in
// progress per key. zone.go holds the zones (limit_req_zone,
// limit_conn_zone) and the registry that keeps them across reloads.
//
// What it promises:
//   - A zone's state lives in the process's memory, which wsgate's one
//     process shares as nginx's workers share a shared memory zone. Its
//     size caps how many keys it holds as nginx's slab allocator would for
//     a zone of that size (each state costs the power of two that holds
//     nginx's node for its key); the least recently used states are
//     dropped as nginx drops them, and a request that finds no room is
//     refused as nginx refuses it.
//   - A reload keeps every zone whose name, use and size are unchanged,
//     with its state (nginx reuses a shared memory zone of the same name
//     and size); limit_req's rate may change. A zone whose key changed is
//     an error, as in nginx.
//   - A check allocates nothing for a key its zone holds, nor, once the
//     zone has given some back, for a new one: a state that leaves (a
//     limit_conn key whose last request ended) is kept for the next key.
//   - A check only says what it decided (Outcome): the pipeline delays or
//     answers the request and writes the error log.
//
// What it leaves to others: the directives' syntax and inheritance
// (internal/config), the keys' variables (internal/vars), running the
// phase and releasing a connection's count when its request or tunnel
// ends (internal/pipeline, internal/proxy).
package limit
