// Package corpustest runs the real-configuration corpus: nginx
// configurations from public projects that proxy WebSockets, kept under
// testdata/realconfigs/corpus (each file names its source on its first
// line; SOURCES.tsv lists them), checked by nginx -t and by wsgate's own
// configuration test (server.Check, what wsgate -t runs), and, for every
// file both accept, served by both with the same requests sent to each.
//
// # Stubbing
//
// A corpus file names certificates, included files, host names and ports
// of the machine it came from. testdata/realconfigs/stub.py copies it into
// a fresh prefix and stubs those the same way for both proxies (see its
// docstring): one self-signed pair for every certificate, Debian's
// /etc/nginx copies for missing includes, and, as this package asks it,
// every listen port moved to a free loopback port and every upstream
// address pointed at one recording backend. The stubber is a Python
// script because python3 is already a test dependency (the e2e suites'
// websockets) and the script is the corpus's own tool: the same file runs
// the corpus by hand, so the two cannot drift apart.
//
// # Lists
//
// testdata/realconfigs/rejected.txt lists the files nginx accepts and
// wsgate rejects, with wsgate's errors; the test fails when a listed file
// is accepted (the list is stale: regenerate it with
// "go test ./internal/corpustest -run TestCorpus -update") and when an
// unlisted one is rejected (a regression, or a new file). uncompared.txt
// lists, with the reason, the files whose requests cannot be compared
// meaningfully; differences.txt the requests where wsgate answers
// otherwise than nginx on purpose or for a reason not fixed yet.
package corpustest
