/**
 * /health/live latency (p50/p99/max) while operator tokens send hostile key uploads, before and
 * after the upload bounds of issue 9 §4, in the same run. "before" is the upload route as it was
 * (16 MiB body limit, the whole body parsed, then the schema's 10,000-item check); "after" is the
 * admin API as built today (body limit of 10,000 maximal entries, entries counted while the body
 * streams in, one upload per operator), with its per-token upload rate limit raised so that every
 * hostile request reaches the body checks. Each app runs in its own process on in-memory PGlite;
 * this process sends the uploads and probes /health/live every 10 ms.
 * Shapes: 16 MiB of `{}` entries (5.6 million, as in the issue) and 8 MiB of `{}` entries (inside
 * the new byte limit, refused by the entry count).
 * Run: node --import tsx bench/registry/hostile-upload.ts [clients=6] [seconds=6]
 *
 * Imports the packages by path: the root package does not depend on the workspace packages.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { availableParallelism, loadavg } from "node:os";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { DepositDataEntry, OperatorIdParam } from "../../packages/contract/src/index.js";
import { createLogger, fromHex, loadNetwork } from "../../packages/core/src/index.js";
import { createApiToken, openStore } from "../../packages/store/src/index.js";
import { buildBase } from "../../services/admin-api/src/app.js";
import { actorOf, principalOf } from "../../services/admin-api/src/auth.js";
import { buildApp, storeReady } from "../../services/admin-api/src/build-app.js";
import { exitsPort } from "../../services/admin-api/src/exits-adapter.js";
import { oraclePort } from "../../services/admin-api/src/oracle-adapter.js";
import { performancePort } from "../../services/admin-api/src/performance-adapter.js";
import { poolPort } from "../../services/admin-api/src/pool-adapter.js";
import { registryPort } from "../../services/admin-api/src/registry-adapter.js";
import { storeTokenVerifier } from "../../services/admin-api/src/token-verifier.js";
import { REPO_ROOT } from "./api-support.js";

const POOL_WC = "0x010000000000000000000000b9d7934878b5fb9610b3fe8a5e441e8fad7e293f";
const OLD_BODY_LIMIT = 16 * 1024 * 1024;

type Mode = "before" | "after";

interface Served {
  url: string;
  tokens: { operatorId: number; token: string }[];
}

/** Child: one app on in-memory PGlite with `clients` operators and a token each; prints where. */
async function serve(mode: Mode, clients: number): Promise<void> {
  const logger = createLogger({
    level: "silent",
    destination: new Writable({ write: (_c, _e, cb) => cb() }),
  });
  const store = await openStore({ inMemory: true, logger });
  const network = loadNetwork("hoodi");
  const registry = await registryPort({
    store,
    network,
    withdrawalCredentials: fromHex(POOL_WC, "wc", 32),
    logger,
  });
  const config = { rateLimitMax: 1_000_000_000, uploadRateLimitMax: 1_000_000_000 };
  let app: Awaited<ReturnType<typeof buildApp>>;
  if (mode === "after") {
    app = await buildApp({
      store,
      registry,
      performance: performancePort(store, network),
      pool: poolPort(store),
      exits: exitsPort(store, { network: network.name, deadlineEpochs: 900 }),
      oracle: oraclePort(store, null, {
        network: network.name,
        withdrawalCredentials: "0x",
        genesisForkVersion: "0x",
      }),
      logger,
      config,
    });
  } else {
    // The upload route as it was: a 16 MiB body parsed whole, then the schema's maxItems.
    ({ app } = await buildBase({
      logger,
      config,
      tokens: storeTokenVerifier(store),
      metricsSources: registry,
      ready: () => storeReady(store),
    }));
    app.post(
      "/v1/operators/:id/keys",
      {
        bodyLimit: OLD_BODY_LIMIT,
        schema: {
          params: OperatorIdParam,
          body: { type: "array", items: DepositDataEntry, minItems: 1, maxItems: 10_000 },
        },
        config: { access: { roles: ["admin", "operator"], operatorParam: "id" } },
      },
      async (request, reply) => {
        const result = await registry.uploadKeys(Number(request.params.id), request.body, {
          actor: actorOf(principalOf(request)),
        });
        return reply.status(201).send({ data: result, meta: {} });
      },
    );
  }
  const tokens: Served["tokens"] = [];
  for (let i = 0; i < clients; i++) {
    const op = await registry.createOperator(
      { name: `hostile-${i}`, rewardAddress: `0x${(0x1000 + i).toString(16).padStart(40, "0")}` },
      { actor: "bench" },
    );
    const { token } = await createApiToken(store, { role: "operator", operatorId: op.id, label: "bench" });
    tokens.push({ operatorId: op.id, token });
  }
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  process.stdout.write(`${JSON.stringify({ url, tokens } satisfies Served)}\n`);
  process.once("SIGTERM", () => {
    void app.close().then(() => store.close().then(() => process.exit(0)));
  });
}

