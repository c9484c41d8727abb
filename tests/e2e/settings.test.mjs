// The settings screens in chromium against `sampan demo` data: sources and keys, channels,
// users and roles, data-subject requests. Every object made here has a unique name, and
// what is changed on the demo's own objects is put back.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { request } from "playwright-core";

import { BASE, PASSWORD, PHONE, api, launch, openPage, screenshot } from "./browser.mjs";

const STAMP = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

let browser;
let admin;
before(async () => {
  browser = await launch();
  admin = await session("admin@sampan.local", PASSWORD);
});
after(async () => {
  await browser?.close();
});

// Log in once over the API and reuse the session (cookies and CSRF token) in every page.
async function session(email, password) {
  const client = await request.newContext({ baseURL: BASE });
  try {
    const answer = await client.post(`${BASE}/api/auth/login`, { data: { email, password } });
    assert.equal(answer.status(), 200, await answer.text());
    const { csrf_token: csrf } = await answer.json();
    const { cookies } = await client.storageState();
    return { cookies, csrf };
  } finally {
    await client.dispose();
  }
}

// A page of its own (it fails on console errors) already logged in with `who`'s session.
async function openAs(who, viewport) {
  const opened = await openPage(browser, viewport);
  await opened.context.addCookies(who.cookies);
  await opened.context.addInitScript((token) => {
    window.sessionStorage.setItem("sampan.csrf", token);
    window.localStorage.setItem("sampan.session", "1");
  }, who.csrf);
  return opened;
}

// A write with the admin session's CSRF token (browser.mjs's api() logs in for each write).
async function write(page, method, url, body) {
  const answer = await page.request.fetch(`${BASE}${url}`, {
    method,
    headers: { "X-CSRF-Token": admin.csrf },
    data: body,
  });
  assert.ok(answer.ok(), `${method} ${url}: ${answer.status()} ${await answer.text()}`);
  return answer.json();
}

// Pick an option of a Mantine Select by its visible label.
async function choose(page, testId, label) {
  await page.getByTestId(testId).click();
  await page.getByRole("option", { name: label, exact: true }).click();
}

// The server's message shown under an input: the error of the input's Mantine wrapper.
async function fieldError(page, testId) {
  const handle = await page.waitForFunction((id) => {
    const input = document.querySelector(`[data-testid="${id}"]`);
    const error = input?.closest(".mantine-InputWrapper-root")?.querySelector(".mantine-InputWrapper-error");
    return error?.textContent || null;
  }, testId);
  return handle.jsonValue();
}

function track(page, writeKey) {
  return page.request.post(`${BASE}/v1/track`, {
    headers: { Authorization: `Basic ${Buffer.from(`${writeKey}:`).toString("base64")}` },
    data: { userId: `e2e-${STAMP}`, event: "Settings Test", properties: { ok: true } },
  });
}

