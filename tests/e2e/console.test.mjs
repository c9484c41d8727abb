// The console, screen by screen, in chromium against `sampan demo` data.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { BASE, PHONE, api, launch, logIn, openPage, screenshot } from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("logging in leads to the dashboard with live figures", async () => {
  const { page, done, expectError } = await openPage(browser);
  await page.goto(`${BASE}/customers`);
  await page.waitForURL(/\/login/);
  await screenshot(page, "login");
  expectError(/status of 401/);
  await page.getByTestId("login-email").fill("admin@sampan.local");
  await page.getByTestId("login-password").fill("wrong-password");
  await page.getByTestId("login-submit").click();
  await page.getByRole("alert").waitFor();
  await logIn(page);
  await page.goto(`${BASE}/`);
  await page.getByTestId("stat-customers-value").waitFor();
  await page.getByTestId("funnel-step").first().waitFor();
  // The page polls the overview; compare once both show the same reading.
  const shown = () =>
    page.evaluate(() => {
      const value = (id) => document.querySelector(`[data-testid="${id}"]`)?.getAttribute("data-value");
      return {
        people: value("stat-customers-value"),
        events: value("stat-events-today-value"),
        funnel: [...document.querySelectorAll('[data-testid="funnel-step"]')].map((step) => [
          step.getAttribute("data-stage"),
          step.getAttribute("data-value"),
        ]),
      };
    });
  const wanted = (overview) => ({
    people: String(overview.people),
    events: String(overview.events_today),
    funnel: overview.funnel.map((step) => [step.stage, String(step.people)]),
  });
  let overview = await api(page, "GET", "/api/analytics/overview");
  for (let attempt = 0; attempt < 20; attempt += 1) {
    if (JSON.stringify(await shown()) === JSON.stringify(wanted(overview))) break;
    await page.waitForTimeout(1_000);
    overview = await api(page, "GET", "/api/analytics/overview");
  }
  assert.ok(overview.people > 0, "the demo has customers");
  assert.deepEqual(
    overview.funnel.map((step) => step.stage),
    ["awareness", "consideration", "purchase", "retention", "advocacy"],
  );
  assert.deepEqual(await shown(), wanted(overview));
  await page.getByTestId("channel-chart").getByTestId("channel-item").first().waitFor();
  await screenshot(page, "home");
  await done();
});

test("a customer found by Thai name shows identities from several channels", async () => {
  const { page, done } = await openPage(browser);
  await logIn(page);
  // A demo customer with a Thai name and identifiers of two kinds or more.
  const { items } = await api(page, "GET", "/api/profiles?limit=100");
  let chosen;
  for (const item of items) {
    if (!/[\u0E00-\u0E7F]/.test(item.display_name ?? "")) continue;
    const full = await api(page, "GET", `/api/profiles/${item.id}`);
    const kinds = new Set(full.identities.map((identity) => identity.type));
    if (kinds.size >= 3) {
      chosen = full;
      break;
    }
  }
  assert.ok(chosen, "the demo has a Thai-named customer known on several channels");
  await page.getByTestId("nav-customers").click();
  const firstName = chosen.display_name.split(" ")[0];
  await page.getByTestId("customer-search").fill(firstName);
  await page.getByTestId("customer-search").press("Enter");
  const row = page.getByTestId("customer-row").filter({ hasText: chosen.display_name });
  await row.first().click();
  await page.waitForURL(new RegExp(`/customers/${chosen.id}`));
  await page.getByTestId("profile-name").filter({ hasText: chosen.display_name }).waitFor();
  const shown = await page.getByTestId("identity-item").evaluateAll((nodes) =>
    nodes.map((node) => node.getAttribute("data-type")),
  );
  const kinds = new Set(chosen.identities.map((identity) => identity.type));
  for (const kind of kinds) assert.ok(shown.includes(kind), `identity ${kind} is shown`);
  await page.getByTestId("timeline-item").first().waitFor();
  // The segments the person is in, as the API lists them.
  const theirs = await api(page, "GET", `/api/segments?profile_id=${chosen.id}`);
  const panel = page.getByTestId("segments-panel");
  if (theirs.length) await panel.getByTestId("profile-segment").first().waitFor();
  else await panel.getByTestId("empty").waitFor();
  const listed = await panel.getByTestId("profile-segment").evaluateAll((nodes) =>
    nodes.map((node) => node.getAttribute("data-segment-id")),
  );
  assert.deepEqual(listed, theirs.map((segment) => segment.id));
  await screenshot(page, "customer-360");
  // A staff note is kept on the profile, with its author.
  const note = `โทรแจ้งเรื่องสินค้า ${Date.now()}`;
  await page.getByTestId("note-body").fill(note);
  await page.getByTestId("note-save").click();
  await page.getByTestId("note-item").filter({ hasText: note }).waitFor();
  const after = await api(page, "GET", `/api/profiles/${chosen.id}`);
  assert.ok(after.notes.some((n) => n.body === note && n.author !== "staff"), "the note names its author");
  await done();
});

