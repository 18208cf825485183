// Headless Chromium loads the demo page through wsgate over TLS with
// PROTO and uses its WebSocket; the page's nextHopProtocol is PROTO, the
// WebSocket opens and echoes. e2e/browser/proto.sh starts everything and
// checks wsgate's access log for the rest.
//   h2: ALPN h2; Chromium opens the WebSocket on the same connection with
//       RFC 8441 when the server offers it.
//   h3: QUIC, ALPN h3, forced with --origin-to-force-quic-on; Chromium
//       opens the WebSocket over TCP (it does not speak RFC 9220).
//       localhost is mapped to 127.0.0.1, where wsgate listens: Chromium
//       sends QUIC to the first address only (::1 here), where TCP would
//       fall back to the next.
//
// Usage: node e2e/browser/proto.test.mjs URL SPKI h2|h3
// SPKI: base64 SHA-256 of the server certificate's public key, trusted
// with --ignore-certificate-errors-spki-list.
import { check, finish, launch } from "./chromium.mjs";

const [url, spki, proto] = process.argv.slice(2);
if (!url || !spki || (proto !== "h2" && proto !== "h3")) {
  console.error("usage: node proto.test.mjs URL SPKI h2|h3");
  process.exit(2);
}

const args = {
  h2: ["--disable-quic"],
  h3: ["--host-resolver-rules=MAP localhost 127.0.0.1", `--origin-to-force-quic-on=${new URL(url).host}`],
}[proto];
const browser = await launch([...args, `--ignore-certificate-errors-spki-list=${spki}`]);
try {
  const page = browser.pages()[0] || await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const resp = await page.goto(url, { waitUntil: "load", timeout: 15000 });
  check(resp.status() === 200, "page answered 200", resp.status());
  const next = await page.evaluate(() => performance.getEntriesByType("navigation")[0].nextHopProtocol);
  check(next === proto, `page's nextHopProtocol is ${proto}`, next);
  await page.waitForFunction(() => document.body.dataset.wsState === "open", null, { timeout: 10000 }).catch(() => {});
  check((await page.textContent("#state")) === "open", "WebSocket open", await page.textContent("#state"));
  const text = `over ${proto}`;
  await page.fill("#message", text);
  await page.click("#send");
  await page.waitForFunction((t) => document.getElementById("log").textContent.includes(t) &&
    Number(document.getElementById("received").textContent) >= Number(document.getElementById("sent").textContent),
  text, { timeout: 10000 }).catch(() => {});
  const sent = Number(await page.textContent("#sent"));
  const received = Number(await page.textContent("#received"));
  check(sent >= 4 && received === sent, "messages sent and echoed over the WebSocket", { sent, received });
  check(errors.length === 0, "no page errors", errors);
} finally {
  await browser.closeAll();
}
finish(`${proto} browser test passed`);
