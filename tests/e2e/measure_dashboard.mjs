// Time the console's dashboard as the browser sees it: from navigation start until the
// customer count is on screen, in fresh contexts (cold cache) and reused ones (warm).
// Used by bench/console.py; prints one JSON line.
import { chromium } from "playwright-core";

const BASE = process.env.SAMPAN_URL;
const PASSWORD = process.env.SAMPAN_PASSWORD;
const RUNS = Number(process.env.RUNS ?? "5");

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});

async function loggedIn(context) {
  const answer = await context.request.post(`${BASE}/api/auth/login`, {
    data: { email: "admin@sampan.local", password: PASSWORD },
  });
  if (!answer.ok()) throw new Error(`log-in failed: ${answer.status()}`);
  // The console remembers a session in localStorage; without it a visit goes to /login.
  await context.addInitScript(() => localStorage.setItem("sampan.session", "1"));
}

async function measure(page) {
  await page.goto(`${BASE}/`);
  await page.waitForSelector('[data-testid="stat-customers-value"][data-value]', {
    timeout: 30_000,
  });
  return page.evaluate(() => {
    const ready = performance.now();
    const [nav] = performance.getEntriesByType("navigation");
    return {
      ready,
      response_end: nav.responseEnd,
      dom_content_loaded: nav.domContentLoadedEventEnd,
      load: nav.loadEventEnd,
      transferred: performance
        .getEntriesByType("resource")
        .reduce((sum, entry) => sum + (entry.transferSize ?? 0), nav.transferSize ?? 0),
    };
  });
}

async function overviewTime(context) {
  const started = performance.now();
  const answer = await context.request.get(`${BASE}/api/analytics/overview`);
  if (!answer.ok()) throw new Error(`overview failed: ${answer.status()}`);
  await answer.body();
  return performance.now() - started;
}

const cold = [];
const warm = [];
const api = [];
for (let run = 0; run < RUNS; run += 1) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  await loggedIn(context);
  const page = await context.newPage();
  cold.push(await measure(page));
  warm.push(await measure(page));
  api.push(await overviewTime(context));
  await context.close();
}
await browser.close();
process.stdout.write(`${JSON.stringify({ cold, warm, api })}\n`);