test("a new source's write key is shown once with snippets, works, and is refused once switched off", async () => {
  const { page, done } = await openAs(admin);
  await page.goto(`${BASE}/settings`);
  await page.waitForURL(/\/settings\/sources$/);
  const name = `e2e source ${STAMP}`;
  await page.getByTestId("source-create-name").fill(name);
  await choose(page, "source-create-kind", "เว็บไซต์");
  await page.getByTestId("source-create-submit").click();

  await page.getByTestId("secret-value").waitFor();
  const modal = page.getByRole("dialog");
  const writeKey = (await page.getByTestId("secret-value").innerText()).trim();
  assert.match(writeKey, /^wk_[\w-]{20,}$/);
  const modalJs = await modal.getByTestId("snippet-js").textContent();
  const modalPython = await modal.getByTestId("snippet-python").textContent();
  for (const code of [modalJs, modalPython]) {
    assert.ok(code.includes(writeKey), "the snippet carries the new key");
    assert.ok(code.includes(BASE), `the snippet points at ${BASE}`);
  }
  assert.ok(modalJs.includes("AnalyticsBrowser.load"));
  assert.ok(modalJs.includes(`apiHost: '${new URL(BASE).host}/v1'`));
  assert.ok(modalPython.includes(`host="${BASE}"`));
  await page.getByTestId("secret-close").click();
  await page.getByTestId("secret-value").waitFor({ state: "detached" });

  // The key cannot be read back from the API: the list has its prefix only.
  const listed = (await api(page, "GET", "/api/sources")).find((s) => s.name === name);
  assert.ok(listed, "the source was created");
  assert.equal(listed.write_key, undefined);
  assert.ok(writeKey.startsWith(listed.write_key_prefix));

  // The page keeps showing the set-up of the new source with its real key during this visit.
  const detail = page.getByTestId("source-detail");
  await detail.waitFor();
  assert.equal(await detail.getAttribute("data-source-id"), listed.id);
  assert.ok((await detail.getByTestId("snippet-python").textContent()).includes(writeKey));
  await detail.scrollIntoViewIfNeeded();
  await screenshot(page, "settings-sources");

  // The key works...
  const accepted = await track(page, writeKey);
  assert.equal(accepted.status(), 200, await accepted.text());

  // ...until the source is switched off, after a confirmation.
  const row = page.locator(`[data-testid="source-row"][data-source-id="${listed.id}"]`);
  await row.getByTestId("source-enabled").click({ force: true });
  await page.getByTestId("confirm-ok").click();
  await page.locator(`[data-testid="source-row"][data-source-id="${listed.id}"][data-enabled="false"]`).waitFor();
  const refused = await track(page, writeKey);
  assert.equal(refused.status(), 401, await refused.text());
  assert.equal((await refused.json()).code, "unauthorized");
  await done();
});

test("an API key is shown once, works, and is refused once revoked", async () => {
  const { page, done } = await openAs(admin);
  await page.goto(`${BASE}/settings/sources`);
  const name = `e2e key ${STAMP}`;
  await page.getByTestId("key-create-name").fill(name);
  await choose(page, "key-create-role", "นักวิเคราะห์ข้อมูล");
  await page.getByTestId("key-create-submit").click();
  await page.getByTestId("secret-value").waitFor();
  const secret = (await page.getByTestId("secret-value").innerText()).trim();
  assert.match(secret, /^sk_/);
  assert.ok((await page.getByTestId("key-example").textContent()).includes(secret));
  await page.getByTestId("secret-close").click();

  const me = await page.request.get(`${BASE}/api/auth/me`, { headers: { Authorization: `Bearer ${secret}` } });
  assert.equal(me.status(), 200);
  assert.equal((await me.json()).role, "analyst");

  const row = page.locator('[data-testid="key-row"]', { hasText: name });
  await row.getByTestId("key-revoke").click();
  await page.getByTestId("confirm-ok").click();
  await row.waitFor({ state: "detached" });
  const after = await page.request.get(`${BASE}/api/auth/me`, { headers: { Authorization: `Bearer ${secret}` } });
  assert.equal(after.status(), 401);
  await done();
});

