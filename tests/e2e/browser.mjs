// Shared set-up of the console's browser tests: chromium, a page that fails on console
// errors, logging in, API calls with the page's session, and screenshots for the docs.
import assert from "node:assert/strict";
import path from "node:path";
import { chromium, request } from "playwright-core";

export const BASE = process.env.SAMPAN_URL ?? "http://127.0.0.1:8000";
export const PASSWORD = process.env.SAMPAN_PASSWORD ?? "";
const SCREENSHOTS = process.env.SCREENSHOTS;

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 860 };

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    // Root in CI: chromium's sandbox needs user namespaces the container may not give.
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
}

// A page whose console errors and uncaught exceptions make the test fail at `done()`.
// Chromium logs every 4xx answer as a console error; a test that provokes one on purpose
// (a wrong password) names it with `expectError`, and only that many are forgiven.
export async function openPage(browser, viewport = DESKTOP) {
  const context = await browser.newContext({ viewport, locale: "th-TH" });
  const page = await context.newPage();
  const problems = [];
  const expected = [];
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const text = message.text();
    const index = expected.findIndex((pattern) => pattern.test(text));
    if (index >= 0) expected.splice(index, 1);
    else problems.push(`console: ${text}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.setDefaultTimeout(15_000);
  return {
    page,
    context,
    expectError(pattern) {
      expected.push(pattern);
    },
    async done() {
      await context.close();
      assert.deepEqual(problems, [], "the browser reported errors");
    },
  };
}

export async function logIn(page, role = "admin") {
  await page.goto(`${BASE}/login`);
  await page.getByTestId("login-email").fill(`${role}@sampan.local`);
  await page.getByTestId("login-password").fill(PASSWORD);
  await page.getByTestId("login-submit").click();
  await page.waitForURL((url) => !url.pathname.startsWith("/login"));
}

// Call the API: reads with the page's own session; writes as admin from a session of their
// own, so the page keeps its session and CSRF token.
export async function api(page, method, url, body) {
  let client = page.request;
  const headers = {};
  let own = null;
  if (method !== "GET") {
    own = await request.newContext({ baseURL: BASE });
    const login = await own.post(`${BASE}/api/auth/login`, {
      data: { email: "admin@sampan.local", password: PASSWORD },
    });
    assert.equal(login.status(), 200, await login.text());
    headers["X-CSRF-Token"] = (await login.json()).csrf_token;
    client = own;
  }
  try {
    const answer = await client.fetch(`${BASE}${url}`, { method, headers, data: body });
    assert.ok(answer.ok(), `${method} ${url}: ${answer.status()} ${await answer.text()}`);
    return answer.status() === 204 ? null : await answer.json();
  } finally {
    await own?.dispose();
  }
}

export async function screenshot(page, name) {
  if (!SCREENSHOTS) return;
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: false });
}
