// Real-client check with Node's ws through wsgate. Usage: node client.mjs URL
// where URL reaches the e2e control backend (echo; "close:CODE:REASON" makes
// it close). Prints one line per check and "ALL OK" at the end; exits 1 on
// the first failure.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const require = createRequire(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'package.json'));
const WebSocket = require('ws');

const url = process.argv[2];
const sizes = [0, 125, 126, 65535, 65536, 16 << 20];

function fail(msg) {
  console.log('FAIL ' + msg);
  process.exit(1);
}

function open(u, protocols, opts) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(u, protocols, { maxPayload: 64 << 20, perMessageDeflate: false, ...opts });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function next(ws) {
  return new Promise((resolve, reject) => {
    const onClose = (code) => reject(new Error('closed ' + code));
    ws.once('message', (data, isBinary) => {
      ws.off('close', onClose);
      resolve({ data, isBinary });
    });
    ws.once('close', onClose);
  });
}

function closed(ws) {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

function fill(n, seed) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = 97 + ((i + seed) % 26);
  return b;
}

const timer = setTimeout(() => fail('timed out'), 50000);

const ws = await open(url);
for (const binary of [false, true]) {
  for (const n of sizes) {
    const p = fill(n, n % 26);
    const got = next(ws);
    ws.send(binary ? p : p.toString(), { binary });
    const { data, isBinary } = await got;
    if (isBinary !== binary || !Buffer.from(data).equals(p)) fail(`echo ${binary ? 'binary' : 'text'} ${n} B: got ${data.length} B binary=${isBinary}`);
  }
}
console.log('ok sizes');

{
  const got = next(ws);
  const parts = [fill(1000, 1), fill(2000, 2), fill(3000, 3)];
  parts.forEach((p, i) => ws.send(p, { binary: true, fin: i === parts.length - 1 }));
  const { data } = await got;
  if (!Buffer.from(data).equals(Buffer.concat(parts))) fail('fragmented message');
  console.log('ok fragmented');
}

{
  const pong = new Promise((resolve) => ws.once('pong', (d) => resolve(d.toString())));
  ws.ping('are you there');
  if ((await pong) !== 'are you there') fail('pong payload');
  console.log('ok ping/pong');
}

{
  const c = closed(ws);
  ws.close(4000, 'client bye');
  const { code, reason } = await c;
  if (code !== 4000 || reason !== 'client bye') fail(`client close echoed as ${code} ${reason}`);
  console.log('ok client close 4000');
}

{
  const s = await open(url);
  const c = closed(s);
  s.send('close:4001:server bye');
  const { code, reason } = await c;
  if (code !== 4001 || reason !== 'server bye') fail(`server close seen as ${code} ${reason}`);
  console.log('ok server close 4001');
}

{
  const s = await open(url, ['superchat', 'chat']);
  if (s.protocol !== 'chat') fail(`subprotocol ${s.protocol}`);
  s.close(1000);
  console.log('ok subprotocol');
}

{
  const s = await open(url + '?deflate', [], { perMessageDeflate: true });
  if (!s.extensions.includes('permessage-deflate')) fail(`extensions "${s.extensions}"`);
  const p = Buffer.from('compressible '.repeat(5000));
  const got = next(s);
  s.send(p.toString());
  const { data } = await got;
  if (!Buffer.from(data).equals(p)) fail('deflate echo');
  s.close(1000);
  console.log('ok permessage-deflate');
}

clearTimeout(timer);
console.log('ALL OK');
process.exit(0);
