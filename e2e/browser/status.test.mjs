// Headless Chromium on wsgate's live status page (ws_status): the page
// loads through wsgate, its WebSocket (answered by wsgate itself, no
// backend) goes live, the upstream peer shows as up, a tunnel opened
// through wsgate appears among the busiest tunnels with its messages and
// leaves when it closes, the page fits a phone's width, and a graceful
// stop closes the feed. Saves screenshots (desktop and phone widths).
//
// Usage: node e2e/browser/status.test.mjs [SCREENSHOT_DIR]
// Environment: WSGATE_BIN (else built here with go), CHROMIUM (default
// /usr/bin/chromium).
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { WebSocketServer, WebSocket } from "ws";
import { check, finish, launch } from "./chromium.mjs";

const here = dirname(new URL(import.meta.url).pathname);
const root = join(here, "..", "..");
const outDir = process.argv[2] || join(root, "e2e", "out");

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

async function waitForPort(p, proc) {
  for (let i = 0; i < 200; i++) {
    if (proc.exitCode !== null) throw new Error(`wsgate exited with ${proc.exitCode}: ${proc.stderrText}`);
    const ok = await new Promise((resolve) => {
      const c = createConnection({ host: "127.0.0.1", port: p }, () => { c.destroy(); resolve(true); });
      c.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`wsgate did not listen on ${p}: ${proc.stderrText}`);
}

const dir = mkdtempSync(join(tmpdir(), "wsgate-status-"));
let wsgateBin = process.env.WSGATE_BIN;
if (!wsgateBin) {
  wsgateBin = join(dir, "wsgate");
  execFileSync("go", ["build", "-o", wsgateBin, "./cmd/wsgate"], { cwd: root, stdio: "inherit" });
}
const backend = new WebSocketServer({ host: "127.0.0.1", port: 0 });
await new Promise((r) => backend.once("listening", r));
backend.on("connection", (s) => s.on("message", (m, binary) => s.send(m, { binary })));
const peer = `127.0.0.1:${backend.address().port}`;
const port = await freePort();
writeFileSync(join(dir, "nginx.conf"), `events {}
http {
access_log off;
upstream chat { server ${peer}; }
server {
listen 127.0.0.1:${port};
location /ws/ { proxy_pass http://chat; }
location = /status { ws_status; }
}
}
`);
const gate = spawn(wsgateBin, ["-c", join(dir, "nginx.conf")], { stdio: ["ignore", "ignore", "pipe"] });
gate.stderrText = "";
gate.stderr.on("data", (d) => { gate.stderrText += d; });

let browser;
try {
  await waitForPort(port, gate);
  browser = await launch(["--disable-quic"], { viewport: { width: 1280, height: 800 } });
  const page = browser.pages()[0] || await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const sockets = [];
  page.on("websocket", (ws) => sockets.push(ws.url()));

  const url = `http://127.0.0.1:${port}/status`;
  const resp = await page.goto(url, { waitUntil: "load", timeout: 15000 });
  check(resp.status() === 200, "page answered 200", resp.status());
  check((resp.headers()["server"] || "").startsWith("wsgate"), "page came from wsgate (Server header)", resp.headers()["server"]);
  check((await page.title()) === "wsgate status", "page title", await page.title());

  await page.waitForFunction(() => document.getElementById("conn").dataset.state === "open" && Number(document.body.dataset.views) >= 1,
    null, { timeout: 10000 }).catch(() => {});
  check(await page.$eval("#conn", (e) => e.dataset.state) === "open", "the page's WebSocket is live", await page.textContent("#conn"));
  check(sockets.includes(`ws://127.0.0.1:${port}/status`), "its WebSocket goes to the status location itself", sockets);
  const ups = await page.$$eval("#upstreams tbody tr", (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
  check(ups.length === 1 && ups[0][0] === "chat" && ups[0][1] === peer && ups[0][2] === "up", "the upstream peer is listed as up", ups);
  check(await page.textContent("#tunnels tbody") === "none", "no tunnel before one opens", await page.textContent("#tunnels tbody"));

  // A tunnel through wsgate, with five echoed messages.
  const client = new WebSocket(`ws://127.0.0.1:${port}/ws/room?token=secret`);
  await new Promise((resolve, reject) => { client.on("open", resolve); client.on("error", reject); });
  for (let i = 0; i < 5; i++) {
    client.send(`message ${i}`);
    await new Promise((r) => client.once("message", r));
  }
  await page.waitForFunction(() => [...document.querySelectorAll("#tunnels tbody tr")]
    .some((tr) => tr.dataset.path === "/ws/room" && tr.cells[5].textContent === "5 / 5"), null, { timeout: 10000 }).catch(() => {});
  const rows = await page.$$eval("#tunnels tbody tr", (rs) => rs.map((r) => [...r.cells].map((c) => c.textContent)));
  const row = rows.find((r) => r[1] === "/ws/room");
  check(!!row && row[0] === "location /ws/" && row[5] === "5 / 5" && row[2] === `chat ${peer}`,
    "the tunnel appears with its location, peer and 5 messages each way", rows);
  check(!(await page.textContent("#tunnels")).includes("secret"), "the query string is not shown", await page.textContent("#tunnels"));
  await page.waitForFunction(() => document.querySelector("#upstreams tbody tr").cells[4].textContent === "1", null, { timeout: 10000 }).catch(() => {});
  check(await page.$eval("#upstreams tbody tr", (r) => r.cells[4].textContent) === "1", "the peer counts the open tunnel",
    await page.$eval("#upstreams tbody tr", (r) => r.textContent));

  mkdirSync(outDir, { recursive: true });
  await page.screenshot({ path: join(outDir, "status.png"), fullPage: true });
  // A phone's width: nothing overflows the page (tables scroll in their box).
  await page.setViewportSize({ width: 390, height: 800 });
  const fit = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  check(fit.scroll <= fit.client, "the page fits a 390px wide screen", fit);
  await page.screenshot({ path: join(outDir, "status-phone.png"), fullPage: true });
  console.log(`screenshots: ${join(outDir, "status.png")}, ${join(outDir, "status-phone.png")}`);
  await page.setViewportSize({ width: 1280, height: 800 });

  client.close(1000);
  await page.waitForFunction(() => document.querySelector("#tunnels tbody").textContent === "none", null, { timeout: 10000 }).catch(() => {});
  check(await page.textContent("#tunnels tbody") === "none", "the tunnel leaves the page when it closes", await page.textContent("#tunnels tbody"));

  // A graceful stop closes the feed (Close 1001): the page says so.
  gate.kill("SIGQUIT");
  await page.waitForFunction(() => document.getElementById("conn").dataset.state === "closed", null, { timeout: 10000 }).catch(() => {});
  check(await page.$eval("#conn", (e) => e.dataset.state) === "closed", "the page sees the feed close when wsgate stops", await page.textContent("#conn"));
  check(errors.length === 0, "no page errors", errors);
} catch (e) {
  check(false, "test ran", String(e));
} finally {
  await browser?.closeAll();
  if (gate.exitCode === null) {
    gate.kill("SIGTERM");
    await new Promise((r) => gate.once("exit", r));
  }
  backend.close();
  rmSync(dir, { recursive: true, force: true });
}
finish("status page browser test passed");
