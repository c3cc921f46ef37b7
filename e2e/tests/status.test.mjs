// The public status page (issue #6, "Done when"): it renders in headless Chromium from the
// server's own assets only, shows the overall status and every component the Statuspage v2
// JSON lists, and follows a real outage of the MaintainX simulator through the probes and the
// status evaluator to an open incident. Also a workspace's own page once published.
// Screenshots: test-artifacts/e2e/status*.png.

import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { startStack } from "../lib/stack.mjs";
import { launch, shot, trackRequests } from "../lib/browser.mjs";

let stack;
let browser;

before(async () => {
  // Fast probes and evaluations, and an incident as soon as a component is out.
  stack = await startStack({
    sims: ["maintainx"],
    name: "status",
    env: {
      MILLWRIGHT_PROBE_INTERVAL_SECONDS: "1",
      MILLWRIGHT_STATUS_INTERVAL_SECONDS: "1",
      MILLWRIGHT_INCIDENT_OPEN_AFTER_SECONDS: "1",
    },
  });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

async function json(path) {
  const res = await fetch(stack.url + path);
  assert.equal(res.status, 200, path);
  return res.json();
}

/** Opens `path` in a fresh page; returns the page, its requests and its console errors. */
async function open(path, viewport = { width: 1200, height: 900 }) {
  const page = await browser.newPage({ viewport });
  const requests = trackRequests(page);
  const errors = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(String(e)));
  const response = await page.goto(stack.url + path, { waitUntil: "networkidle" });
  assert.equal(response.status(), 200, path);
  return { page, requests, errors };
}

/** Nothing went to another host, nothing was blocked by the Content-Security-Policy. */
function assertSelfContained({ requests, errors }) {
  const foreign = requests.filter((u) => !u.startsWith(stack.url + "/") && !u.startsWith("data:"));
  assert.deepEqual(foreign, [], "requests to other hosts");
  assert.ok(requests.some((u) => u.includes("/status/assets/status.css")), "the stylesheet loaded");
  assert.deepEqual(errors, [], "console errors (CSP violations, failed loads)");
}

/** The page agrees with summary.json: banner, components and their statuses. */
async function assertMatchesJson(page, summary) {
  const banner = page.locator("#overall-status");
  assert.equal((await banner.innerText()).trim().replace(/^\S+\s+/, ""), summary.status.description);
  for (const c of summary.components) {
    const level = c.group ? 3 : 4;
    const heading = page.getByRole("heading", { level, name: c.name, exact: !c.group });
    assert.ok(await heading.first().isVisible(), `component ${c.name} is shown`);
  }
  const members = summary.components.filter((c) => !c.group).length;
  assert.equal(await page.locator("ol.bars > li").count(), members * 90, "90 daily bars each");
  // Every bar says its day and figure in words, not only in colour.
  const title = await page.locator("ol.bars > li").last().getAttribute("title");
  assert.match(title, /^[A-Z][a-z]{2} \d{1,2}, \d{4}: /);
}

test("the public status page renders the Statuspage data and follows an outage", async () => {
  const connected = await stack.api("POST", "/api/v1/connections", {
    connector: "maintainx",
    name: "North plant",
    credentials: { base_url: stack.sims.maintainx, api_key: "sim-maintainx-key" },
  });
  assert.equal(connected.status, 201, JSON.stringify(connected.body));
  const con = connected.body.connection.id;
  await stack.waitFor(
    async () => (await stack.api("GET", `/api/v1/connections/${con}`)).body.status === "active",
    { what: "the connection to be active", timeout: 60_000 },
  );
  const quiet = await stack.waitFor(
    async () => {
      const s = await json("/status/api/v2/summary.json");
      return s.components.some((c) => c.id === "connector.maintainx") && s.status.indicator === "none" && s;
    },
    { what: "the evaluated components, all operational", timeout: 60_000 },
  );

  const calm = await open("/status");
  await assertMatchesJson(calm.page, quiet);
  assert.equal(await calm.page.title(), `${quiet.page.name} Status`);
  await shot(calm.page, "status");
  assertSelfContained(calm);

  // The source goes down: the probes take the connection offline, the evaluator the MaintainX
  // component, and an incident opens.
  await stack.sim("maintainx", "/__sim/outage", { mode: "503" });
  const outage = await stack.waitFor(
    async () => {
      const s = await json("/status/api/v2/summary.json");
      const maintainx = s.components.find((c) => c.id === "connector.maintainx");
      return maintainx.status !== "operational" && s.incidents.length > 0 && s;
    },
    { what: "an outage of the MaintainX component with an incident", timeout: 90_000 },
  );
  assert.notEqual(outage.status.indicator, "none");

  const down = await open("/status");
  await assertMatchesJson(down.page, outage);
  const incident = outage.incidents[0];
  const article = down.page.locator(`article[id="${incident.id}"]`);
  assert.ok(await article.isVisible(), "the open incident is shown");
  assert.equal((await article.locator("h3").innerText()).trim(), incident.name);
  assert.ok(
    (await article.innerText()).includes(incident.incident_updates[0].body.split("\n")[0]),
    "with its latest update",
  );
  await shot(down.page, "status-outage");
  assertSelfContained(down);

  // On a phone: the same, readable, with 30 days of bars.
  const phone = await open("/status", { width: 390, height: 844 });
  const bars = phone.page.locator("ol.bars").first();
  assert.equal(await bars.locator("li:visible").count(), 30);
  const width = await phone.page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `no horizontal scrolling (${width}px)`);
  await shot(phone.page, "status-phone");
  assertSelfContained(phone);
});

test("a workspace's page shows only its connections once published", async () => {
  // The source is back (the other workspace connects to it below).
  await stack.sim("maintainx", "/__sim/outage", { mode: "none" });
  assert.equal((await fetch(`${stack.url}/status/w/${stack.workspace.id}`)).status, 404);
  const published = await stack.api("PUT", "/api/v1/status-page", { enabled: true });
  assert.equal(published.status, 200, JSON.stringify(published.body));
  const connections = (await stack.api("GET", "/api/v1/connections")).body.data;
  const created = await stack.api("POST", "/api/v1/incidents", {
    name: "North plant data delayed",
    status: "identified",
    impact: "minor",
    body: "The plant's CMMS is down; data will catch up when it is back.",
    component_ids: [connections[0].id],
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));

  const other = await stack.newWorkspace("Other Co");
  const foreign = await stack.api(
    "POST",
    "/api/v1/connections",
    {
      connector: "maintainx",
      name: "Foreign plant",
      credentials: { base_url: stack.sims.maintainx, api_key: "sim-maintainx-key" },
    },
    { token: other.key },
  );
  assert.equal(foreign.status, 201, JSON.stringify(foreign.body));
  const summary = await json(`/status/w/${stack.workspace.id}/api/v2/summary.json`);
  const view = await open(`/status/w/${stack.workspace.id}`);
  await assertMatchesJson(view.page, summary);
  assert.ok(await view.page.getByRole("heading", { name: "North plant data delayed" }).isVisible());
  const text = await view.page.locator("main").innerText();
  assert.ok(text.includes("North plant"), "its connection");
  // The other workspace's connection is never shown.
  assert.ok(!text.includes("Foreign plant"), "another workspace's connection");
  assert.equal(summary.components.filter((c) => !c.group).length, connections.length);
  await shot(view.page, "status-workspace");
  assertSelfContained(view);
  assert.equal((await fetch(`${stack.url}/status/w/${other.id}`)).status, 404, "the other's is unpublished");
});