test("the e-mail channel keeps a changed sender, and secrets are never shown back", async () => {
  const { page, done, expectError } = await openAs(admin);
  const before = (await api(page, "GET", "/api/messaging/channels")).find((c) => c.name === "email");
  assert.ok(before, "the demo has an e-mail channel");
  await page.goto(`${BASE}/settings/channels`);
  await page.locator('[data-testid="channel-row"][data-name="email"]').getByTestId("channel-link").click();
  await page.waitForURL(/\/settings\/channels\/email$/);

  const from = page.getByTestId("channel-field-from_address");
  const original = await from.inputValue();
  assert.equal(original, before.config.from_address);
  // The password is write-only: never filled in, whatever is stored.
  assert.equal(await page.getByTestId("channel-field-password").inputValue(), "");

  // A sender that is no e-mail address: the server refuses it, on that field, and stores nothing.
  expectError(/status of 400/);
  await from.fill("not-an-address");
  await page.getByTestId("channel-save").click();
  assert.match(await fieldError(page, "channel-field-from_address"), /not a valid e-mail address/);
  assert.equal(
    (await api(page, "GET", "/api/messaging/channels")).find((c) => c.name === "email").config.from_address,
    before.config.from_address,
  );

  const changed = `e2e-${STAMP}@sampan-beauty.example`;
  try {
    await from.fill(changed);
    await page.getByTestId("channel-save").click();
    await page.getByTestId("channel-saved").waitFor();
    await page.reload();
    await page.getByTestId("channel-field-from_address").waitFor();
    assert.equal(await page.getByTestId("channel-field-from_address").inputValue(), changed);

    const saved = (await api(page, "GET", "/api/messaging/channels")).find((c) => c.name === "email");
    assert.equal(saved.config.from_address, changed);
    assert.equal(saved.enabled, before.enabled, "saving did not switch the channel on or off");
    assert.equal(saved.config.host, before.config.host);
    assert.equal(saved.config.password, before.config.password, "the stored password was kept");
  } finally {
    await page.getByTestId("channel-field-from_address").fill(original);
    await page.getByTestId("channel-save").click();
    await page.getByTestId("channel-saved").waitFor();
  }
  const restored = (await api(page, "GET", "/api/messaging/channels")).find((c) => c.name === "email");
  assert.equal(restored.config.from_address, before.config.from_address);

  // A channel whose secrets are set shows that they are set, not what they are.
  await page.goto(`${BASE}/settings/channels/line-oa`);
  const token = page.getByTestId("channel-field-channel_access_token");
  await token.waitFor();
  assert.equal(await token.inputValue(), "");
  assert.equal(await token.getAttribute("data-set"), "true");
  assert.match(await token.getAttribute("placeholder"), /•••/);
  assert.ok((await page.getByTestId("channel-webhook-url").innerText()).endsWith("/webhooks/line/line-oa"));
  await screenshot(page, "settings-channels");
  const html = await page.content();
  assert.ok(!html.includes("replace-with-your-channel"), "no secret reaches the page");
  await done();
});

test("users: the server's refusals land on the field, and a new marketer cannot manage users", async () => {
  const { page, done, expectError } = await openAs(admin);
  await page.goto(`${BASE}/settings/users`);
  await page.getByTestId("roles-panel").getByTestId("role-row").first().waitFor();
  assert.equal(await page.getByTestId("role-row").count(), (await api(page, "GET", "/api/roles")).length);

  const email = `e2e-marketer-${STAMP}@example.co.th`;
  await page.getByTestId("user-add-name").fill("ทดสอบ การตลาด");
  await page.getByTestId("user-add-email").fill(email);
  await choose(page, "user-add-role", "ฝ่ายการตลาด");

  // A weak password: the server's words under the password.
  expectError(/status of 400/);
  await page.getByTestId("user-add-password").fill("short");
  await page.getByTestId("user-add-submit").click();
  assert.match(await fieldError(page, "user-add-password"), /password is too short/);

  // A taken e-mail address: the server's words under the e-mail.
  expectError(/status of 409/);
  await page.getByTestId("user-add-email").fill("admin@sampan.local");
  await page.getByTestId("user-add-password").fill(`e2e-pass-${STAMP}`);
  await page.getByTestId("user-add-submit").click();
  assert.match(await fieldError(page, "user-add-email"), /already exists/);

  await page.getByTestId("user-add-email").fill(email);
  await page.getByTestId("user-add-submit").click();
  await page.getByTestId("user-added").waitFor();
  const row = page.locator(`[data-testid="user-row"][data-email="${email}"]`);
  await row.waitFor();
  assert.equal(await row.getAttribute("data-role"), "marketer");

  // The new user, on a phone: settings open on a section they may see, never users.
  const phone = await openAs(await session(email, `e2e-pass-${STAMP}`), PHONE);
  await phone.page.goto(`${BASE}/settings`);
  await phone.page.waitForURL(/\/settings\/purposes$/);
  const sections = await phone.page.getByTestId("settings-nav-select").locator("option").evaluateAll((options) =>
    options.map((option) => option.value),
  );
  assert.ok(sections.includes("purposes"));
  assert.ok(!sections.includes("users"), `a marketer is not offered users: ${sections}`);
  await phone.page.getByTestId("purpose-row").first().waitFor();
  await phone.page.goto(`${BASE}/settings/users`);
  await phone.page.getByTestId("settings-no-permission").waitFor();
  await phone.done();

  // Leave nobody behind who can log in.
  const created = (await api(page, "GET", "/api/users")).find((u) => u.email === email);
  await write(page, "PATCH", `/api/users/${created.id}`, { disabled: true });
  await done();
});

