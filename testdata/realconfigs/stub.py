#!/usr/bin/env python3
"""stub.py CORPUS_FILE PREFIX ASSETS_DIR STUBS_DIR [PORTS BACKEND]

Copies one corpus file into PREFIX and stubs what a test machine lacks, the
same way for nginx and wsgate (both read the stubbed copy):

  - files the config names are created under PREFIX: certificates and keys
    (one self-signed pair from ASSETS_DIR), DH parameters, included files
    (the entry's own companion includes from CORPUS_FILE minus .conf plus .d/,
    then STUBS_DIR copies, then Debian's /etc/nginx copies, else empty);
    absolute paths become PREFIX/fs/<path>;
  - log, temp and cache directories are created under PREFIX (absolute paths
    remapped to PREFIX/fs/<path>);
  - host names that would need DNS at load time (proxy_pass and *_pass
    targets that are not upstream names, upstream `server` lines, `listen`
    addresses, `resolver` addresses) become 127.0.0.1, keeping the port;
  - `user` and `pid` in the main context are blanked (nginx gets its pid
    file from -g); an http level without `access_log` gets one under PREFIX
    (nginx would open its compiled-in /var/log/nginx/access.log), and
    nginx's copy alone gets its temp directories under PREFIX;

Every edit keeps line and column numbers of everything else (blanked
directives become spaces; replaced tokens change only their own length).

  - a server that listens with ssl but names no certificate (a doc snippet
    meant to be merged into an existing server, or certificate lines left
    commented out until certbot runs) gets the stub pair on its "{" line.

Prints two lines: the file to give nginx (a wrapper adding `events {}` and,
for a sites file, `http { }` around it) and the file to give wsgate (the
stubbed copy itself; the wrapper where the file lacks only `events {}`, or
where the entry brings http-level companion files in <name>.d/http.d/).

With PORTS (a comma-separated list of free loopback ports) and BACKEND
(HOST:PORT of a test backend), the copy is made to be served on loopback:

  - every distinct port the `listen` lines name (80 for a server without
    one) takes the next port of PORTS, on 127.0.0.1 (IPv6 addresses on
    [::1]), so that the structure of the listeners is kept;
  - every upstream `server` line and every proxy_pass/grpc_pass that does
    not name an upstream or hold variables points at BACKEND;
  - absolute root and alias paths move under PREFIX/fs, and the file a
    static request reads is created there;
  - wsgate too is given the wrapper of a sites file (for its access_log:
    without one, wsgate logs to standard output);
  - `daemon` and `master_process` in the main context are blanked (the
    harness gives nginx its own with -g), and logs written to /dev/stdout
    or /dev/stderr go to PREFIX/logs instead (a test's output is not
    theirs);

and a third line is printed: a JSON plan of the servers, each with its
listen addresses (and whether they take TLS), its server names, the paths
of its WebSocket locations (a proxy_pass with an Upgrade header) and of its
static locations (root or alias without proxy_pass or return).
"""
import json
import fnmatch
import glob
import os
import re
import shutil
import sys

DEBIAN_NGINX = "/etc/nginx"


# --- lexer and parser (nginx's rules: quotes, escapes, "#" comments, ${var}) ---

class Tok:
    __slots__ = ("text", "start", "end", "quoted")

    def __init__(self, text, start, end, quoted):
        self.text, self.start, self.end, self.quoted = text, start, end, quoted


def lex(src):
    toks, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if c in " \t\r\n":
            i += 1
        elif c == "#":
            while i < n and src[i] != "\n":
                i += 1
        elif c in "{};":
            toks.append(Tok(c, i, i + 1, None))
            i += 1
        elif c in "\"'":
            q, j, buf = c, i + 1, []
            while j < n and src[j] != q:
                if src[j] == "\\" and j + 1 < n:
                    buf.append(src[j:j + 2])
                    j += 2
                    continue
                buf.append(src[j])
                j += 1
            toks.append(Tok("".join(buf), i, j + 1, q))
            i = j + 1
        else:
            j, var = i, False
            while j < n:
                d = src[j]
                if d == "\\" and j + 1 < n:
                    j += 2
                    continue
                if d == "{" and j > i and src[j - 1] == "$":
                    var = True
                    j += 1
                    continue
                if d == "}" and var:
                    var = False
                    j += 1
                    continue
                if d in " \t\r\n;{}" or (d in "\"'" and j == i):
                    break
                j += 1
            toks.append(Tok(src[i:j], i, j, None))
            i = j
    return toks


