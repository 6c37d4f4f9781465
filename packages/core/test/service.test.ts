/**
 * The service kit: the shared settings fragments, the start/stop of a process (in a child process,
 * as services run) and the metrics endpoint.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  ConfigError,
  chooseLodestarPreset,
  DATABASE_ENV,
  databaseTarget,
  describeDatabase,
  errorLine,
  LOG_ENV,
  loadConfig,
  METRICS_ENV,
  NETWORK_ENV,
  parseFlag,
  REDIS_ENV,
  runProcess,
  ServiceParts,
  secretValues,
  startMetricsServer,
  startParts,
  toHex0x,
  WITHDRAWAL_CREDENTIALS_ENV,
} from "../src/index.js";

const CORE = fileURLToPath(new URL("../src/index.ts", import.meta.url));
const WC = `0x01${"00".repeat(11)}${"b9".repeat(20)}`;
const SPEC = {
  ...NETWORK_ENV,
  ...WITHDRAWAL_CREDENTIALS_ENV,
  ...DATABASE_ENV,
  ...REDIS_ENV,
  ...METRICS_ENV,
  ...LOG_ENV,
};

function problem(env: Record<string, string>): string {
  try {
    loadConfig(SPEC, { POOLKEEPER_NETWORK: "hoodi", POOLKEEPER_WITHDRAWAL_CREDENTIALS: WC, ...env });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("no problem found");
}

describe("settings fragments", () => {
  it("compose into one spec: the network loaded, the credentials as bytes, defaults", () => {
    const s = loadConfig(SPEC, { POOLKEEPER_NETWORK: "hoodi", POOLKEEPER_WITHDRAWAL_CREDENTIALS: WC });
    expect(s.POOLKEEPER_NETWORK.name).toBe("hoodi");
    expect(s.POOLKEEPER_WITHDRAWAL_CREDENTIALS).toBeInstanceOf(Uint8Array);
    expect(toHex0x(s.POOLKEEPER_WITHDRAWAL_CREDENTIALS)).toBe(WC);
    expect([s.REDIS_URL, s.REDIS_PREFIX, s.METRICS_PORT, s.METRICS_HOST, s.LOG_LEVEL]).toEqual([
      "redis://127.0.0.1:6379",
      "poolkeeper",
      9464,
      "127.0.0.1",
      "info",
    ]);
    expect(databaseTarget(s)).toEqual({ dataDir: "./.poolkeeper" });
    expect(describeDatabase(s)).toBe("pglite:./.poolkeeper");
    const pg = loadConfig(DATABASE_ENV, { DATABASE_URL: "postgres://u:hunter22@db.example:5432/pool" });
    expect(databaseTarget(pg)).toEqual({ databaseUrl: "postgres://u:hunter22@db.example:5432/pool" });
    expect(describeDatabase(pg)).toBe("postgres://db.example:5432");
  });

  it("the pool's withdrawal credentials are 0x01 or 0x02 with 11 zero bytes, for every service", () => {
    expect(
      loadConfig(WITHDRAWAL_CREDENTIALS_ENV, { POOLKEEPER_WITHDRAWAL_CREDENTIALS: `0x02${WC.slice(4)}` }),
    ).toBeDefined();
    expect(problem({ POOLKEEPER_WITHDRAWAL_CREDENTIALS: "0x1234" })).toMatch(
      /POOLKEEPER_WITHDRAWAL_CREDENTIALS: "0x1234" is invalid: must be 0x followed by 32 bytes of hex/,
    );
    const bls = `0x00${"ab".repeat(31)}`;
    expect(problem({ POOLKEEPER_WITHDRAWAL_CREDENTIALS: bls })).toContain(
      `POOLKEEPER_WITHDRAWAL_CREDENTIALS: "${bls}" is invalid: must be 0x01 or 0x02 credentials`,
    );
    const dirty = `0x0100${"11".repeat(10)}${"b9".repeat(20)}`;
    expect(problem({ POOLKEEPER_WITHDRAWAL_CREDENTIALS: dirty })).toContain(
      "must have 11 zero bytes between the prefix and the address",
    );
  });

  it("a bad value names the variable and the reason, every one in one line; secrets are not echoed", () => {
    const m = problem({
      POOLKEEPER_NETWORK: "moonnet",
      METRICS_PORT: "70000",
      LOG_LEVEL: "loud",
      REDIS_URL: "http://:redispass88@x",
      DATABASE_URL: "mysql://root:dbpass99@x/db",
    });
    expect(m).not.toContain("\n");
    expect(m).toContain('POOLKEEPER_NETWORK: "moonnet" is invalid: unknown network "moonnet"');
    expect(m).toContain('METRICS_PORT: "70000" is invalid');
    expect(m).toContain('LOG_LEVEL: "loud" is invalid');
    expect(m).toContain("REDIS_URL: is invalid (set REDIS_URL or REDIS_URL_FILE)");
    expect(m).toContain("DATABASE_URL: is invalid (set DATABASE_URL or DATABASE_URL_FILE)");
    expect(m).not.toContain("redispass88");
    expect(m).not.toContain("dbpass99");
    expect(problem({ POOLKEEPER_NETWORK: "" })).toContain("POOLKEEPER_NETWORK: is required");
  });
});

describe("parseFlag", () => {
  it("checks a flag by its variable's rule, names the flag, never echoes a secret", () => {
    expect(parseFlag(REDIS_ENV.REDIS_URL, "--redis-url", undefined)).toBe("redis://127.0.0.1:6379");
    expect(parseFlag(METRICS_ENV.METRICS_PORT, "--metrics-port", "9100")).toBe(9100);
    expect(() => parseFlag(METRICS_ENV.METRICS_PORT, "--metrics-port", "x")).toThrow(
      /^--metrics-port: "x" is invalid: .* \(example: --metrics-port 9464\)$/,
    );
    expect(() => parseFlag(REDIS_ENV.REDIS_URL, "--redis-url", "http://:pw12345@x")).toThrow(
      "--redis-url: must be a redis:// URL (example: --redis-url redis://127.0.0.1:6379)",
    );
    expect(() => parseFlag(NETWORK_ENV.POOLKEEPER_NETWORK, "--network", undefined)).toThrow(
      "--network: is required (example: --network hoodi)",
    );
  });
});

describe("ServiceParts and startParts", () => {
  it("close in reverse order of start, each once, every one even when one fails", async () => {
    const closed: string[] = [];
    const parts = new ServiceParts();
    for (const name of ["store", "beacon", "http"]) {
      parts.add(name, {
        close: () => {
          closed.push(name);
          if (name === "beacon") throw new Error("beacon close failed");
        },
      });
    }
    expect(parts.names()).toEqual(["store", "beacon", "http"]);
    const first = parts.close();
    const second = parts.close();
    expect(second).toBe(first);
    await expect(first).rejects.toThrow("beacon close failed");
    expect(closed).toEqual(["http", "beacon", "store"]);
    expect(() => parts.onClose("late", () => undefined)).toThrow(/after close/);
  });

  it("a failure part-way closes what had started and rethrows", async () => {
    const closed: string[] = [];
    await expect(
      startParts(async (parts) => {
        parts.onClose("store", () => closed.push("store"));
        parts.onClose("metrics", () => closed.push("metrics"));
        throw new ConfigError("POOLKEEPER_NETWORK: the beacon nodes are on another chain");
      }),
    ).rejects.toThrow("another chain");
    expect(closed).toEqual(["metrics", "store"]);
    const ok = await startParts(async (parts) => {
      parts.onClose("store", () => closed.push("store 2"));
      return { url: "http://x" };
    });
    expect(ok.url).toBe("http://x");
    await ok.close();
    await ok.close();
    expect(closed.slice(2)).toEqual(["store 2"]);
  });
});

describe("errorLine", () => {
  it("one line, secrets out: URLs down to their host, other values redacted", () => {
    const e = new ConfigError(
      "cannot connect to redis://:s3cretpass@cache.example:6380/2 with token tok_abcdef123\n  (twice)",
    );
    const line = errorLine(e, ["redis://:s3cretpass@cache.example:6380/2", "tok_abcdef123"]);
    expect(line).toBe("error: cannot connect to redis://cache.example:6380 with token [redacted]; (twice)");
    expect(errorLine(Object.assign(new Error("connect refused"), { code: "ECONNREFUSED" }))).toBe(
      "error: unexpected failure (ECONNREFUSED): connect refused",
    );
    // a list setting: each URL scrubbed
    expect(
      errorLine(new ConfigError("https://u:beaconpass77@b.example/x failed"), [
        "http://a.example,https://u:beaconpass77@b.example/x",
      ]),
    ).toBe("error: https://b.example failed");
  });
});

/** Run a module with tsx; its exit code, stdout and stderr. */
function runModule(
  source: string,
  signalAfter?: { text: string; signals: NodeJS.Signals[]; delayMs?: number },
) {
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", source], {
    stdio: ["ignore", "pipe", "pipe"],
    // where zod resolves, as it does for core itself
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    env: { ...process.env, SERVICE_TOKEN: "tok_verysecret42" },
  });
  let out = "";
  let err = "";
  let sent = false;
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    if (signalAfter !== undefined && !sent && out.includes(signalAfter.text)) {
      sent = true;
      const send = () => {
        for (const s of signalAfter.signals) child.kill(s);
      };
      if (signalAfter.delayMs === undefined) send();
      else setTimeout(send, signalAfter.delayMs);
    }
  });
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once("close", (code) => resolve({ code, stdout: out, stderr: err })),
  );
}

