// The journey builder in chromium against `sampan demo` data: a playbook installed in one
// click, published, and its node counts moving with a tracked event; simulation; validation
// on the node; what marketers and read-only roles may do.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { request } from "playwright-core";

import { BASE, PHONE, api, launch, logIn, openPage, screenshot } from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

// Writes from the page's own session and CSRF token: the server allows few log-ins a
// minute per address, and api() logs in afresh for every write.
async function write(page, method, url, body) {
  const token = await page.evaluate(() => window.sessionStorage.getItem("sampan.csrf"));
  const answer = await page.request.fetch(`${BASE}${url}`, { method, headers: { "X-CSRF-Token": token }, data: body });
  assert.ok(answer.ok(), `${method} ${url}: ${answer.status()} ${await answer.text()}`);
  return answer.json();
}

// Archive what a test made, so that no journey of ours reacts to other files' events.
async function archive(page, id) {
  await write(page, "POST", `/api/journeys/${id}/archive`);
}

// A demo customer the tracking API can name by userId, reachable on LINE or by e-mail.
async function reachableCustomer(page) {
  const { items } = await api(page, "GET", "/api/profiles?limit=100");
  for (const item of items) {
    const full = await api(page, "GET", `/api/profiles/${item.id}`);
    const kinds = new Set(full.identities.map((identity) => identity.type));
    const userId = full.identities.find((identity) => identity.type === "user_id")?.value;
    if (userId && (kinds.has("line_user_id") || kinds.has("email")) && full.display_name) return { ...full, userId };
  }
  throw new Error("the demo has no customer with a user id and LINE or e-mail");
}

async function figure(page, nodeId, which) {
  const value = await page
    .locator(`[data-testid="journey-node"][data-node-id="${nodeId}"] [data-testid="node-${which}"]`)
    .getAttribute("data-value");
  return Number(value);
}

async function installCopy(page, label) {
  return write(page, "POST", "/api/journeys/playbooks/abandoned_cart/install", { name: `e2e ${label} ${Date.now()}` });
}

test("a playbook installed in one click, published, counts the people who enter", async () => {
  const { page, done } = await openPage(browser);
  await logIn(page);
  const before = await api(page, "GET", "/api/journeys");
  await page.goto(`${BASE}/journeys`);
  const card = page.locator('[data-testid="playbook-card"][data-key="abandoned_cart"]');
  await card.waitFor();
  // The gallery shows each playbook's channels, and the list the journeys not archived.
  assert.ok((await card.getByTestId("playbook-channel").count()) >= 1);
  const current = before.filter((journey) => journey.status !== "archived");
  if (current.length) await page.getByTestId("journey-row").first().waitFor();
  assert.equal(await page.getByTestId("journey-row").count(), current.length);
  await page.evaluate(() => {
    const gallery = document.querySelector('[data-testid="playbook-gallery"]');
    window.scrollTo(0, Math.max(0, gallery.getBoundingClientRect().top + window.scrollY - 360));
  });
  await screenshot(page, "journeys");

  await card.getByTestId("playbook-install").click();
  await page.waitForURL(/\/journeys\/jrn_/);
  const id = decodeURIComponent(new URL(page.url()).pathname.split("/").pop());
  const installed = await api(page, "GET", `/api/journeys/${id}`);
  assert.equal(installed.playbook, "abandoned_cart");
  assert.equal(installed.status, "draft");
  assert.ok(!before.some((journey) => journey.id === id), "a new journey, beside any copy the demo has");

  // The canvas: the trigger and every node of the playbook.
  const nodes = page.getByTestId("journey-node");
  await nodes.first().waitFor();
  assert.equal(await nodes.count(), installed.draft.nodes.length + 1);
  for (const node of installed.draft.nodes) {
    await page.locator(`[data-testid="journey-node"][data-node-id="${node.id}"][data-type="${node.type}"]`).waitFor();
  }
  await page.getByTestId("validation-ok").waitFor();

  // Saved unchanged, the canvas gives back exactly the definition it was given.
  const put = page.waitForRequest((req) => req.method() === "PUT" && req.url().includes(`/api/journeys/${id}`));
  await page.getByTestId("journey-save").click();
  const sent = JSON.parse((await put).postData());
  assert.equal(JSON.stringify(sent.definition), JSON.stringify(installed.draft));
  await page.getByTestId("action-done").waitFor();

  // Publish, confirmed.
  await page.getByTestId("journey-publish").click();
  await page.getByTestId("confirm-ok").click();
  await page.locator('[data-testid="journey-status"][data-status="live"]').waitFor();
  assert.equal((await api(page, "GET", `/api/journeys/${id}`)).status, "live");

  // A Product Added from the shop for a demo customer starts a run: the counts move.
  const customer = await reachableCustomer(page);
  const source = await write(page, "POST", "/api/sources", { name: `e2e journeys ${Date.now()}`, kind: "web" });
  await page.locator('[data-testid="journey-node"][data-node-id="@entry"] [data-testid="node-entered"]').waitFor();
  const entered = await figure(page, "@entry", "entered");
  const waiting = await figure(page, "wait-order-1h", "waiting");
  const shop = await request.newContext({ baseURL: BASE });
  try {
    const answer = await shop.post(`${BASE}/v1/track`, {
      headers: { Authorization: `Basic ${Buffer.from(`${source.write_key}:`).toString("base64")}` },
      data: {
        userId: customer.userId,
        event: "Product Added",
        properties: { cart_id: `E2E-${Date.now()}`, product_id: "VC-30", name: "เซรั่มวิตามินซี", price: 1290, quantity: 1 },
        context: { channel: "web", locale: "th-TH" },
      },
    });
    assert.ok(answer.ok(), await answer.text());
  } finally {
    await shop.dispose();
  }
  await page.waitForFunction(
    ([before, waitingBefore]) => {
      const value = (node, which) =>
        Number(document.querySelector(`[data-testid="journey-node"][data-node-id="${node}"] [data-testid="node-${which}"]`)?.getAttribute("data-value"));
      return value("@entry", "entered") > before && value("wait-order-1h", "waiting") > waitingBefore;
    },
    [entered, waiting],
    { timeout: 30_000, polling: 500 },
  );
  assert.ok((await figure(page, "wait-order-1h", "entered")) >= 1);
  await page.mouse.move(5, 5);
  // The title just under the app's header, the canvas below it.
  await page.getByTestId("journey-title").evaluate((element) => window.scrollBy(0, element.getBoundingClientRect().top - 64));
  await screenshot(page, "journey-builder");

  // Pause and resume from the builder.
  await page.getByTestId("journey-pause").click();
  await page.locator('[data-testid="journey-status"][data-status="paused"]').waitFor();
  await page.getByTestId("journey-resume").click();
  await page.locator('[data-testid="journey-status"][data-status="live"]').waitFor();
  await archive(page, id);
  await done();
});

