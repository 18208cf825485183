// Headless Chromium through wsgate: opens the demo page that `wsgate demo`
// serves, and checks that the page came through wsgate, that its WebSocket
// opened through location /ws/, that messages make the round trip, and
// that the page shows what wsgate reported. Saves a screenshot.
//
// Usage: node e2e/browser/demo.test.mjs URL [SCREENSHOT.png]
// Environment: CHROMIUM (default /usr/bin/chromium).
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { check, finish, launch } from "./chromium.mjs";

const url = process.argv[2];
const shot = process.argv[3] || join(dirname(new URL(import.meta.url).pathname), "..", "out", "demo.png");
if (!url) {
  console.error("usage: node demo.test.mjs URL [SCREENSHOT.png]");
  process.exit(2);
}

const browser = await launch(["--disable-quic"], { viewport: { width: 1280, height: 1000 } });
try {
  const page = browser.pages()[0] || await browser.newPage();
  const sockets = [];
  page.on("websocket", (ws) => sockets.push(ws.url()));
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });

  // The page, through wsgate: its Server header is wsgate's.
  const resp = await page.goto(url, { waitUntil: "load", timeout: 15000 });
  const server = resp.headers()["server"] || "";
  check(resp.status() === 200, "page answered 200", resp.status());
  check(server.startsWith("wsgate"), "page came through wsgate (Server header)", server);
  check((await page.title()) === "wsgate demo", "page title", await page.title());

  // The WebSocket opens through /ws/ on the same origin.
  await page.waitForFunction(() => document.body.dataset.wsState === "open", null, { timeout: 10000 })
    .catch(() => {});
  const state = await page.textContent("#state");
  check(state === "open", "WebSocket state shown as open", state);
  const origin = new URL(url);
  const echoURL = `ws://${origin.host}/ws/echo`;
  check(sockets.includes(echoURL), `WebSocket opened to ${echoURL}`, sockets);

  // The three greetings the page sends come back, plus one typed here.
  await page.fill("#message", "typed in the browser");
  await page.click("#send");
  await page.waitForFunction(() => Number(document.getElementById("received").textContent) >= 4, null, { timeout: 10000 })
    .catch(() => {});
  const sent = Number(await page.textContent("#sent"));
  const received = Number(await page.textContent("#received"));
  check(sent >= 4 && received === sent, "messages sent and received", { sent, received });
  // The round trip as wsgate probe measures it: 10 sequential echoes
  // after the page was drawn. Printed for comparison with probe, not
  // asserted: a loaded machine is slow, not wrong.
  await page.waitForFunction(() => document.body.dataset.rttSamples === "10", null, { timeout: 15000 })
    .catch(() => {});
  const rtt = await page.textContent("#rtt");
  check(/ms$/.test(rtt) && (await page.evaluate(() => document.body.dataset.rttSamples)) === "10",
    "round trip measured over 10 sequential echoes and shown", rtt);
  console.log(`page round trip: median ${await page.evaluate(() => document.body.dataset.rttMedian)} ms, fastest ${await page.textContent("#rtt-min")}`);
  const log = await page.textContent("#log");
  check(log.includes("typed in the browser"), "typed message echoed in the log", log.slice(0, 200));

  // What the backend saw: the tutorial's proxy_set_header lines at work.
  const saw = await page.textContent("#backend-saw");
  check(/Upgradewebsocket/.test(saw) && /Connectionupgrade/.test(saw), "backend saw Upgrade and Connection", saw.slice(0, 300));

  // What wsgate saw: the quick-check WebSocket through location /ws/.
  await page.waitForFunction(() => [...document.querySelectorAll("#observed tr")]
    .some((tr) => tr.textContent.includes("/ws/echo?check")), null, { timeout: 10000 })
    .catch(() => {});
  const observed = await page.$$eval("#observed tr", (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
  const wsRow = observed.find((r) => r[2] === "location /ws/" && r[4] === "101" && r[5] === "WebSocket" &&
    (r[6] || "").startsWith("/ws/echo?check:"));
  check(!!wsRow, "page shows wsgate's observation of the quick check through location /ws/ (101, WebSocket)", observed);
  check(!!wsRow && /closed by client 1000/.test(wsRow[6]), "the quick check's row says the client closed it with 1000", wsRow);
  check(!!wsRow && /:\d+$/.test(wsRow[3]), "observation names the upstream address", wsRow);
  check(observed.some((r) => r[2] === "location /"), "page shows wsgate's observation of location /", observed);

  // The chat and the configuration card.
  await page.waitForFunction(() => !document.getElementById("chat-send").disabled, null, { timeout: 10000 }).catch(() => {});
  await page.fill("#chat-text", "hello chat");
  await page.click("#chat-send");
  await page.waitForFunction(() => document.getElementById("chat-log").textContent.includes("hello chat"), null, { timeout: 10000 })
    .catch(() => {});
  check((await page.textContent("#chat-log")).includes("hello chat"), "chat message came back", await page.textContent("#chat-log"));
  const conf = await page.textContent("#config");
  check(conf.includes("proxy_read_timeout 86400;"), "configuration shown", conf.slice(0, 200));
  // Long lines (a replaced address with the tutorial's in a comment) wrap
  // instead of being clipped, also in a narrow window.
  for (const width of [1280, 700, 420]) {
    await page.setViewportSize({ width, height: 1000 });
    const box = await page.$eval("#config", (el) => ({
      whiteSpace: getComputedStyle(el).whiteSpace, scroll: el.scrollWidth, client: el.clientWidth,
      longest: Math.max(...el.textContent.split("\n").map((l) => l.length)),
    }));
    check(box.scroll <= box.client, `configuration block wraps its lines at ${width}px (nothing clipped)`, box);
  }
  await page.setViewportSize({ width: 1280, height: 1000 });

  check(errors.length === 0, "no page errors", errors);

  mkdirSync(dirname(shot), { recursive: true });
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`screenshot: ${shot}`);
} finally {
  await browser.closeAll();
}
finish("browser test passed");