/** A service whose parts print when they start and close. */
const SERVICE = (failAt: string) => `
  import { z } from "zod";
  import { defineService, runService, LOG_ENV } from ${JSON.stringify(CORE)};
  const service = defineService({
    name: "kit-test",
    env: { ...LOG_ENV, SERVICE_TOKEN: { schema: z.string().min(8), example: "x", secret: true },
           KIT_PARTS: { schema: z.coerce.number().int().min(1), example: "3", default: "3" } },
    async start(settings, { logger }) {
      const { startParts } = await import(${JSON.stringify(CORE)});
      return startParts(async (parts) => {
        for (let i = 1; i <= settings.KIT_PARTS; i++) {
          if (${JSON.stringify(failAt)} === "part" + i)
            throw new Error("part" + i + " failed with " + settings.SERVICE_TOKEN);
          parts.onClose("part" + i, async () => {
            await new Promise((r) => setTimeout(r, 20));
            console.log("closed part" + i);
          });
          console.log("started part" + i);
        }
        logger.info("kit-test ready");
        return {};
      });
    },
  });
  await runService(service, { ...process.env, LOG_LEVEL: "info" });
  console.log("not reached: runService exits");
`;

describe("runProcess", () => {
  it("a service whose job is done (`finished`) stops without a signal, closed once, exit code 0", async () => {
    const reasons: string[] = [];
    let closed = 0;
    const code = await runProcess(
      async () => ({
        finished: new Promise<string>((r) => setTimeout(() => r("reports applied"), 30)),
        close: () => {
          closed++;
        },
      }),
      { name: "finish-test", exit: false, onStop: (r) => reasons.push(r) },
    );
    expect({ code, closed, reasons }).toEqual({ code: 0, closed: 1, reasons: ["reports applied"] });
  });
});