interface RunningChild {
  served: Served;
  child: ChildProcess;
  peakRssMiB(): number;
  stop(): Promise<void>;
}

async function startChild(mode: Mode, clients: number): Promise<RunningChild> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", fileURLToPath(import.meta.url), "--serve", mode, String(clients)],
    { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "inherit"] },
  );
  const served = await new Promise<Served>((resolve, reject) => {
    let out = "";
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (c: string) => {
      out += c;
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)) as Served);
    });
    child.once("exit", (code) => reject(new Error(`${mode} app exited (${code}) during start-up`)));
  });
  const pid = child.pid!;
  return {
    served,
    child,
    peakRssMiB: () => {
      const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      return m === null ? 0 : Number(m[1]) / 1024;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 5000).unref();
      }),
  };
}

/** `[{},{},…]` of exactly `bytes` bytes (an odd remainder is padded with spaces). */
function emptyEntries(bytes: number): { body: Buffer; entries: number } {
  const entries = Math.floor((bytes - 2) / 3) + 1;
  const text = `[${"{},".repeat(entries - 1)}{}]`;
  return { body: Buffer.from(text.padEnd(bytes, " ")), entries };
}

/** One upload: the status the server answered, or the network error code when it cut us off. */
function upload(url: string, operatorId: number, token: string, body: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const req = httpRequest(`${url}/v1/operators/${operatorId}/keys`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        "content-length": String(body.length),
      },
    });
    let done = false;
    const finish = (what: string) => {
      if (done) return;
      done = true;
      req.destroy();
      resolve(what);
    };
    req.once("response", (res) => {
      res.resume();
      res.once("end", () => finish(String(res.statusCode)));
    });
    req.once("error", (e: NodeJS.ErrnoException) => finish(e.code ?? "error"));
    req.end(body);
  });
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

interface Figures {
  p50: number;
  p99: number;
  max: number;
  probes: number;
  answers: Map<string, number>;
  peakRssMiB: number;
}

/** `body` undefined: no hostile uploads (the idle floor of the probe on this machine). */
async function measure(
  mode: Mode,
  clients: number,
  seconds: number,
  body: Buffer | undefined,
): Promise<Figures> {
  const app = await startChild(mode, clients);
  const { url } = app.served;
  const tokens = body === undefined ? [] : app.served.tokens;
  const until = Date.now() + seconds * 1000;
  const answers = new Map<string, number>();
  const hostile = tokens.map(async ({ operatorId, token }) => {
    while (Date.now() < until) {
      const a = await upload(url, operatorId, token, body!);
      answers.set(a, (answers.get(a) ?? 0) + 1);
    }
  });
  const latencies: number[] = [];
  const probe = (async () => {
    while (Date.now() < until) {
      const t0 = performance.now();
      const r = await fetch(`${url}/health/live`);
      await r.arrayBuffer();
      latencies.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  await Promise.all([...hostile, probe]);
  const peakRssMiB = app.peakRssMiB();
  await app.stop();
  latencies.sort((x, y) => x - y);
  return {
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    max: latencies.at(-1) ?? Number.NaN,
    probes: latencies.length,
    answers,
    peakRssMiB,
  };
}

async function main(): Promise<void> {
  const clients = Number(process.argv[2] ?? 6);
  const seconds = Number(process.argv[3] ?? 6);
  console.log(
    `hostile key uploads: ${clients} operator tokens uploading in a loop for ${seconds} s per row; /health/live probed every 10 ms; load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores`,
  );
  console.log(
    "app     body                               live p50    p99      max   probes  server peak RSS  hostile answers",
  );
  const shapes = [
    { label: "none (idle floor)", body: undefined, entries: 0 },
    { label: "16 MiB, {} entries", ...emptyEntries(OLD_BODY_LIMIT) },
    { label: "8 MiB, {} entries", ...emptyEntries(8 * 1024 * 1024) },
  ];
  for (const shape of shapes) {
    for (const mode of ["before", "after"] as const) {
      const f = await measure(mode, clients, seconds, shape.body);
      const answers = [...f.answers].map(([k, n]) => `${k}×${n}`).join(" ");
      const ms = (v: number) => `${v.toFixed(1).padStart(7)} ms`;
      console.log(
        `${mode.padEnd(7)} ${`${shape.label}${shape.entries > 0 ? ` (${(shape.entries / 1e6).toFixed(1)} M)` : ""}`.padEnd(32)} ${ms(f.p50)} ${ms(f.p99)} ${ms(f.max)} ${String(f.probes).padStart(7)} ${`${f.peakRssMiB.toFixed(0)} MiB`.padStart(15)}  ${answers}`,
      );
    }
  }
}

if (process.argv[2] === "--serve") {
  await serve(process.argv[3] as Mode, Number(process.argv[4] ?? 1));
} else {
  await main();
}
