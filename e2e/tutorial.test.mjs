// Node's ws client through wsgate running the tutorial's configuration
// ("How to Proxy WebSocket Connections with Nginx": location /ws/ to a
// WebSocket backend, location / to an app): the handshake reaches the
// backend with the tutorial's headers, messages echo, Close codes pass
// both ways, and a graceful stop (SIGQUIT) sends Close 1001.
//
// wsgate is $WSGATE_BIN when set (scripts/test.sh builds it), else built
// here with go.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createConnection, createServer as createTCPServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer, WebSocket } from 'ws';

const root = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'wsgate-e2e-node-'));
let gate, backend, app, wsgateBin;
let port;
const seen = []; // handshakes the backend received: { url, headers }
const closes = []; // Close frames the backend received: { code, reason }

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createTCPServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

async function waitForPort(p, proc) {
  for (let i = 0; i < 200; i++) {
    if (proc.exitCode !== null) throw new Error(`wsgate exited with ${proc.exitCode}: ${proc.stderrText}`);
    const ok = await new Promise((resolve) => {
      const c = createConnection({ host: '127.0.0.1', port: p }, () => { c.destroy(); resolve(true); });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`wsgate did not listen on ${p}: ${proc.stderrText}`);
}

before(async () => {
  wsgateBin = process.env.WSGATE_BIN;
  if (!wsgateBin) {
    wsgateBin = join(dir, 'wsgate');
    execFileSync('go', ['build', '-o', wsgateBin, './cmd/wsgate'], { cwd: root, stdio: 'inherit' });
  }
  backend = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => backend.once('listening', r));
  backend.on('connection', (s, req) => {
    seen.push({ url: req.url, headers: req.headers });
    s.on('message', (m, binary) => {
      if (!binary && m.toString() === 'close me 4002') s.close(4002, 'backend says bye');
      else s.send(m, { binary });
    });
    s.on('close', (code, reason) => closes.push({ code, reason: reason.toString() }));
  });
  app = createServer((req, res) => { res.end(`app saw ${req.method} ${req.url}\n`); });
  await new Promise((r) => app.listen(0, '127.0.0.1', r));

  port = await freePort();
  // The tutorial's server block, its addresses replaced by loopback ports.
  const conf = `events {}
http {
access_log off;
server {
listen 127.0.0.1:${port};
server_name localhost;
location /ws/ {
proxy_pass http://127.0.0.1:${backend.address().port};
proxy_http_version 1.1;
proxy_set_header Upgrade $http_upgrade;
proxy_set_header Connection "upgrade";
proxy_set_header Host $host;
proxy_read_timeout 86400;
}
location / {
proxy_pass http://127.0.0.1:${app.address().port};
}
}
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  gate = spawn(wsgateBin, ['-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  gate.stderrText = '';
  gate.stderr.on('data', (d) => { gate.stderrText += d; });
  await waitForPort(port, gate);
});

after(async () => {
  if (gate && gate.exitCode === null) {
    gate.kill('SIGTERM');
    await new Promise((r) => gate.once('exit', r));
  }
  backend?.close();
  app?.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(path) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
  ws.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  return new Promise((resolve, reject) => { ws.on('open', () => resolve(ws)); ws.on('error', reject); });
}

const next = (ws) => new Promise((resolve) => ws.once('message', (m, binary) => resolve({ data: m, binary })));

test('location / reaches the app through wsgate', async () => {
  const res = await fetch(`http://127.0.0.1:${port}/hello?x=1`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('server') || '', /^wsgate/);
  assert.equal(await res.text(), 'app saw GET /hello?x=1\n');
});

test('the backend receives the tutorial\'s headers and messages echo', async () => {
  const ws = await open('/ws/echo?node');
  const hs = seen.find((s) => s.url === '/ws/echo?node');
  assert.ok(hs, `backend saw ${JSON.stringify(seen.map((s) => s.url))}`);
  assert.equal(hs.headers.upgrade, 'websocket');
  assert.equal(hs.headers.connection, 'upgrade');
  assert.equal(hs.headers.host, '127.0.0.1'); // $host: the request's host, without the port
  for (const [data, binary] of [['text through wsgate', false], [Buffer.alloc(70000, 7), true]]) {
    ws.send(data, { binary });
    const got = await next(ws);
    assert.equal(got.binary, binary);
    assert.deepEqual(Buffer.from(got.data), Buffer.from(data));
  }
  ws.close(1000, 'done');
  assert.deepEqual(await ws.closed, { code: 1000, reason: 'done' });
});

test('Close codes pass both ways', async () => {
  const a = await open('/ws/client-closes');
  a.close(4001, 'client says bye');
  assert.deepEqual(await a.closed, { code: 4001, reason: 'client says bye' });
  for (let i = 0; i < 100 && !closes.some((c) => c.code === 4001); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(closes.some((c) => c.code === 4001 && c.reason === 'client says bye'), `backend got ${JSON.stringify(closes)}`);

  const b = await open('/ws/backend-closes');
  b.send('close me 4002');
  assert.deepEqual(await b.closed, { code: 4002, reason: 'backend says bye' });
});

test('a graceful stop (SIGQUIT) sends Close 1001', async () => {
  const ws = await open('/ws/held');
  gate.kill('SIGQUIT');
  const got = await ws.closed;
  assert.equal(got.code, 1001);
  const code = await new Promise((r) => (gate.exitCode !== null ? r(gate.exitCode) : gate.once('exit', r)));
  assert.equal(code, 0, gate.stderrText);
});
