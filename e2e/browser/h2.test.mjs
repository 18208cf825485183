// Headless Chromium loads the demo page through wsgate over HTTP/2 (TLS,
// ALPN h2) and uses its WebSocket, which Chromium opens on the same
// connection with RFC 8441 when the server offers it: the page's
// nextHopProtocol is h2, the WebSocket opens and echoes. e2e/browser/h2.sh
// starts everything and checks wsgate's access log for the rest.
//
// Usage: node e2e/browser/h2.test.mjs URL SPKI
// SPKI: base64 SHA-256 of the server certificate's public key, trusted
// with --ignore-certificate-errors-spki-list.
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [url, spki] = process.argv.slice(2);
if (!url || !spki) {
  console.error("usage: node h2.test.mjs URL SPKI");
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
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    `--ignore-certificate-errors-spki-list=${spki}`],
  timeout: 30000,
});
try {
  const page = browser.pages()[0] || await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const resp = await page.goto(url, { waitUntil: "load", timeout: 15000 });
  check(resp.status() === 200, "page answered 200", resp.status());
  const proto = await page.evaluate(() => performance.getEntriesByType("navigation")[0].nextHopProtocol);
  check(proto === "h2", "page's nextHopProtocol is h2", proto);
  await page.waitForFunction(() => document.body.dataset.wsState === "open", null, { timeout: 10000 }).catch(() => {});
  check((await page.textContent("#state")) === "open", "WebSocket open", await page.textContent("#state"));
  await page.fill("#message", "over h2");
  await page.click("#send");
  await page.waitForFunction(() => document.getElementById("log").textContent.includes("over h2") &&
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
console.log("h2 browser test passed");