test("a merge is undone from the Customer 360", async () => {
  const { page, done } = await openPage(browser);
  await logIn(page);
  const { items } = await api(page, "GET", "/api/profiles?limit=200");
  let merged;
  for (const item of items) {
    const full = await api(page, "GET", `/api/profiles/${item.id}`);
    const merge = full.merges.find((m) => m.survivor_id === full.id && !m.undone_at);
    if (merge) {
      merged = { id: full.id, merge };
      break;
    }
  }
  assert.ok(merged, "the demo has merged profiles");
  await page.goto(`${BASE}/customers/${merged.id}`);
  await page.getByTestId("merge-undo").first().click();
  await page.getByTestId("merge-undo-confirm").click();
  const restored = page.getByTestId("merge-undone").locator("a");
  await restored.waitFor();
  const restoredId = await restored.textContent();
  const back = await api(page, "GET", `/api/profiles/${restoredId}`);
  assert.equal(back.id, restoredId);
  const survivor = await api(page, "GET", `/api/profiles/${merged.id}`);
  assert.ok(survivor.merges.find((m) => m.id === merged.merge.id)?.undone_at, "the merge is marked undone");
  await done();
});

test("store staff find a customer by phone in another format and see the cart", async () => {
  const { page, done } = await openPage(browser, PHONE);
  await logIn(page, "store_staff");
  // A known customer with a phone number gets a cart from the app.
  const admin = await openPage(browser);
  await logIn(admin.page);
  const { items } = await api(admin.page, "GET", "/api/profiles?limit=200");
  let person;
  for (const item of items) {
    const full = await api(admin.page, "GET", `/api/profiles/${item.id}`);
    const phone = full.identities.find((identity) => identity.type === "phone");
    const user = full.identities.find((identity) => identity.type === "user_id");
    if (phone && user && /[\u0E00-\u0E7F]/.test(full.display_name ?? "")) {
      person = { ...full, phone: phone.value, user: user.value };
      break;
    }
  }
  assert.ok(person, "the demo has a member with a phone number");
  const skus = await api(admin.page, "GET", "/api/commerce/stock?location_id=BKK01&limit=50");
  const onShelf = skus.find((level) => level.available > 0);
  assert.ok(onShelf, "the demo branch BKK01 has stock");
  const cart = await api(admin.page, "POST", "/api/commerce/carts", {
    customer: { user_id: person.user },
    channel: "app",
  });
  await api(admin.page, "PUT", `/api/commerce/carts/${cart.id}/items/${onShelf.sku}`, {
    quantity: 1,
    channel: "app",
  });
  await admin.done();
  // +66 81 234 5678 is typed at the counter as 081-234-5678.
  const digits = person.phone.replace(/[^0-9]/g, "");
  const local = digits.startsWith("66") ? `0${digits.slice(2)}` : digits;
  const typed = `${local.slice(0, 3)}-${local.slice(3, 6)}-${local.slice(6)}`;
  await page.goto(`${BASE}/store`);
  await page.getByTestId("store-lookup-phone").fill(typed);
  await page.getByTestId("store-lookup-submit").click();
  await page.getByTestId("store-greeting").waitFor();
  const greeting = await page.getByTestId("store-greeting").textContent();
  assert.ok(greeting?.includes(person.display_name.split(" ")[0]), greeting ?? "");
  await page.getByTestId("store-cart-item").filter({ hasText: onShelf.sku }).waitFor();
  // At branch BKK01, the item's shelf stock is what the availability API says.
  const branch = (await api(page, "GET", "/api/commerce/locations")).find((l) => l.id === "BKK01");
  await page.getByTestId("store-branch").click();
  await page.getByRole("option", { name: branch.name }).click();
  const suggestion = page.locator(`[data-testid="store-suggestion"][data-sku="${onShelf.sku}"]`);
  await suggestion.waitFor();
  const stock = await api(page, "GET", `/api/commerce/availability/${onShelf.sku}?location_id=BKK01`);
  assert.equal(Number(await suggestion.getAttribute("data-here")), stock.available_here);
  await screenshot(page, "store-view");
  await done();
});

