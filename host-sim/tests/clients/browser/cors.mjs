// Loads PAGE_URL in Debian's headless Chromium and, from that page, fetches TARGET_URL with
// credentials and a non-simple header, so the browser sends a CORS preflight and checks the
// answers itself. Prints one JSON line: {"fetched": true, "status": N, "body": "..."} when the
// browser let the page read the response, {"fetched": false, "error": "..."} when it blocked it.
//
// Usage: node cors.mjs PAGE_URL TARGET_URL   (CHROMIUM: the browser binary, default /usr/bin/chromium)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [pageUrl, targetUrl] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), "gatewasm-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
});
try {
  const page = await context.newPage();
  const console_lines = [];
  page.on("console", (message) => console_lines.push(message.text()));
  await page.goto(pageUrl);
  const result = await page.evaluate(async (url) => {
    try {
      const response = await fetch(url, {
        credentials: "include",
        headers: { "X-Gatewasm-Test": "cors" },
      });
      return { fetched: true, status: response.status, body: await response.text() };
    } catch (error) {
      return { fetched: false, error: String(error) };
    }
  }, targetUrl);
  result.console = console_lines;
  console.log(JSON.stringify(result));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
