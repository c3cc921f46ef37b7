// The API reference page (spec §7: `GET /docs`, served without internet access) renders in a
// real browser and every request it makes stays on the server's own origin.

import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { startStack } from "../lib/stack.mjs";
import { launch, shot, trackRequests } from "../lib/browser.mjs";

let stack;
let browser;
before(async () => {
  stack = await startStack({ sims: [], name: "docs" });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});

test("the API reference renders offline from the server's own assets", async () => {
  const page = await browser.newPage();
  const requests = trackRequests(page);
  const response = await page.goto(stack.url + "/docs/", { waitUntil: "networkidle" });
  assert.equal(response.status(), 200);
  // Swagger UI draws the document's operations once it has loaded /openapi.json.
  await page.getByText("/api/v1/connections", { exact: true }).first().waitFor({ timeout: 15_000 });
  await shot(page, "docs");
  const foreign = requests.filter((u) => !u.startsWith(stack.url) && !u.startsWith("data:"));
  assert.deepEqual(foreign, [], "requests to other hosts");
  assert.ok(requests.some((u) => u.endsWith("/openapi.json")), "the page loaded the OpenAPI document");
});
