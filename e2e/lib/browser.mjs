// Headless Chromium (Debian's /usr/bin/chromium, or $CHROMIUM) driven by playwright-core.
//
//   import { launch, shot } from "../lib/browser.mjs";
//   const browser = await launch();
//   const page = await browser.newPage();           // or browser.newContext() for a fresh jar
//   const requests = trackRequests(page);           // every URL the page asked for
//   await page.goto(stack.url + "/status");
//   await shot(page, "status");                     // test-artifacts/e2e/status.png
//   await browser.close();
//
// The flags keep Chromium off the network it would otherwise try to reach at start-up (this
// machine has none), and give it a throwaway profile.

import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { artifactsDir } from "./stack.mjs";

export const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";

export async function launch() {
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
}

/** Saves a full-page screenshot as test-artifacts/e2e/<name>.png and returns its path. */
export async function shot(page, name) {
  mkdirSync(artifactsDir, { recursive: true });
  const file = path.join(artifactsDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Records the URL of every request the page (and its frames) makes, in order. */
export function trackRequests(page) {
  const urls = [];
  page.on("request", (r) => urls.push(r.url()));
  return urls;
}
