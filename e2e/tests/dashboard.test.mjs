// The dashboard's main journey in headless Chromium against the real server and the MaintainX
// simulator (issue #7, "Done when"): sign in; see the connection and its first sync; find a
// failing API call's request log by its request id; rotate the simulator's credentials and
// watch the connection require reauthorization, then reauthorize it from the dashboard;
// disconnect it and see its token refused and its credits returned; create a webhook endpoint,
// see a failed delivery and retry it. A screenshot of each main page is kept in
// test-artifacts/e2e/dashboard-*.png. (Connecting through Link is covered by link.test.mjs.)

import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startStack } from "../lib/stack.mjs";
import { launch, shot, trackRequests } from "../lib/browser.mjs";

let stack;
let browser;
let receiver;
let receiverStatus = 500;
let received = 0;

before(async () => {
  // Probes every 2 s so a rejected credential shows up quickly.
  stack = await startStack({
    sims: ["maintainx"],
    name: "dashboard",
    env: { MILLWRIGHT_PROBE_INTERVAL_SECONDS: "2" },
  });
  browser = await launch();
  receiver = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      received += 1;
      res.writeHead(receiverStatus, { "content-type": "text/plain" });
      res.end(receiverStatus === 200 ? "ok" : "receiver is down");
    });
  });
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
});

after(async () => {
  await browser?.close();
  await stack?.stop();
  receiver?.close();
});

/** Reloads `page` until `check(page)` holds. */
async function reloadUntil(page, check, what, timeout = 60_000) {
  await stack.waitFor(
    async () => {
      await page.reload();
      return await check(page);
    },
    { timeout, interval: 500, what },
  );
}

