// Node's ws against wsgate's own WebSocket features. Usage:
//   node native.mjs BASE   (BASE is ws://HOST:PORT)
// BASE/ws/ pings clients every 50 ms with proxy_read_timeout 300ms,
// BASE/limited/ has ws_max_message_size 10 and BASE/origin/ allows only
// https://app.example. Prints one line per check and "ALL OK" at the end;
// exits 1 on the first failure.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const require = createRequire(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'package.json'));
const WebSocket = require('ws');

const base = process.argv[2];

function fail(msg) {
  console.log('FAIL ' + msg);
  process.exit(1);
}

function open(u, opts) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(u, { perMessageDeflate: false, ...opts });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function closed(ws) {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  // ws answers wsgate's Pings itself: the idle tunnel outlives
  // proxy_read_timeout (300 ms) and still echoes.
  {
    const ws = await open(base + '/ws/echo');
    let pings = 0;
    let gone = false;
    ws.on('ping', () => pings++);
    ws.once('close', () => { gone = true; });
    await sleep(1200);
    if (gone) fail('the pinged idle tunnel was closed');
    if (pings < 3) fail('got ' + pings + ' Pings in 1.2 s; want several');
    const echo = new Promise((resolve) => ws.once('message', (d) => resolve(d.toString())));
    ws.send('still here');
    if ((await echo) !== 'still here') fail('no echo after idling');
    const c = closed(ws);
    ws.close(1000, 'bye');
    await c;
    console.log('ok pings answered by ws keep an idle tunnel (' + pings + ' Pings)');
  }
  // A client that does not answer (autoPong off) is dropped: its socket is
  // closed without a Close frame (1006 here).
  {
    const ws = await open(base + '/ws/echo', { autoPong: false });
    const { code } = await closed(ws);
    if (code !== 1006) fail('silent client: got close ' + code + '; want 1006 (socket closed)');
    console.log('ok a client that stops answering Pings is dropped');
  }
  // Just below the limit echoes; just above gets Close 1009.
  {
    const ws = await open(base + '/limited/echo');
    const echo = new Promise((resolve) => ws.once('message', (d) => resolve(d.toString())));
    ws.send('0123456789');
    if ((await echo) !== '0123456789') fail('no echo of a message at the limit');
    const c = closed(ws);
    ws.send('0123456789A');
    const { code, reason } = await c;
    if (code !== 1009) fail('message above the limit: got close ' + code + ' ' + reason + '; want 1009');
    console.log('ok ws_max_message_size: 10 bytes echo, 11 get 1009 (' + reason + ')');
  }
  // A forbidden Origin is refused with 403.
  {
    const status = await new Promise((resolve) => {
      const ws = new WebSocket(base + '/origin/echo', { origin: 'https://attacker.example' });
      ws.once('unexpected-response', (req, res) => {
        req.destroy();
        resolve(res.statusCode);
      });
      ws.once('open', () => resolve(101));
      ws.once('error', () => resolve(0));
    });
    if (status !== 403) fail('forbidden Origin: got ' + status + '; want 403');
    const ws = await open(base + '/origin/echo', { origin: 'https://app.example' });
    ws.terminate();
    console.log('ok ws_allow_origins: 403 for another site, 101 for the allowed one');
  }
  console.log('ALL OK');
  process.exit(0);
}

main().catch((e) => fail(e.stack || String(e)));