test("an access request is opened for a demo person, started, and shows its PDPA due date", async () => {
  const { page, done, expectError } = await openAs(admin);
  const { items } = await api(page, "GET", "/api/profiles?limit=50");
  const person = items.find((item) => /[\u0E00-\u0E7F]/.test(item.display_name ?? ""));
  assert.ok(person, "the demo has a person with a Thai name");

  await page.goto(`${BASE}/settings/requests`);
  await page.getByTestId("request-new").click();
  await page.waitForURL(/\/settings\/requests\/new$/);
  await page.getByTestId("request-type-access").check();
  await page.getByTestId("request-person-search").fill(person.display_name);
  await page.locator(`[data-testid="request-person-option"][data-profile-id="${person.id}"]`).click();
  await page.getByTestId("request-person").waitFor();
  await page.getByTestId("request-requester").fill(`e2e ${STAMP}, by LINE chat`);
  await page.getByTestId("request-verification").fill("checked the ID card at the counter");
  await page.getByTestId("request-submit").click();
  await page.waitForURL(/\/settings\/requests\/dsr_/);
  const id = decodeURIComponent(new URL(page.url()).pathname.split("/").pop());

  const opened = await api(page, "GET", `/api/privacy/requests/${id}`);
  assert.equal(opened.type, "access");
  assert.equal(opened.profile_id, person.id);
  const days = (new Date(opened.due_at) - new Date(opened.received_at)) / 86_400_000;
  assert.ok(Math.abs(days - 30) < 0.01, `due 30 days after receipt, not ${days}`);

  const detail = page.getByTestId("request-detail");
  await detail.getByTestId("request-status").and(page.locator('[data-status="open"]')).waitFor();
  const due = detail.getByTestId("request-due");
  assert.equal(await due.getAttribute("data-due"), opened.due_at);
  assert.equal(await due.getAttribute("data-overdue"), "false");
  assert.ok(["29", "30"].includes(await due.getAttribute("data-days-left")));

  await page.getByTestId("request-start").click();
  await detail.locator('[data-testid="request-status"][data-status="in_progress"]').waitFor();
  await page.locator('[data-testid="request-step"][data-action="in_progress"]').waitFor();

  // The list shows it with its due date and days left.
  await page.goto(`${BASE}/settings/requests?status=in_progress`);
  const row = page.locator(`[data-testid="request-row"][data-request-id="${id}"]`);
  await row.waitFor();
  assert.equal(await row.getByTestId("request-due").getAttribute("data-due"), opened.due_at);
  assert.match(await row.getByTestId("request-due").innerText(), /30|29/);

  // A rejection without a reason: the server's words under the note. Then close it properly.
  await row.getByTestId("request-link").click();
  expectError(/status of 400/);
  await page.getByTestId("request-reject").click();
  assert.match(await fieldError(page, "request-note"), /rejection needs a note/);
  // Fulfilled instead: the person's data downloads as a ZIP, and the request is closed.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByTestId("request-export").click(),
  ]);
  assert.match(download.suggestedFilename(), /\.zip$/);
  const zip = await download.createReadStream();
  const chunks = [];
  for await (const chunk of zip) chunks.push(chunk);
  assert.equal(Buffer.concat(chunks).subarray(0, 2).toString("latin1"), "PK");
  await page.locator('[data-testid="request-detail"] [data-testid="request-status"][data-status="completed"]').waitFor();
  await done();
});
