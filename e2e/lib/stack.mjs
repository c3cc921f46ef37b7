// The system under test for browser tests: the real `millwright` binary serving API, workers and
// web pages on a fresh SQLite file, with vendor simulators beside it, all on loopback.
//
// Usage (inside a `node:test` test; run every e2e test with `scripts/e2e`, which builds the
// binary, installs playwright-core and checks Chromium first):
//
//   import { startStack } from "../lib/stack.mjs";
//   const stack = await startStack({ sims: ["maintainx"] });
//   // stack.url                      e.g. "http://127.0.0.1:41234" (server, also its public URL)
//   // stack.workspace                { id, key }  (workspace secret key, `mw_sk_...`)
//   // stack.user                     { email, password }  (dashboard user of that workspace)
//   // stack.sims.maintainx           "http://127.0.0.1:PORT" (simulator base_url)
//   // stack.api(method, path, body?, { token?, headers? })  -> { status, headers, body }
//   //                                (workspace key by default; `token` for a connection token)
//   // stack.sim("maintainx", "/__sim/outage", { mode: "503" })  -> simulator control call
//   // stack.newWorkspace(name)       -> { id, key, user: { email, password } }  (isolation tests)
//   // stack.waitFor(async () => truthy, { timeout, what })       poll until truthy
//   await stack.stop();
//
// Options: `sims` (any of "maintainx", "maximo", "sap"), `credits` (default 20), `env` (extra
// MILLWRIGHT_* variables for the server, e.g. { MILLWRIGHT_PROBE_INTERVAL_SECONDS: "2" }).
// The binary is $MILLWRIGHT_BIN or target/debug/millwright; server output goes to
// test-artifacts/e2e/<name>-server.log.

import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, createWriteStream, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const artifactsDir = path.join(repoRoot, "test-artifacts", "e2e");
const bin = process.env.MILLWRIGHT_BIN || path.join(repoRoot, "target", "debug", "millwright");

/** Starts `millwright args` and resolves with the child once `pattern` appears in its output. */
function startProcess(args, { env = {}, pattern, log, timeout = 30_000 }) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG || "info", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out = createWriteStream(log);
    let seen = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`millwright ${args.join(" ")}: no "${pattern}" within ${timeout} ms; see ${log}`));
    }, timeout);
    const onData = (chunk) => {
      out.write(chunk);
      if (timer === null) return;
      seen += chunk.toString();
      const m = seen.match(pattern);
      if (m) {
        clearTimeout(timer);
        seen = "";
        resolve({ child, match: m });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code, signal) => {
      out.end();
      clearTimeout(timer);
      reject(new Error(`millwright ${args.join(" ")} exited (${code ?? signal}); see ${log}`));
    });
  });
}

/** Runs `millwright args` to completion and returns its standard output. */
function run(args, { env = {}, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("exit", (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`millwright ${args.join(" ")} failed (${code}): ${stderr}`)),
    );
    child.stdin.end(input ?? "");
  });
}

let counter = 0;

export async function startStack({ sims = ["maintainx"], credits = 20, env = {}, name } = {}) {
  mkdirSync(artifactsDir, { recursive: true });
  const label = name || `stack${++counter}-${process.pid}`;
  const dataDir = mkdtempSync(path.join(tmpdir(), "millwright-e2e-"));
  const children = [];
  const common = ["--data-dir", dataDir];
  const listenPattern = /listening on (http:\/\/[0-9.:]+)/;

  const simUrls = {};
  for (const system of sims) {
    const { child, match } = await startProcess(["sim", system, "--listen", "127.0.0.1:0"], {
      pattern: listenPattern,
      log: path.join(artifactsDir, `${label}-sim-${system}.log`),
    });
    children.push(child);
    simUrls[system] = match[1];
  }

  const newWorkspace = async (wsName, wsCredits = credits) => {
    const created = JSON.parse(
      await run(["workspace", "create", "--name", wsName, "--credits", String(wsCredits), ...common]),
    );
    const user = { email: `${created.workspace_id}@example.test`.toLowerCase(), password: "correct horse battery staple" };
    await run(["user", "create", "--workspace", created.workspace_id, "--email", user.email, "--password-stdin", ...common], {
      input: user.password + "\n",
    });
    return { id: created.workspace_id, key: created.secret_key, user };
  };

  // The workspace and user are made before the server starts, through the CLI, as an operator
  // would; the master key is created in the data directory on first use.
  const ws = await newWorkspace("E2E Industries");

  const { child: server, match } = await startProcess(["serve", "--listen", "127.0.0.1:0", ...common], {
    env: { MILLWRIGHT_ALLOW_PRIVATE_WEBHOOK_TARGETS: "true", ...env },
    pattern: listenPattern,
    log: path.join(artifactsDir, `${label}-server.log`),
  });
  children.push(server);
  const url = match[1];

  const api = async (method, p, body, { token, headers = {} } = {}) => {
    const res = await fetch(url + p, {
      method,
      headers: {
        authorization: `Bearer ${token || ws.key}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {}
    return { status: res.status, headers: res.headers, body: parsed };
  };

  const sim = async (system, p, body) => {
    const res = await fetch(simUrls[system] + p, {
      method: body === undefined ? "GET" : "POST",
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`simulator ${system} ${p}: ${res.status} ${await res.text()}`);
    const text = await res.text();
    return text ? JSON.parse(text) : null;
  };

  return {
    url,
    dataDir,
    workspace: { id: ws.id, key: ws.key },
    user: ws.user,
    sims: simUrls,
    api,
    sim,
    newWorkspace,
    waitFor,
    async stop() {
      for (const c of children.reverse()) {
        if (c.exitCode === null) {
          c.removeAllListeners("exit");
          const done = new Promise((r) => c.once("exit", r));
          c.kill("SIGTERM");
          await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
          if (c.exitCode === null) c.kill("SIGKILL");
        }
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a truthy value (returned), or fails after `timeout` ms. */
export async function waitFor(check, { timeout = 30_000, interval = 200, what = "condition" } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? `: ${last.message}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}