test("a segment built in the console has the size the API gives", async () => {
  const { page, done } = await openPage(browser);
  await logIn(page);
  await page.getByTestId("nav-segments").click();
  await page.waitForURL(/\/segments$/);
  await page.getByTestId("segment-row").first().waitFor();
  await page.getByTestId("segment-new").click();
  await page.waitForURL(/\/segments\/new$/);
  // Customers with at least two orders, who completed an order at some time in ten years.
  const first = page.getByTestId("segment-rule").nth(0);
  await first.getByTestId("rule-kind").selectOption("computed");
  await first.getByTestId("rule-field").selectOption("order_count");
  await first.getByTestId("rule-op").selectOption("gte");
  await first.getByTestId("rule-value").fill("2");
  await page.getByTestId("rule-add").click();
  const second = page.getByTestId("segment-rule").nth(1);
  await second.getByTestId("rule-kind").selectOption("event");
  await second.getByTestId("rule-event").fill("Order Completed");
  await second.getByTestId("rule-did").selectOption("did");
  await second.getByTestId("rule-op").selectOption("gte");
  await second.getByTestId("rule-value").fill("1");
  await second.getByTestId("rule-days").fill("3650");
  // ...whose order had a total, and who are not in a group of people nobody is in.
  await second.getByTestId("filter-add").click();
  await second.getByTestId("filter-property").fill("total");
  await second.getByTestId("filter-op").selectOption("gt");
  await second.getByTestId("filter-value").fill("0");
  await page.keyboard.press("Escape");
  await page.getByTestId("group-add").first().click();
  const nested = page.locator('[data-testid="segment-group"][data-depth="2"]');
  await nested.getByTestId("group-negate").check();
  const third = nested.getByTestId("segment-rule").first();
  await third.getByTestId("rule-kind").selectOption("trait");
  await third.getByTestId("rule-field").fill("vip_blocked");
  await third.getByTestId("rule-op").selectOption("exists");
  await page.getByTestId("segment-mode").getByText("JSON", { exact: true }).click();
  const json = page.getByTestId("segment-json");
  await json.waitFor();
  const condition = JSON.parse(await json.inputValue());
  assert.deepEqual(condition, {
    all: [
      { computed: "order_count", op: "gte", value: 2 },
      {
        event: "Order Completed",
        where: [{ property: "total", op: "gt", value: 0 }],
        within_days: 3650,
      },
      { not: { any: [{ trait: "vip_blocked", op: "exists" }] } },
    ],
  });
  // Back to the builder: the JSON reads back into the same rows.
  await page.getByTestId("segment-mode").getByText("ตัวช่วยสร้าง", { exact: true }).click();
  await nested.getByTestId("group-negate").waitFor();
  const previewSize = page.locator('[data-testid="segment-preview-size"][data-value]');
  await previewSize.waitFor();
  const previewed = Number(await previewSize.getAttribute("data-value"));
  assert.ok(previewed > 0, "the demo has repeat buyers");
  await page.getByTestId("segment-preview-sample").waitFor();
  await screenshot(page, "segment-builder");
  const name = `ลูกค้าซื้อซ้ำ ${Date.now()}`;
  await page.getByTestId("segment-name").fill(name);
  await page.getByTestId("segment-save").click();
  await page.waitForURL(/\/segments\/seg_/);
  const id = decodeURIComponent(new URL(page.url()).pathname.split("/").pop());
  await page.getByTestId("segment-title").filter({ hasText: name }).waitFor();
  const shown = Number(await page.getByTestId("segment-size").getAttribute("data-value"));
  const saved = await api(page, "GET", `/api/segments/${id}`);
  assert.equal(saved.name, name);
  assert.deepEqual(saved.condition, condition);
  assert.equal(shown, saved.size);
  assert.equal(shown, previewed);
  await page.getByTestId("segment-member").first().waitFor();
  // Editing opens the saved condition in the builder, nested group and filter included.
  await page.getByTestId("segment-edit").click();
  await page.waitForURL(/\/edit$/);
  await expectChecked(nested.getByTestId("group-negate"));
  assert.equal(await page.getByTestId("filter-property").inputValue(), "total");
  assert.equal(await page.getByTestId("segment-name").inputValue(), name);
  await done();
});

async function expectChecked(locator) {
  await locator.waitFor();
  assert.ok(await locator.isChecked());
}

test("the RFM and lifecycle views show the figures the API gives", async () => {
  const { page, done } = await openPage(browser);
  await logIn(page, "marketer");
  await page.goto(`${BASE}/segments`);
  await page.getByTestId("segment-insights").click();
  await page.waitForURL(/\/segments\/insights$/);
  await page.getByTestId("rfm-group").first().waitFor();
  const insights = await api(page, "GET", "/api/segments/insights");
  const stages = {};
  for (const row of await page.getByTestId("lifecycle-stage").all()) {
    stages[await row.getAttribute("data-stage")] = Number(await row.getAttribute("data-people"));
  }
  assert.deepEqual(stages, Object.fromEntries(insights.lifecycle.map((t) => [t.label, t.people])));
  const groups = {};
  for (const row of await page.getByTestId("rfm-group").all()) {
    groups[await row.getAttribute("data-group")] = Number(await row.getAttribute("data-people"));
  }
  assert.deepEqual(groups, Object.fromEntries(insights.rfm_groups.map((g) => [g.group, g.people])));
  let inGrid = 0;
  for (const cell of await page.getByTestId("rfm-cell").all()) {
    inGrid += Number(await cell.getAttribute("data-people"));
  }
  assert.equal(inGrid, Object.values(groups).reduce((a, b) => a + b, 0));
  assert.ok(inGrid > 0, "the demo has scored buyers");
  await screenshot(page, "segment-insights");
  // A group opens its ready-made segment.
  await page.locator('[data-testid="rfm-group"][data-group="Champions"] a').click();
  await page.getByTestId("segment-title").filter({ hasText: "Champions" }).waitFor();
  await done();
});
