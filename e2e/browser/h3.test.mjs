// Headless Chromium loads the demo page through wsgate over HTTP/3 (QUIC,
// ALPN h3, forced with --origin-to-force-quic-on) and uses its WebSocket,
// which Chromium opens over TCP (it does not speak RFC 9220): the page's
// nextHopProtocol is h3, the WebSocket opens and echoes. e2e/browser/h3.sh
// starts everything and checks wsgate's access log for the rest.
//
// Usage: node e2e/browser/h3.test.mjs URL SPKI
// SPKI: base64 SHA-256 of the server certificate's public key, trusted
// with --ignore-certificate-errors-spki-list. localhost is mapped to
// 127.0.0.1, where wsgate listens: Chromium sends QUIC to the first
// address only (::1 here), where TCP would fall back to the next.
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [url, spki] = process.argv.slice(2);
if (!url || !spki) {
  console.error("usage: node h3.test.mjs URL SPKI");
  process.exit(2);
}
const failures = [];
function check(ok, what, got) {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}${ok ? "" : ": got " + JSON.stringify(got)}`);
  if (!ok) failures.push(what);
}

const profile = mkdtempSync(join(tmpdir(), "wsgate-chromium-"));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP localhost 127.0.0.1", `--ignore-certificate-errors-spki-list=${spki}`, `--origin-to-force-quic-on=${new URL(url).host}`],
  timeout: 30000,
});
try {
  const page = browser.pages()[0] || await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const resp = await page.goto(url, { waitUntil: "load", timeout: 15000 });
  check(resp.status() === 200, "page answered 200", resp.status());
  const proto = await page.evaluate(() => performance.getEntriesByType("navigation")[0].nextHopProtocol);
  check(proto === "h3", "page's nextHopProtocol is h3", proto);
  await page.waitForFunction(() => document.body.dataset.wsState === "open", null, { timeout: 10000 }).catch(() => {});
  check((await page.textContent("#state")) === "open", "WebSocket open", await page.textContent("#state"));
  await page.fill("#message", "over h3");
  await page.click("#send");
  await page.waitForFunction(() => document.getElementById("log").textContent.includes("over h3") &&
    Number(document.getElementById("received").textContent) >= Number(document.getElementById("sent").textContent),
  null, { timeout: 10000 }).catch(() => {});
  const sent = Number(await page.textContent("#sent"));
  const received = Number(await page.textContent("#received"));
  check(sent >= 4 && received === sent, "messages sent and echoed over the WebSocket", { sent, received });
  check(errors.length === 0, "no page errors", errors);
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
if (failures.length > 0) {
  console.error(`${failures.length} check(s) failed`);
  process.exit(1);
}
console.log("h3 browser test passed");