class Stmt:
    def __init__(self, name, args, start):
        self.name, self.args, self.start = name, args, start
        self.end = start
        self.block = None
        self.bopen = None      # offset just after the block's "{"


def parse(src):
    toks = lex(src)
    pos = 0

    def block(depth):
        nonlocal pos
        out = []
        while pos < len(toks):
            t = toks[pos]
            if t.text == "}" and t.quoted is None:
                pos += 1
                return out
            words = []
            while pos < len(toks) and not (toks[pos].quoted is None and toks[pos].text in "{};"):
                words.append(toks[pos])
                pos += 1
            if not words:
                pos += 1
                continue
            s = Stmt(words[0].text, words[1:], words[0].start)
            if pos < len(toks) and toks[pos].text == "{":
                s.bopen = toks[pos].end
                pos += 1
                s.block = block(depth + 1)
                s.end = toks[pos - 1].end if pos <= len(toks) else len(src)
            else:
                s.end = toks[pos].end if pos < len(toks) else len(src)
                pos += 1
            out.append(s)
        return out

    return block(0)


def walk(stmts, ctx=("main",)):
    for s in stmts:
        yield s, ctx
        if s.block is not None:
            yield from walk(s.block, ctx + (s.name,))


# --- stubbing ---

# *_pass targets without a port must name an upstream; a stubbed host gets one.
# The modification time of the files created for static requests:
# 2024-01-02 03:04:05 UTC.
FILE_TIME = 1704164645

DEFAULT_PORT = {"fastcgi_pass": 9000, "uwsgi_pass": 3031, "scgi_pass": 4000, "memcached_pass": 11211}

IP4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


def is_literal_addr(h):
    return (h == "" or h == "*" or h == "localhost" or IP4.match(h) is not None
            or h.startswith("[") or "$" in h or h.startswith("unix:"))


def split_hostport(hp):
    if hp.startswith("["):
        k = hp.find("]")
        return hp[:k + 1], hp[k + 1:]
    if ":" in hp:
        h, _, p = hp.rpartition(":")
        return h, ":" + p
    return hp, ""