test("the dashboard journey: sign in, syncs, logs, reauthorization, disconnect, webhooks", async () => {
  const { status, body } = await stack.api("POST", "/api/v1/connections", {
    connector: "maintainx",
    name: "Acme Plant 4",
    credentials: { base_url: stack.sims.maintainx, api_key: "sim-maintainx-key" },
    metadata: { customer: "acme" },
  });
  assert.equal(status, 201, JSON.stringify(body));
  const con = body.connection.id;
  const token = body.access_token;

  const context = await browser.newContext();
  const page = await context.newPage();
  const requests = trackRequests(page);

  // Signed out, the dashboard sends you to sign in.
  await page.goto(stack.url + "/dashboard");
  assert.equal(new URL(page.url()).pathname, "/dashboard/login");
  await shot(page, "dashboard-login");
  await page.fill("#email", stack.user.email);
  await page.fill("#password", "not the password");
  await page.click("button[type=submit]");
  await page.getByText("The e-mail or password is wrong.").waitFor();
  await page.fill("#password", stack.user.password);
  await page.click("button[type=submit]");
  await page.waitForURL(stack.url + "/dashboard/connections");
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === "mw_session");
  assert.ok(session?.httpOnly, "the session cookie is HttpOnly");
  assert.equal(session.sameSite, "Lax");

  // The connection and its first sync.
  await page.getByRole("link", { name: "Acme Plant 4" }).waitFor();
  await page.fill("input[name=q]", "plant 4");
  await page.click("form.filters button[type=submit]");
  await page.getByRole("link", { name: "Acme Plant 4" }).click();
  await page.waitForURL(`${stack.url}/dashboard/connections/${con}`);
  await reloadUntil(
    page,
    async (p) => (await p.locator("#connection-status").textContent()).trim() === "active" &&
      (await p.locator(".run-completed").count()) > 0,
    "the first sync to complete",
  );
  await shot(page, "dashboard-connection");
  await page.goto(stack.url + "/dashboard/connections");
  await shot(page, "dashboard-connections");
  // Readable on a phone: nothing wider than the screen but the tables' own scrollers.
  const phone = await context.newPage();
  await phone.setViewportSize({ width: 390, height: 844 });
  await phone.goto(`${stack.url}/dashboard/connections/${con}`);
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow} px on a phone`);
  await shot(phone, "dashboard-connection-phone");
  await phone.close();

  // A failing API call, found in the request logs by the request id it returned.
  const failing = await stack.api("GET", "/api/v1/work-orders/rec_does_not_exist", undefined, { token });
  assert.equal(failing.status, 404);
  const requestId = failing.headers.get("x-request-id");
  await page.getByRole("link", { name: "Request logs" }).click();
  await page.fill("input[name=request_id]", requestId);
  await stack.waitFor(
    async () => {
      await page.click("form.filters button[type=submit]");
      return (await page.getByRole("link", { name: requestId }).count()) > 0;
    },
    { what: "the request log" },
  );
  await shot(page, "dashboard-request-logs");
  await page.getByRole("link", { name: requestId }).click();
  await page.getByText("NOT_FOUND").first().waitFor();
  assert.ok(!(await page.content()).includes(token), "the token is redacted");
  await shot(page, "dashboard-request-log");

  // The source rejects the stored credentials: the connection requires reauthorization.
  await stack.sim("maintainx", "/__sim/credentials", { api_key: "rotated-key" });
  await page.goto(`${stack.url}/dashboard/connections/${con}`);
  await reloadUntil(
    page,
    async (p) => (await p.locator("#connection-status").textContent()).trim() === "requires reauthorization",
    'the status "requires reauthorization"',
  );
  await shot(page, "dashboard-requires-reauthorization");
  await page.goto(stack.url + "/dashboard/connections");
  await page.locator("td .badge", { hasText: "requires reauthorization" }).waitFor();

  // Reauthorize from the dashboard: a wrong key is refused with the source's reason, the
  // right one brings the connection back.
  await page.goto(`${stack.url}/dashboard/connections/${con}/reauthorize`);
  await page.fill("#cred_api_key", "still-wrong");
  await page.click("form.stack button[type=submit]");
  await page.locator(".flash.error").waitFor();
  await page.fill("#cred_api_key", "rotated-key");
  await page.click("form.stack button[type=submit]");
  await page.waitForURL(`${stack.url}/dashboard/connections/${con}`);
  await page.getByText("Reauthorized").waitFor();
  assert.equal((await page.locator("#connection-status").textContent()).trim(), "active");

  // Disconnect: the confirmation says what happens; then the token is refused and the credit
  // returns to the pool.
  const before = await stack.api("GET", "/api/v1/credits");
  assert.equal(before.body.used, 1);
  await page.getByRole("link", { name: "Disconnect…" }).click();
  await page.getByText("1 credit").waitFor();
  await shot(page, "dashboard-disconnect");
  await page.getByRole("button", { name: "Disconnect" }).click();
  await page.getByText("Disconnected: its token is revoked").waitFor();
  const refused = await stack.api("GET", "/api/v1/sync-status", undefined, { token });
  assert.equal(refused.status, 401);
  assert.equal(refused.body.error.code, "TOKEN_REVOKED");
  const afterCredits = await stack.api("GET", "/api/v1/credits");
  assert.equal(afterCredits.body.used, 0);
  await page.getByRole("link", { name: "Credits" }).click();
  assert.equal((await page.locator("#credits-used").textContent()).trim(), "0");
  await shot(page, "dashboard-credits");

  // Webhooks: an endpoint whose receiver fails, its failed delivery, and a retry.
  const hook = `http://127.0.0.1:${receiver.address().port}/hook`;
  await page.getByRole("link", { name: "Webhooks" }).click();
  await page.fill("#url", hook);
  await page.fill("#description", "E2E receiver");
  await page.getByRole("button", { name: "Add endpoint" }).click();
  const secret = (await page.locator("#one-time-secret").textContent()).trim();
  assert.match(secret, /^whsec_/);
  await page.getByRole("link", { name: "Go to the endpoint" }).click();
  assert.ok(!(await page.content()).includes(secret), "the secret is shown only once");
  await page.getByRole("button", { name: "Send test event" }).click();
  await page.getByText("Test event queued").waitFor();
  await reloadUntil(page, async (p) => (await p.locator("td", { hasText: /^500$/ }).count()) > 0, "a failed attempt");
  await page.locator("details summary", { hasText: "Attempts" }).first().click();
  await shot(page, "dashboard-webhook");
  receiverStatus = 200;
  await page.getByRole("button", { name: "Retry" }).first().click();
  await page.getByText("queued again").waitFor();
  await stack.waitFor(async () => received >= 2, { what: "the retried delivery" });
  await page.goto(stack.url + "/dashboard/webhooks/deliveries?status=succeeded");
  await reloadUntil(page, async (p) => (await p.locator(".del-succeeded").count()) > 0, "a succeeded delivery");
  await shot(page, "dashboard-deliveries");
  await page.goto(stack.url + "/dashboard/webhooks");
  await shot(page, "dashboard-webhooks");

  // Events and Link sessions render too; a magic link is created from the dashboard.
  await page.getByRole("link", { name: "Events" }).click();
  await page.fill("input[name=type]", "connection.*");
  await page.click("form.filters button[type=submit]");
  await page.getByText("connection.disconnected").first().waitFor();
  await shot(page, "dashboard-events");
  await page.getByRole("link", { name: "Link sessions" }).click();
  await page.fill("#ls-name", "Beta Mill");
  await page.selectOption("#ls-expires", "2592000");
  await page.getByRole("button", { name: "Create Link session" }).click();
  const link = (await page.locator("#one-time-secret").textContent()).trim();
  assert.ok(link.startsWith(stack.url + "/link/"), link);
  await page.getByRole("link", { name: "Back to Link sessions" }).click();
  await page.getByText("Beta Mill").waitFor();
  await shot(page, "dashboard-link-sessions");

  // Keyboard: the skip link is the first stop and the navigation is reachable.
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Skip to content");

  // Nothing was loaded from another host.
  const foreign = requests.filter((u) => !u.startsWith(stack.url) && !u.startsWith("data:"));
  assert.deepEqual(foreign, []);

  // Sign out ends the session.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByText("You are signed out.").waitFor();
  await page.goto(stack.url + "/dashboard/credits");
  assert.equal(new URL(page.url()).pathname, "/dashboard/login");
  await context.close();
});

test("dashboard pages cannot be framed", async () => {
  const res = await fetch(stack.url + "/dashboard/login");
  assert.equal(res.headers.get("x-frame-options"), "DENY");
  assert.match(res.headers.get("content-security-policy"), /frame-ancestors 'none'/);
  // A page on another origin that frames the dashboard gets nothing rendered in the frame.
  const outer = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end(`<!doctype html><iframe id="f" src="${stack.url}/dashboard/login"></iframe>`);
  });
  await new Promise((r) => outer.listen(0, "127.0.0.1", r));
  try {
    const page = await browser.newPage();
    await page.goto(`http://localhost:${outer.address().port}/`);
    await page.waitForTimeout(1000);
    const frame = page.frames().find((f) => f !== page.mainFrame());
    const inside = frame ? await frame.evaluate(() => document.body?.innerText ?? "").catch(() => "") : "";
    assert.ok(!inside.includes("Sign in"), `the framed dashboard rendered: ${inside}`);
    await page.close();
  } finally {
    outer.close();
  }
});