describe("runService in a process", () => {
  it("SIGTERM (and a second one while closing) closes every part once, in reverse order, exit 0", async () => {
    const r = await runModule(SERVICE(""), { text: "kit-test ready", signals: ["SIGTERM", "SIGINT"] });
    const lines = r.stdout.split("\n").filter((l) => l.startsWith("started") || l.startsWith("closed"));
    // code and output in the comparison: a failure shows how the process ended
    expect({ lines, code: r.code, stderr: r.stderr }, r.stdout).toEqual({
      lines: [
        "started part1",
        "started part2",
        "started part3",
        "closed part3",
        "closed part2",
        "closed part1",
      ],
      code: 0,
      stderr: "",
    });
    expect(r.stdout).toContain('"msg":"kit-test stopping"');
    expect(r.stdout).not.toContain("not reached");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("a started service with no open handle waits for its signal (no exit code 13 from an empty event loop)", async () => {
    const r = await runModule(SERVICE(""), { text: "kit-test ready", signals: ["SIGTERM"], delayMs: 1500 });
    const closed = r.stdout.split("\n").filter((l) => l.startsWith("closed"));
    expect({ closed, code: r.code }, r.stdout + r.stderr).toEqual({
      closed: ["closed part3", "closed part2", "closed part1"],
      code: 0,
    });
  });

  it("a start-up failure is one line on stderr without the secret, what started is closed, exit 1", async () => {
    const r = await runModule(SERVICE("part3"));
    expect(r.stderr).toBe("error: unexpected failure: part3 failed with [redacted]\n");
    expect(r.stdout).toContain("closed part2");
    expect(r.stdout).toContain("closed part1");
    expect(r.stdout).not.toContain("tok_verysecret42");
    expect(r.code).toBe(1);
  });

  it("a bad setting is one line naming the variable and the reason, exit 1", async () => {
    const r = await runModule(SERVICE("").replace('LOG_LEVEL: "info"', 'LOG_LEVEL: "info", KIT_PARTS: "0"'));
    expect(r.stderr).toBe(
      'error: invalid configuration: KIT_PARTS: "0" is invalid: Too small: expected number to be >=1 (example: KIT_PARTS=3)\n',
    );
    expect(r.stdout).not.toContain("started");
    expect(r.code).toBe(1);
  });
});

describe("chooseLodestarPreset", () => {
  it("uses LODESTAR_PRESET, else the fallback, and writes it where Lodestar reads it", () => {
    const env: Record<string, string | undefined> = {};
    expect(chooseLodestarPreset({ fallback: "minimal" }, env)).toBe("minimal");
    expect(env.LODESTAR_PRESET).toBe("minimal");
    expect(chooseLodestarPreset({ fallback: "minimal" }, { LODESTAR_PRESET: "mainnet" })).toBe("mainnet");
    expect(() => chooseLodestarPreset({}, {})).toThrow(/no preset chosen/);
  });

  it("a preset asked for must agree with LODESTAR_PRESET unless it overrides it (the CLI's --preset)", () => {
    expect(() =>
      chooseLodestarPreset({ wanted: "minimal", source: "preset" }, { LODESTAR_PRESET: "mainnet" }),
    ).toThrow(
      'preset: LODESTAR_PRESET is "mainnet" but "minimal" was asked for (set LODESTAR_PRESET=minimal)',
    );
    const env: Record<string, string | undefined> = { LODESTAR_PRESET: "minimal" };
    expect(chooseLodestarPreset({ wanted: "mainnet", source: "--preset", override: true }, env)).toBe(
      "mainnet",
    );
    expect(env.LODESTAR_PRESET).toBe("mainnet");
    expect(() => chooseLodestarPreset({ wanted: "tiny", source: "--preset" }, {})).toThrow(
      '--preset: expected minimal or mainnet, got "tiny"',
    );
    expect(() => chooseLodestarPreset({}, { LODESTAR_PRESET: "gnosis" })).toThrow(
      'LODESTAR_PRESET: expected minimal or mainnet, got "gnosis"',
    );
  });

  it("a caller that runs one preset only refuses another (the devnet)", () => {
    expect(chooseLodestarPreset({ fallback: "minimal", only: "minimal", source: "devnet" }, {})).toBe(
      "minimal",
    );
    expect(() =>
      chooseLodestarPreset(
        { fallback: "minimal", only: "minimal", source: "devnet" },
        { LODESTAR_PRESET: "mainnet" },
      ),
    ).toThrow("LODESTAR_PRESET is mainnet; the devnet runs the minimal preset");
  });
});

describe("startMetricsServer", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("serves /metrics from the scrape, /health, 404 otherwise; a port in use names METRICS_PORT", async () => {
    let scrapes = 0;
    const m = await startMetricsServer({
      port: 0,
      host: "127.0.0.1",
      scrape: async () => {
        scrapes++;
        return { contentType: "text/plain; version=0.0.4", body: `pk_up ${scrapes}\n` };
      },
    });
    try {
      const r = await fetch(`${m.url}/metrics`);
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toBe("text/plain; version=0.0.4");
      expect(await r.text()).toBe("pk_up 1\n");
      expect(await (await fetch(`${m.url}/health`)).text()).toBe("ok\n");
      expect((await fetch(`${m.url}/other`)).status).toBe(404);
      await expect(
        startMetricsServer({
          port: m.port,
          host: "127.0.0.1",
          scrape: async () => ({ contentType: "", body: "" }),
        }),
      ).rejects.toThrow(`METRICS_PORT: cannot listen on 127.0.0.1:${m.port} (EADDRINUSE)`);
    } finally {
      await m.close();
    }
    await expect(fetch(`${m.url}/health`)).rejects.toThrow();
  });

  it("the secret from a _FILE setting is kept out of the failure line too", () => {
    const dir = mkdtempSync(join(tmpdir(), "pk-kit-"));
    dirs.push(dir);
    writeFileSync(join(dir, "t"), "filesecret123\n");
    const spec = { T: { schema: z.string(), example: "x", secret: true } };
    const env = { T_FILE: join(dir, "t") };
    expect(loadConfig(spec, env).T).toBe("filesecret123");
    expect(secretValues(spec, env)).toEqual(["filesecret123"]);
    expect(errorLine(new ConfigError("refused filesecret123"), secretValues(spec, env))).toBe(
      "error: refused [redacted]",
    );
  });
});
