// Package cache is proxy_cache's store (ngx_http_file_cache.c): the
// zones that proxy_cache_path declares, each a directory of response
// files and an in-memory index of their keys, and the rules that decide
// whether and how long a response is kept (policy.go). internal/proxy
// asks it before it goes upstream (Zone.Lookup) and tees a cacheable
// response into a Writer; internal/snapshot compiles the directives and
// keeps the zones across reloads through the Registry.
//
// What it promises:
//   - A response file is named, as nginx names it, by the hex MD5 of its
//     key under the levels= directories (levels=1:2 puts key
//     ...c29b in b/92/). Its contents are wsgate's own format (disk.go),
//     not nginx's binary header: a cache directory nginx wrote is not
//     read (its files are removed by the loader as unreadable), and the
//     other way round. Temporary files are written beside the entries (in
//     the zone's directory, or its temp directory with use_temp_path=on)
//     and renamed into place whole: a reader sees an old entry or the new
//     one, never a partial file.
//   - The index is bounded by keys_zone's size as nginx's shared memory
//     zone would be (about 8000 keys a megabyte): when full, the least
//     recently used entries are dropped to make room (ngx_http_file_cache_
//     forced_expire). max_size bounds the bytes on disk and min_free the
//     free space left on the file system; a manager goroutine removes the
//     least recently used entries above them, and entries not used for
//     inactive (default 10m), as nginx's cache manager does.
//   - Entries survive reloads (a zone with the same name and path is kept
//     by the Registry) and restarts: a loader walks the directory at start
//     and rebuilds the index, as nginx's cache loader does; a key asked
//     for before the loader reached its file is found on disk.
//   - One filler per key: a key being fetched is marked "updating", which
//     proxy_cache_lock waits on and proxy_cache_use_stale updating serves
//     stale beside.
package cache
