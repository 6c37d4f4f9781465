/**
 * The admin-api process through a PostgreSQL outage (a private cluster stopped and started again
 * under it, not the shared one): it answers 503 while the database is away, ready again once it is
 * back, never exits, and writes only JSON lines (no unhandled rejection).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, PrivatePostgres } from "../services/watcher/test/private-deps.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const WC = "0x010000000000000000000000b9d7934878b5fb9610b3fe8a5e441e8fad7e293f";

describe("admin-api process through a PostgreSQL outage", () => {
  let pg: PrivatePostgres | undefined;
  let child: ChildProcess | undefined;
  beforeAll(async () => {
    pg = await PrivatePostgres.start(); // its own cluster: the API uses its `postgres` database
  }, 60_000);
  afterAll(async () => {
    if (child !== undefined && child.exitCode === null) child.kill("SIGKILL");
    await pg?.destroy();
  });

  it("answers 503 during the outage, recovers, and stays up", async () => {
    const port = await freePort();
    const c = spawn(process.execPath, ["--import", "tsx", "services/admin-api/src/main.ts"], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        DATABASE_URL: (pg as PrivatePostgres).url,
        POOLKEEPER_NETWORK: "hoodi",
        POOLKEEPER_WITHDRAWAL_CREDENTIALS: WC,
        PORT: String(port),
        HOST: "127.0.0.1",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = c;
    const chunks: string[] = [];
    const keep = (d: Buffer) => void chunks.push(d.toString());
    for (const s of [c.stdout, c.stderr]) s?.on("data", keep);
    const ready = async () =>
      (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined))?.status ?? 0;
    const waitFor = async (status: number) => {
      const end = Date.now() + 30_000;
      while ((await ready()) !== status) {
        if (Date.now() > end)
          throw new Error(`no ${status} from /health/ready: ${chunks.join("").slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await waitFor(200);
    await (pg as PrivatePostgres).stop();
    await waitFor(503);
    for (let i = 0; i < 5; i++) await ready(); // more requests during the outage
    expect(c.exitCode).toBeNull();
    await (pg as PrivatePostgres).start();
    await waitFor(200);
    expect(c.exitCode).toBeNull();
    const exited = new Promise((r) => c.once("exit", r));
    c.kill("SIGTERM");
    expect(await exited).toBe(0);
    const lines = chunks
      .join("")
      .split("\n")
      .filter((l) => l !== "");
    const parsed = lines.map((l) => JSON.parse(l) as { msg?: string });
    expect(parsed.filter((l) => /unhandled|uncaught/i.test(l.msg ?? ""))).toEqual([]);
  }, 120_000);
});
