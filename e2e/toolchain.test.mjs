// Proves the real-client toolchain works on this machine: headless
// Chromium (driven by playwright-core) and Node's ws both complete a
// WebSocket exchange with a ws server on 127.0.0.1. Suites that go through
// wsgate build on the same pieces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocketServer, WebSocket } from 'ws';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

async function echoServer() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => wss.once('listening', resolve));
  wss.on('connection', (s) => s.on('message', (m, binary) => s.send(m, { binary })));
  return wss;
}

test('node ws client echoes through a loopback ws server', async () => {
  const wss = await echoServer();
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${wss.address().port}/echo`);
    const got = await new Promise((resolve, reject) => {
      ws.on('open', () => ws.send('hello'));
      ws.on('message', (m) => resolve(m.toString()));
      ws.on('error', reject);
    });
    ws.close();
    assert.equal(got, 'hello');
  } finally {
    wss.close();
  }
});

test('headless chromium opens a WebSocket to a loopback ws server', { timeout: 60000 }, async () => {
  const wss = await echoServer();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--headless=new'],
  });
  try {
    const page = await browser.newPage();
    const url = `ws://127.0.0.1:${wss.address().port}/echo`;
    const got = await page.evaluate((u) => new Promise((resolve, reject) => {
      const ws = new WebSocket(u);
      ws.onopen = () => ws.send('from-browser');
      ws.onmessage = (e) => { resolve(e.data); ws.close(); };
      ws.onerror = () => reject(new Error('websocket error'));
    }), url);
    assert.equal(got, 'from-browser');
  } finally {
    await browser.close();
    wss.close();
  }
});
