// Link in a real browser (issue #7): a page on another origin embeds /link/{token} in an iframe,
// the end user fills the form inside the frame for the MaintainX simulator (a wrong key first,
// then the right one), the parent page receives the public token by postMessage, exchanges it
// through the API, and the connection works with the returned token. Then the customer rotates
// their key, the connection requires reauthorization, and a Link session reauthorizes it in
// place. Also: the frame refuses origins the session does not allow, and Cancel posts
// `millwright.link.exit`.
//
// The embedding page is served by a tiny node server on http://localhost:PORT while Millwright
// is on http://127.0.0.1:PORT, so the two are different origins (and different sites).

import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startStack } from "../lib/stack.mjs";
import { launch, shot, trackRequests } from "../lib/browser.mjs";

const SIM_KEY = "sim-maintainx-key";

let stack;
let browser;
let embedder; // { origin, close }

/** Serves /embed?src=URL: a page that frames `src` and records every message it receives. */
function startEmbedder() {
  return new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      const url = new URL(req.url, "http://localhost");
      if (url.pathname !== "/embed") {
        res.writeHead(404).end();
        return;
      }
      const src = url.searchParams.get("src") || "";
      const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>Vendor app</title></head>
<body>
<h1>Acme Analytics: connect your CMMS</h1>
<iframe id="mw-link" title="Connect your system" src="${src.replace(/"/g, "&quot;")}"
        style="width: 480px; height: 720px; border: 1px solid #ccc"></iframe>
<pre id="log"></pre>
<script>
  window.received = [];
  window.addEventListener("message", (event) => {
    window.received.push({ origin: event.origin, data: event.data });
    document.getElementById("log").textContent += event.origin + " " + JSON.stringify(event.data) + "\\n";
  });
</script>
</body></html>`;
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html);
    });
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({ origin: `http://localhost:${port}`, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

before(async () => {
  stack = await startStack({ sims: ["maintainx"], name: "link" });
  embedder = await startEmbedder();
  browser = await launch();
  const branded = await stack.api("PATCH", "/api/v1/workspace", {
    name: "Acme Analytics",
    branding: { accent_color: "#0a7cff" },
  });
  assert.equal(branded.status, 200, JSON.stringify(branded.body));
});

after(async () => {
  await browser?.close();
  await embedder?.close();
  await stack?.stop();
});