test("a simulation for a test customer lights up the path it takes", async () => {
  const { page, done } = await openPage(browser);
  await logIn(page);
  const journey = await installCopy(page, "simulation");
  const customer = await reachableCustomer(page);
  await page.goto(`${BASE}/journeys/${journey.id}`);
  await page.getByTestId("journey-node").first().waitFor();
  await page.getByTestId("sim-profile-search").fill(customer.display_name);
  await page.locator(`[data-testid="sim-profile-option"][data-profile-id="${customer.id}"]`).click();
  await page.getByTestId("sim-run").click();
  const result = page.getByTestId("sim-result");
  await result.waitFor();
  assert.equal(await result.getAttribute("data-status"), "completed");
  const steps = await page.getByTestId("sim-step").evaluateAll((items) => items.map((item) => item.getAttribute("data-node-id")));
  assert.deepEqual([...new Set(steps)], ["wait-order-1h", "coupon-10", "send-reminder"]);
  // On the canvas: the path in colour, the other way dimmed.
  for (const node of ["@entry", "wait-order-1h", "coupon-10", "send-reminder"]) {
    assert.equal(await page.locator(`[data-testid="journey-node"][data-node-id="${node}"]`).getAttribute("data-highlight"), "path", node);
  }
  assert.equal(await page.locator('[data-testid="journey-node"][data-node-id="end-ordered"]').getAttribute("data-highlight"), "dimmed");
  assert.ok((await page.getByTestId("sim-message").count()) >= 1, "the reminder it would send");
  await page.getByTestId("sim-clear").click();
  assert.equal(await page.locator('[data-testid="journey-node"][data-node-id="end-ordered"]').getAttribute("data-highlight"), "");
  await archive(page, journey.id);
  await done();
});

