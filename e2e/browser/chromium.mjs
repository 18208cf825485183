// What the browser checks share: checks that print "ok" or "FAIL" and
// set the exit status, and a headless Chromium on a fresh profile.
// Environment: CHROMIUM (default /usr/bin/chromium).
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const failures = [];

// check prints what was checked and, when it failed, what was got.
export function check(ok, what, got) {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}${ok ? "" : ": got " + JSON.stringify(got)}`);
  if (!ok) failures.push(what);
}

// finish exits 1 if a check failed, else prints passed.
export function finish(passed) {
  if (failures.length > 0) {
    console.error(`${failures.length} check(s) failed`);
    process.exit(1);
  }
  console.log(passed);
}

// launch starts headless Chromium with args after the common ones, on a
// fresh profile directory (Chromium's --user-data-dir, which Playwright
// takes as launchPersistentContext's first argument); close ends it and
// removes the profile.
export async function launch(args, options = {}) {
  const profile = mkdtempSync(join(tmpdir(), "wsgate-chromium-"));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync", ...args],
    timeout: 30000,
    ...options,
  });
  browser.closeAll = async () => {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return browser;
}