async function createSession(body) {
  const res = await stack.api("POST", "/api/v1/link-sessions", body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

/** Opens the embedding page framing the session's Link URL; returns the page and its frame. */
async function embed(session) {
  const page = await browser.newPage();
  const requests = trackRequests(page);
  const src = `${stack.url}/link/${session.link_token}`;
  await page.goto(`${embedder.origin}/embed?src=${encodeURIComponent(src)}`);
  const frame = page.frameLocator("#mw-link");
  return { page, frame, requests };
}

/** Waits for a message of `type` in the embedding page and returns it. */
async function message(page, type) {
  const handle = await page.waitForFunction(
    (t) => window.received.find((m) => m.data && m.data.type === t),
    type,
    { timeout: 30_000 },
  );
  return handle.jsonValue();
}

async function connection(id) {
  const res = await stack.api("GET", `/api/v1/connections/${id}`);
  assert.equal(res.status, 200);
  return res.body;
}

test("connect the MaintainX simulator through Link inside an iframe, then exchange the token", async () => {
  const session = await createSession({
    connectors: ["maintainx"],
    allowed_origins: [embedder.origin],
    metadata: { customer: "e2e" },
  });
  assert.equal(session.url, `${stack.url}/link/${session.link_token}`);
  const { page, frame, requests } = await embed(session);

  await frame.getByRole("heading", { name: "Connect MaintainX" }).waitFor();
  await frame.getByText("Acme Analytics").first().waitFor();
  await shot(page, "link-form");

  // A wrong key: the form comes back inside the frame with MaintainX's reason.
  await frame.getByLabel("Instance URL").fill(stack.sims.maintainx);
  await frame.getByLabel("API key").fill("not-the-key");
  await frame.getByRole("button", { name: "Connect" }).click();
  await frame.getByText("MaintainX did not accept these details").waitFor();
  await frame.getByText("the source system rejected the credentials").waitFor();
  assert.equal(await frame.getByLabel("API key").inputValue(), "", "the secret is not sent back");
  assert.equal(await frame.getByLabel("Instance URL").inputValue(), stack.sims.maintainx);
  await shot(page, "link-form-rejected");

  // Keyboard only: type the right key and submit with Enter.
  await frame.getByLabel("API key").focus();
  await page.keyboard.type(SIM_KEY);
  await page.keyboard.press("Enter");
  await frame.getByRole("heading", { name: "MaintainX connected" }).waitFor();
  const success = await message(page, "millwright.link.success");
  await shot(page, "link-success");
  assert.equal(success.origin, new URL(stack.url).origin, "the message comes from Millwright");
  assert.match(success.data.public_token, /^mw_pt_[0-9A-Za-z]{32,}$/);
  assert.equal(success.data.link_session_id, session.id);

  const exchanged = await stack.api("POST", "/api/v1/link-sessions/exchange", {
    public_token: success.data.public_token,
  });
  assert.equal(exchanged.status, 200, JSON.stringify(exchanged.body));
  assert.equal(exchanged.body.connection.connector, "maintainx");
  assert.deepEqual(exchanged.body.connection.metadata, { customer: "e2e" });
  const token = exchanged.body.access_token;
  assert.match(token, /^mw_ct_/);
  const again = await stack.api("POST", "/api/v1/link-sessions/exchange", {
    public_token: success.data.public_token,
  });
  assert.equal(again.status, 400);
  assert.equal(again.body.error.code, "PUBLIC_TOKEN_INVALID");

  // The connection is usable with the returned token once its first sync is done.
  const me = await stack.api("GET", "/api/v1/connection", undefined, { token });
  assert.equal(me.status, 200);
  assert.equal(me.body.id, exchanged.body.connection.id);
  await stack.waitFor(
    async () => {
      const s = await stack.api("GET", "/api/v1/sync-status", undefined, { token });
      return s.status === 200 && s.body.data.every((e) => e.status === "completed");
    },
    { timeout: 60_000, what: "the first sync" },
  );
  const wos = await stack.api("GET", "/api/v1/work-orders", undefined, { token });
  assert.equal(wos.status, 200);
  assert.ok(wos.body.data.length > 0, "work orders were synced");

  // Everything the frame loaded came from Millwright or the embedding page.
  const foreign = requests.filter(
    (u) => !u.startsWith(stack.url) && !u.startsWith(embedder.origin) && !u.startsWith("data:"),
  );
  assert.deepEqual(foreign, [], "requests to other hosts");
  await page.close();
});

test("the flow refuses to be framed by an origin the session does not allow", async () => {
  const session = await createSession({ connectors: ["maintainx"] }); // no allowed origins
  const { page } = await embed(session);
  // `goto` resolved on the page's load event, which waits for its frames. Chromium replaces a
  // frame blocked by frame-ancestors with its own error page: no Link form inside.
  const frame = page.frames().find((f) => f !== page.mainFrame());
  assert.ok(frame, "the iframe exists");
  assert.ok(frame.url().startsWith("chrome-error:"), `the frame was blocked (${frame.url()})`);
  const forms = await frame.locator("form").count().catch(() => 0); // an error page may refuse scripts
  assert.equal(forms, 0, "the Link form did not render in the frame");
  await shot(page, "link-framing-refused");

  // Opened top-level (here on a phone-sized screen), the same link works.
  const direct = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await direct.goto(`${stack.url}/link/${session.link_token}`);
  await direct.getByRole("heading", { name: "Connect MaintainX" }).waitFor();
  const overflow = await direct.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, "no horizontal scrolling on a phone");
  await shot(direct, "link-phone");
  await page.close();
  await direct.close();
});

test("Cancel tells the embedding page", async () => {
  const session = await createSession({ connectors: ["maintainx", "maximo"], allowed_origins: [embedder.origin] });
  const { page, frame } = await embed(session);
  await frame.getByRole("heading", { name: "Connect your system" }).waitFor();
  await shot(page, "link-choose");
  await frame.getByRole("link", { name: "Cancel" }).click();
  const exit = await message(page, "millwright.link.exit");
  assert.equal(exit.data.link_session_id, session.id);
  await page.close();
});

test("rotated credentials: the connection requires reauthorization and Link reauthorizes it in place", async () => {
  const created = await stack.api("POST", "/api/v1/connections", {
    connector: "maintainx",
    name: "Plant 7",
    credentials: { base_url: stack.sims.maintainx, api_key: SIM_KEY },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.connection.id;
  const token = created.body.access_token;
  await stack.waitFor(
    async () => {
      const s = await stack.api("GET", "/api/v1/sync-status", undefined, { token });
      return s.status === 200 && s.body.data.every((e) => e.status === "completed");
    },
    { timeout: 60_000, what: "the first sync" },
  );

  await stack.sim("maintainx", "/__sim/credentials", { api_key: "rotated-by-customer" });
  await stack.api("POST", "/api/v1/sync", { entities: ["users"] }, { token });
  await stack.waitFor(async () => (await connection(id)).status === "requires_reauthorization", {
    timeout: 30_000,
    what: "requires_reauthorization",
  });

  const session = await createSession({ connection_id: id, allowed_origins: [embedder.origin] });
  assert.equal(session.purpose, "reauthorize");
  const { page, frame } = await embed(session);
  await frame.getByRole("heading", { name: "Reconnect MaintainX" }).waitFor();
  await shot(page, "link-reauthorize");
  await frame.getByLabel("API key").fill("rotated-by-customer");
  await frame.getByRole("button", { name: "Reconnect" }).click();
  const success = await message(page, "millwright.link.success");
  await frame.getByRole("heading", { name: "MaintainX reconnected" }).waitFor();
  await shot(page, "link-reauthorized");

  const exchanged = await stack.api("POST", "/api/v1/link-sessions/exchange", {
    public_token: success.data.public_token,
  });
  assert.equal(exchanged.status, 200, JSON.stringify(exchanged.body));
  assert.equal(exchanged.body.connection.id, id, "same connection");
  assert.equal(exchanged.body.access_token, null, "the connection keeps its token");
  assert.equal(exchanged.body.purpose, "reauthorize");
  assert.equal((await connection(id)).status, "active");
  const wos = await stack.api("GET", "/api/v1/work-orders", undefined, { token });
  assert.equal(wos.status, 200, "the old token works again");
  assert.ok(wos.body.data.length > 0, "the synced data is still there");
  await page.close();
});