class Stubber:
    def __init__(self, src_file, prefix, assets, stubs, ports="", backend=""):
        self.src_file = os.path.abspath(src_file)
        self.prefix = os.path.abspath(prefix)
        self.assets = assets
        self.stubs = stubs
        base = self.src_file[:-5] if self.src_file.endswith(".conf") else self.src_file
        self.companions = base + ".d"
        self.files = {}        # dest path -> (text, stmts)
        self.order = []
        self.roles = {}        # dest path -> set of roles for generated files
        self.upstreams = set()
        self.serve_ports = [p for p in ports.split(",") if p]
        self.backend = backend
        self.port_map = {}     # original listen port -> loopback port

    def listen_addr(self, t):
        """The loopback address a listen token is served on (None: kept)."""
        if t.startswith("unix:"):
            return None
        if t.startswith("["):
            h, port = split_hostport(t)
            port = port[1:] or "80"
            host = "[::1]"
        elif ":" in t:
            h, port = split_hostport(t)
            port, host = port[1:], "127.0.0.1"
        elif t.isdigit():
            port, host = t, "127.0.0.1"
        else:
            port, host = "80", "127.0.0.1"
        if port not in self.port_map:
            if not self.serve_ports:
                raise SystemExit("stub.py: more listen ports than PORTS gives")
            self.port_map[port] = self.serve_ports.pop(0)
        return "%s:%s" % (host, self.port_map[port])

    # where a path the config names lives under PREFIX
    def place(self, p):
        if p.startswith("/"):
            return os.path.join(self.prefix, "fs", p.lstrip("/")), True
        return os.path.join(self.prefix, p), False

    def include_source(self, p):
        cands = []
        if p.startswith("/"):
            rel = p.lstrip("/")
            cands.append(os.path.join(self.companions, rel))
            if p.startswith(DEBIAN_NGINX + "/"):
                sub = p[len(DEBIAN_NGINX) + 1:]
                cands += [os.path.join(self.companions, sub), os.path.join(self.stubs, "etc/nginx", sub)]
            cands.append(os.path.join(self.stubs, rel))
            if p.startswith(DEBIAN_NGINX + "/"):
                cands.append(p)
        else:
            cands += [os.path.join(self.companions, p), os.path.join(self.stubs, "etc/nginx", p),
                      os.path.join(DEBIAN_NGINX, p)]
        for c in cands:
            if os.path.isfile(c):
                return c
        return None

    def load(self, dest, text):
        if dest in self.files:
            return
        stmts = parse(text)
        self.files[dest] = (text, stmts)
        self.order.append(dest)
        for s, ctx in walk(stmts):
            if s.name == "upstream" and s.args:
                self.upstreams.add(s.args[0].text)
            if s.name == "include" and s.args:
                self.load_include(s.args[0].text)

    def load_include(self, p):
        dest, _ = self.place(p)
        if any(ch in p for ch in "*?["):
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            pat_dir = os.path.dirname(p)
            for base in ([os.path.join(self.companions, pat_dir.lstrip("/"))] +
                         ([os.path.join(self.companions, pat_dir[len(DEBIAN_NGINX) + 1:])]
                          if p.startswith(DEBIAN_NGINX + "/") else [])):
                if os.path.isdir(base):
                    for f in sorted(os.listdir(base)):
                        if fnmatch.fnmatch(f, os.path.basename(p)):
                            d = os.path.join(os.path.dirname(dest), f)
                            self.load(d, open(os.path.join(base, f), encoding="utf-8", errors="replace").read())
            return
        src = self.include_source(p)
        text = open(src, encoding="utf-8", errors="replace").read() if src else ""
        self.load(dest, text)

    def edits_for(self, text, stmts):
        ed = []

        def repl(tok, new):
            if tok.quoted:
                new = tok.quoted + new + tok.quoted
            ed.append((tok.start, tok.end, new))

        def blank(s):
            seg = text[s.start:s.end]
            ed.append((s.start, s.end, re.sub(r"[^\n]", " ", seg)))

        def remap_path(tok, role=None, mkdir_only=False, is_dir=False):
            p = tok.text
            if not p or p.startswith("/dev/") or p.startswith("syslog:") or p in ("off", "stderr") \
                    or p.startswith("data:") or p.startswith("memory:"):
                return
            if role and "$" in p:
                return
            dest, was_abs = self.place(p)
            target_dir = dest if is_dir else os.path.dirname(dest)
            os.makedirs(target_dir.split("$")[0] if "$" in target_dir else target_dir, exist_ok=True)
            if role:
                self.roles.setdefault(dest, set()).add(role)
            if was_abs:
                repl(tok, dest)

        for s, ctx in walk(stmts):
            a = s.args
            if ctx == ("main",) and s.name in ("user", "pid"):
                blank(s)
            elif self.backend and ctx == ("main",) and s.name in ("daemon", "master_process"):
                blank(s)
            elif self.backend and s.name == "listen" and a:
                addr = self.listen_addr(a[0].text)
                if addr:
                    repl(a[0], addr)
            elif self.backend and s.name == "server" and len(ctx) and ctx[-1] == "upstream" and a \
                    and not a[0].text.startswith("unix:"):
                repl(a[0], self.backend)
            elif self.backend and s.name in ("proxy_pass", "grpc_pass") and a and "$" not in a[0].text:
                m = re.match(r"^([a-z]+://)([^/]*)(.*)$", a[0].text)
                if m and not m.group(2).startswith("unix:") and m.group(2) not in self.upstreams:
                    repl(a[0], m.group(1) + self.backend + m.group(3))
            elif s.name == "include" and a:
                dest, was_abs = self.place(a[0].text)
                if was_abs:
                    repl(a[0], dest)
            elif s.name in ("ssl_certificate", "proxy_ssl_certificate") and a:
                remap_path(a[0], "cert")
            elif s.name in ("ssl_certificate_key", "proxy_ssl_certificate_key") and a:
                remap_path(a[0], "key")
            elif s.name in ("ssl_trusted_certificate", "ssl_client_certificate",
                            "proxy_ssl_trusted_certificate") and a:
                remap_path(a[0], "ca")
            elif s.name == "ssl_dhparam" and a:
                remap_path(a[0], "dh")
            elif s.name == "ssl_session_ticket_key" and a:
                remap_path(a[0], "ticket")
            elif s.name == "ssl_password_file" and a:
                remap_path(a[0], "password")
            elif self.backend and s.name in ("access_log", "error_log") and a \
                    and a[0].text in ("/dev/stdout", "/dev/stderr"):
                repl(a[0], os.path.join(self.prefix, "logs", os.path.basename(a[0].text) + ".log"))
            elif s.name in ("access_log", "error_log") and a:
                remap_path(a[0])
            elif self.backend and s.name in ("root", "alias") and a and a[0].text.startswith("/") \
                    and "$" not in a[0].text and not a[0].text.startswith("/dev/"):
                repl(a[0], self.place(a[0].text)[0] + ("/" if a[0].text.endswith("/") else ""))
            elif s.name in ("client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path",
                            "uwsgi_temp_path", "scgi_temp_path", "proxy_cache_path",
                            "fastcgi_cache_path", "uwsgi_cache_path", "scgi_cache_path") and a:
                remap_path(a[0], is_dir=True)
            elif s.name == "server" and len(ctx) and ctx[-1] == "upstream" and a \
                    and not a[0].text.startswith("unix:"):
                h, port = split_hostport(a[0].text)
                if not is_literal_addr(h):
                    repl(a[0], "127.0.0.1" + port)
            elif s.name in ("proxy_pass", "grpc_pass") and a and "$" not in a[0].text:
                m = re.match(r"^([a-z]+://)([^/]*)(.*)$", a[0].text)
                if m and not m.group(2).startswith("unix:"):
                    h, port = split_hostport(m.group(2))
                    if h not in self.upstreams and not is_literal_addr(h):
                        repl(a[0], m.group(1) + "127.0.0.1" + port + m.group(3))
            elif s.name in DEFAULT_PORT and a and "$" not in a[0].text \
                    and not a[0].text.startswith("unix:"):
                m = re.match(r"^([a-z]+://)?(.*)$", a[0].text)
                h, port = split_hostport(m.group(2))
                if h not in self.upstreams and not is_literal_addr(h):
                    repl(a[0], (m.group(1) or "") + "127.0.0.1" + (port or ":%d" % DEFAULT_PORT[s.name]))
            elif s.name == "listen" and a:
                t = a[0].text
                if ":" in t and not t.startswith("unix:"):
                    h, port = split_hostport(t)
                    if not is_literal_addr(h):
                        repl(a[0], "127.0.0.1" + port)
                elif re.match(r"^[A-Za-z][A-Za-z0-9.-]*$", t) and t != "localhost":
                    repl(a[0], "127.0.0.1")
            elif s.name == "resolver":
                for t in a:
                    if "=" in t.text:
                        continue
                    h, port = split_hostport(t.text)
                    if not is_literal_addr(h):
                        repl(t, "127.0.0.1" + port)
            elif s.name == "load_module" and a and not a[0].text.startswith("/"):
                d = os.path.join(self.prefix, os.path.dirname(a[0].text))
                if os.path.isdir("/usr/lib/nginx/modules") and not os.path.exists(d):
                    os.makedirs(os.path.dirname(d), exist_ok=True)
                    os.symlink("/usr/lib/nginx/modules", d)
        return ed

    def expand(self, stmts):
        """Statements of a block with include directives replaced by the
        statements of the files they name."""
        for st in stmts:
            if st.name == "include" and st.args:
                dest, _ = self.place(st.args[0].text)
                if any(ch in st.args[0].text for ch in "*?["):
                    for d in sorted(self.files):
                        if os.path.dirname(d) == os.path.dirname(dest) and \
                                fnmatch.fnmatch(os.path.basename(d), os.path.basename(dest)):
                            yield from self.expand(self.files[d][1])
                elif dest in self.files:
                    yield from self.expand(self.files[dest][1])
            else:
                yield st

    def cert_injections(self, main_dest):
        """A server that listens with ssl but has no ssl_certificate (a doc
        snippet, or certificate lines left commented out) gets the stub pair
        inserted right after its "{", on the same line."""
        stmts = self.files[main_dest][1]
        http = [st for st in stmts if st.name == "http" and st.block is not None]
        http_level = list(self.expand(http[0].block if http else stmts))
        http_has = any(st.name == "ssl_certificate" for st in http_level)
        out = {}
        cert = os.path.join(self.prefix, "fs", "stub-injected", "cert.pem")
        key = os.path.join(self.prefix, "fs", "stub-injected", "key.pem")
        for dest in self.order:
            for st, ctx in walk(self.files[dest][1]):
                if st.name != "server" or st.block is None or "upstream" in ctx:
                    continue
                body = list(self.expand(st.block))
                ssl = any((b.name == "listen" and any(t.text == "ssl" for t in b.args)) or
                          (b.name == "ssl" and b.args and b.args[0].text == "on") for b in body)
                if ssl and not http_has and not any(b.name == "ssl_certificate" for b in body):
                    out.setdefault(dest, []).append(
                        (st.bopen, st.bopen, " ssl_certificate %s; ssl_certificate_key %s;" % (cert, key)))
                    self.roles.setdefault(cert, set()).add("cert")
                    self.roles.setdefault(key, set()).add("key")
                    line = self.files[dest][0].count("\n", 0, st.bopen) + 1
                    sys.stderr.write("stub: %s:%d: server listens with ssl and has no ssl_certificate: "
                                     "inserted the stub pair\n" % (os.path.basename(dest), line))
        return out

    def loc_path(self, args):
        """A request path a location's arguments match (None: none found)."""
        a = [t.text for t in args]
        if not a or a[0].startswith("@"):
            return None
        if a[0] in ("=", "^~") and len(a) > 1:
            return a[1]
        if a[0] in ("~", "~*") and len(a) > 1:
            # the literal start, and the first branch of a group after it:
            # "^/(api|feeds)" -> "/api"
            m = re.match(r"^\^?(/[A-Za-z0-9_./-]*)(?:\((?:\?:)?([A-Za-z0-9_.-]+)[|)])?", a[1])
            return m.group(1) + (m.group(2) or "") if m else None
        if a[0].startswith("/"):
            return a[0]
        return None

    def static_file(self, loc, body, uri):
        """Creates the file a GET of uri reads through a location's own
        root or alias (a prefix location's), with a fixed modification
        time, so that both proxies serve the same bytes, ETag and
        Last-Modified."""
        d = [b for b in body if b.name in ("root", "alias") and b.args]
        if not d or "$" in d[-1].args[0].text:
            return
        base, _ = self.place(d[-1].args[0].text)
        if d[-1].name == "root":
            f = base.rstrip("/") + uri
        else:
            lp = self.loc_path(loc.args)
            if [t.text for t in loc.args][0] in ("~", "~*") or not uri.startswith(lp):
                return
            f = base + uri[len(lp):]
        if f.endswith("/"):
            return
        try:
            os.makedirs(os.path.dirname(f), exist_ok=True)
            with open(f, "w") as fh:
                fh.write("corpus static file\n")
            os.utime(f, (FILE_TIME, FILE_TIME))
        except OSError:
            pass

    def serve_plan(self, injected):
        """Servers to send requests to, and a listen line for each server
        that has none (nginx's default, *:80)."""
        plan = []
        for dest in self.order:
            for st, ctx in walk(self.files[dest][1]):
                if st.name != "server" or st.block is None or \
                        any(c in ctx for c in ("upstream", "stream", "mail")):
                    continue
                body = list(self.expand(st.block))
                srv = {"listen": [], "names": [], "ws": [], "static": []}
                listens = [b for b in body if b.name == "listen" and b.args]
                if not listens:
                    addr = self.listen_addr("80")
                    injected.setdefault(dest, []).append((st.bopen, st.bopen, " listen %s;" % addr))
                    srv["listen"].append({"addr": addr, "ssl": False})
                ssl_on = any(b.name == "ssl" and b.args and b.args[0].text == "on" for b in body)
                for b in listens:
                    addr = self.listen_addr(b.args[0].text)
                    if addr:
                        srv["listen"].append({"addr": addr, "ssl": ssl_on or any(t.text == "ssl" for t in b.args[1:])})
                for b in body:
                    if b.name == "server_name":
                        srv["names"] += [t.text for t in b.args]
                upgrade = any(b.name == "proxy_set_header" and b.args and b.args[0].text.lower() == "upgrade"
                              for b in body)

                def locations(stmts, upgrade):
                    for b in stmts:
                        if b.name != "location" or b.block is None:
                            continue
                        lb = list(self.expand(b.block))
                        names = {x.name for x in lb}
                        up = upgrade or any(x.name == "proxy_set_header" and x.args and
                                            x.args[0].text.lower() == "upgrade" for x in lb)
                        path = self.loc_path(b.args)
                        if path:
                            if "proxy_pass" in names and up:
                                srv["ws"].append(path)
                            elif names & {"root", "alias"} and not names & {"proxy_pass", "return"}:
                                uri = path + ("corpus-static.txt" if path.endswith("/") else "")
                                srv["static"].append(uri)
                                self.static_file(b, lb, uri)
                        locations(lb, up if not any(x.name == "proxy_set_header" for x in lb) else
                                  any(x.name == "proxy_set_header" and x.args and
                                      x.args[0].text.lower() == "upgrade" for x in lb))

                locations(body, upgrade)
                plan.append(srv)
        return plan

    def run(self):
        main_dest = os.path.join(self.prefix, os.path.basename(self.src_file))
        http_d = os.path.join(self.companions, "http.d")
        http_d_dests = []
        if os.path.isdir(http_d):
            for f in sorted(os.listdir(http_d)):
                dest = os.path.join(self.prefix, "http.d", f)
                self.load(dest, open(os.path.join(http_d, f), encoding="utf-8", errors="replace").read())
                http_d_dests.append(dest)
        self.load(main_dest, open(self.src_file, encoding="utf-8", errors="replace").read())
        injected = self.cert_injections(main_dest)
        plan = self.serve_plan(injected) if self.backend else None
        # nginx opens its compiled-in default access log (/var/log/nginx/
        # access.log) when the http level names none: not writable unless
        # root, so an http block without access_log gets one under PREFIX.
        access = os.path.join(self.prefix, "logs", "access.log")
        # nginx alone also creates (and, as root, chowns) its compiled-in
        # temp directories under /var/lib/nginx: nginx's copy of the file
        # gets them under PREFIX (wsgate has no use for them).
        temps = ["client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path",
                 "uwsgi_temp_path", "scgi_temp_path"]
        nginx_only = []
        http_stmt = None
        for st in self.files[main_dest][1]:
            if st.name == "http" and st.block is not None:
                http_stmt = st
                level = list(self.expand(st.block))
                if not any(b.name == "access_log" for b in level):
                    injected.setdefault(main_dest, []).append((st.bopen, st.bopen, " access_log %s;" % access))
                have = {b.name for b in level}
                nginx_only = [(st.bopen, st.bopen, "".join(
                    " %s %s;" % (t, os.path.join(self.prefix, "temp", t)) for t in temps if t not in have))]
        for t in temps:
            os.makedirs(os.path.join(self.prefix, "temp", t), exist_ok=True)
        nginx_main = main_dest
        for dest in self.order:
            text, stmts = self.files[dest]
            edits = self.edits_for(text, stmts) + injected.get(dest, [])
            targets = [(dest, edits)]
            if dest == main_dest and http_stmt is not None:
                nginx_main = os.path.join(self.prefix, "nginx-" + os.path.basename(main_dest))
                targets.append((nginx_main, edits + nginx_only))
            for path, eds in targets:
                out = text
                for st, en, new in sorted(eds, key=lambda e: -e[0]):
                    out = out[:st] + new + out[en:]
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as fh:
                    fh.write(out)
        for dest, roles in self.roles.items():
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            parts = []
            if roles & {"cert", "ca"}:
                parts.append("cert.pem")
            if "key" in roles:
                parts.append("key.pem")
            if "dh" in roles:
                parts.append("dh.pem")
            if "ticket" in roles:
                parts.append("ticket.key")
            if "password" in roles:
                parts.append("password.txt")
            with open(dest, "wb") as fh:
                for p in parts:
                    fh.write(open(os.path.join(self.assets, p), "rb").read())
        os.makedirs(os.path.join(self.prefix, "logs"), exist_ok=True)
        top = {st.name for st in self.files[main_dest][1]}
        wrapper = os.path.join(self.prefix, "wrapper.conf")
        nginx_conf, wsgate_conf = nginx_main, main_dest
        if "http" in top:
            if "events" not in top:
                # an nginx.conf without events {} (a doc snippet): both get it
                nginx_conf, wsgate_conf = wrapper + ".nginx", wrapper
                for w, m in ((wrapper, main_dest), (wrapper + ".nginx", nginx_main)):
                    with open(w, "w") as fh:
                        fh.write("events {}\ninclude %s;\n" % m)
        else:
            # a sites file: nginx needs events {} and http { }; wsgate reads
            # the file itself, unless the entry brings http-level companions
            # (a map or upstreams its real nginx.conf includes) that both need.
            nginx_conf = wrapper + ".nginx"
            for w, extra in ((wrapper, ""), (wrapper + ".nginx", "".join(
                    "%s %s;\n" % (t, os.path.join(self.prefix, "temp", t)) for t in temps))):
                with open(w, "w") as fh:
                    fh.write("events {}\nhttp {\naccess_log %s;\n%s" % (access, extra))
                    for d in http_d_dests:
                        fh.write("include %s;\n" % d)
                    fh.write("include %s;\n}\n" % main_dest)
            if http_d_dests or self.backend:
                # served, wsgate too gets the wrapper: its access_log
                # (wsgate's default is standard output)
                wsgate_conf = wrapper
        print(nginx_conf)
        print(wsgate_conf)
        if plan is not None:
            print(json.dumps(plan))

if __name__ == "__main__":
    Stubber(*sys.argv[1:7]).run()