test("a send without a template shows the problem on its node, and publishing waits", async () => {
  const { page, done } = await openPage(browser);
  await logIn(page);
  const journey = await installCopy(page, "validation");
  await page.goto(`${BASE}/journeys/${journey.id}`);
  await page.getByTestId("validation-ok").waitFor();
  assert.equal(await page.getByTestId("journey-publish").isEnabled(), true);
  const send = page.locator('[data-testid="journey-node"][data-node-id="send-reminder"]');
  await send.click();
  const form = page.locator('[data-testid="node-form"][data-node-id="send-reminder"]');
  await form.waitFor();
  await form.locator('button[aria-label="ล้างเทมเพลต"]').click();
  // The server's check names nodes[2].template: the node and the form say so.
  await send.getByTestId("node-problem").waitFor();
  assert.match(await send.getByTestId("node-problem").first().innerText(), /ต้องกรอก/);
  assert.equal(await send.getAttribute("data-problems"), "1");
  await page.locator('[data-testid="problem-item"][data-node-id="send-reminder"]').waitFor();
  assert.equal(await page.locator('[data-testid="problem-item"]').first().getAttribute("data-path"), "nodes[2].template");
  assert.match(await form.innerText(), /ต้องกรอก/);
  assert.equal(await page.getByTestId("journey-publish").isDisabled(), true);
  assert.match(await page.getByTestId("publish-reason").innerText(), /1/);
  // Nothing was saved.
  assert.equal((await api(page, "GET", `/api/journeys/${journey.id}`)).draft.nodes[2].template, "pb-abandoned-cart-reminder");
  await archive(page, journey.id);
  await done();
});

test("a branch's condition is built with the segment builder", async () => {
  const { page, done } = await openPage(browser);
  await logIn(page);
  const journey = await write(page, "POST", "/api/journeys/playbooks/first_purchase/install", {
    name: `e2e condition ${Date.now()}`,
  });
  await page.goto(`${BASE}/journeys/${journey.id}`);
  await page.locator('[data-testid="journey-node"][data-node-id="is-first-order"]').click();
  const form = page.locator('[data-testid="node-form"][data-node-id="is-first-order"]');
  await form.getByTestId("branch-build").click();
  // The builder opens on the branch's condition, and a rule is added to it.
  const dialog = page.getByRole("dialog");
  const rules = dialog.getByTestId("segment-rule");
  await rules.first().waitFor();
  assert.equal(await rules.first().getByTestId("rule-op").inputValue(), "eq");
  await dialog.getByTestId("rule-add").first().click();
  const added = rules.nth(1);
  await added.getByTestId("rule-kind").selectOption("identity");
  await added.getByTestId("rule-field").selectOption("line_user_id");
  await dialog.getByTestId("condition-apply").click();
  const condition = JSON.parse(await form.getByTestId("branch-condition").inputValue());
  assert.deepEqual(condition, {
    all: [{ computed: "order_count", op: "eq", value: 1 }, { identity: "line_user_id" }],
  });
  await page.getByTestId("validation-ok").waitFor();
  await archive(page, journey.id);
  await done();
});

test("marketers edit journeys, on a phone too; analysts only look", async () => {
  const marketer = await openPage(browser, PHONE);
  await logIn(marketer.page, "marketer");
  const journey = await installCopy(marketer.page, "roles");
  await marketer.page.goto(`${BASE}/journeys/${journey.id}`);
  await marketer.page.getByTestId("journey-node").first().waitFor();
  await marketer.page.getByTestId("palette").waitFor();
  assert.equal(await marketer.page.getByTestId("journey-save").isVisible(), true);
  assert.equal(await marketer.page.getByTestId("read-only").count(), 0);
  // On a phone the settings open in a drawer.
  await marketer.page.locator('[data-testid="journey-node"][data-node-id="coupon-10"]').click();
  const label = marketer.page.locator('[data-testid="node-form"][data-node-id="coupon-10"] [data-testid="field-label"]');
  await label.waitFor();
  assert.equal(await label.isEnabled(), true);

  const analyst = await openPage(browser);
  await logIn(analyst.page, "analyst");
  await analyst.page.goto(`${BASE}/journeys`);
  await analyst.page.getByTestId("playbook-card").first().waitFor();
  assert.equal(await analyst.page.getByTestId("playbook-install").count(), 0);
  assert.equal(await analyst.page.getByTestId("journey-new").count(), 0);
  await analyst.page.goto(`${BASE}/journeys/${journey.id}`);
  await analyst.page.getByTestId("read-only").waitFor();
  assert.equal(await analyst.page.getByTestId("palette").count(), 0);
  assert.equal(await analyst.page.getByTestId("journey-save").count(), 0);
  assert.equal(await analyst.page.getByTestId("journey-publish").count(), 0);
  await analyst.page.locator('[data-testid="journey-node"][data-node-id="coupon-10"]').click();
  const field = analyst.page.locator('[data-testid="node-form"][data-node-id="coupon-10"] [data-testid="field-label"]');
  await field.waitFor();
  assert.equal(await field.isDisabled(), true);
  await analyst.done();
  await archive(marketer.page, journey.id);
  await marketer.done();
});
