/**
 * The devnet's deposit guardians (issue 13): each guardian's BLS key and `guardian` API token
 * written to files (<data-dir>/guardians, 0600, never printed), the admin API's DEPOSIT_GUARDIANS
 * settings (present from its first start, so governance's genesis guardian set is theirs), and the
 * guardians themselves as separate processes (`services/guardian`), each reading the sim as its
 * own beacon node and execution-layer deposit log and signing batches through the admin API.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createApiClient } from "@poolkeeper/contract";
import { PoolkeeperError } from "@poolkeeper/core";
import { newGuardianKey } from "@poolkeeper/guardian";
import { createApiToken, type Store } from "@poolkeeper/store";
import type { DepositBatchAnswer, DevnetContext, DevnetGuardian } from "./context.js";
import { DEVNET_ERRORS } from "./errors.js";
import { childGroup, spawnNode, writeSecret } from "./processes.js";

const GUARDIAN_MAIN = fileURLToPath(new URL("../../guardian/src/main.ts", import.meta.url));

/**
 * The admin API's clock for deposit security: on the sim's manual clock, the sim's head slot
 * (the wall clock from genesis would be far ahead of a chain that a test moves).
 */
export function apiClockOf(ctx: DevnetContext): { currentSlot?: () => number } {
  if (ctx.options.clock !== "manual") return {};
  const chain = ctx.get("sim").chain;
  return { currentSlot: () => chain.headSlot };
}

/** The guardians' keys and tokens (files in <data-dir>/guardians), and the admin API's settings. */
export async function prepareGuardians(ctx: DevnetContext, store: Store): Promise<Record<string, string>> {
  const g = ctx.options.scenario.guardians;
  const dir = join(ctx.dataDir, "guardians");
  rmSync(dir, { recursive: true, force: true });
  if (g === null) {
    ctx.set("guardians", []);
    return {};
  }
  mkdirSync(dir, { mode: 0o700 });
  const guardians: DevnetGuardian[] = [];
  for (let i = 1; i <= g.members; i++) {
    const id = `g${i}`;
    const { secretKeyHex, publicKey } = newGuardianKey();
    const keyFile = join(dir, `${id}.key`);
    writeSecret(keyFile, secretKeyHex);
    const { token } = await createApiToken(store, { role: "guardian", label: id });
    const tokenFile = join(dir, `${id}.token`);
    writeSecret(tokenFile, token);
    guardians.push({ id, publicKey, keyFile, tokenFile });
  }
  ctx.set("guardians", guardians);
  return {
    DEPOSIT_GUARDIANS: guardians.map((x) => `${x.id}=${x.publicKey}`).join(","),
    DEPOSIT_GUARDIAN_QUORUM: String(g.quorum),
  };
}

/** The guardians as processes, on the sim and the admin API; stopped (SIGTERM) at the devnet's close. */
export function startGuardians(ctx: DevnetContext): void {
  const guardians = ctx.get("guardians");
  if (guardians.length === 0) return;
  const sim = ctx.get("sim");
  const group = childGroup(ctx);
  for (const g of guardians) {
    const child = spawnNode(GUARDIAN_MAIN, [], {
      LODESTAR_PRESET: "minimal",
      POOLKEEPER_EXIT_WITH_PARENT: "1",
      BEACON_URLS: sim.url,
      GUARDIAN_PRESET: "minimal",
      ADMIN_API_URL: ctx.get("apiUrl"),
      ADMIN_API_TOKEN_FILE: g.tokenFile,
      GUARDIAN_ID: g.id,
      GUARDIAN_KEY_FILE: g.keyFile,
      GUARDIAN_EL_SIM_URL: sim.url,
      GUARDIAN_POLL_SECONDS: "1",
      METRICS_PORT: "0",
      LOG_LEVEL: ctx.options.logLevel ?? "info",
    });
    group.add(child, `guardian ${g.id}`);
  }
  ctx.out(
    `guardians   ${guardians.length} guardians (quorum ${ctx.options.scenario.guardians?.quorum}) release each deposit batch; ` +
      `keys and tokens in ${join(ctx.dataDir, "guardians")} (0600)`,
  );
}

/** How a batch left the guardians: released (with its signers) or refused. */
export type BatchVerdict = { status: "released"; signers: string[] } | { status: "refused"; reason: string };

/**
 * Waits until the guardians have released or refused `batch` (polling the admin API); without
 * guardians a batch is released at allocation. One output line either way.
 */
export async function awaitRelease(
  ctx: DevnetContext,
  batch: DepositBatchAnswer,
  timeoutMs = 600_000,
): Promise<BatchVerdict> {
  const client = createApiClient({ baseUrl: ctx.get("apiUrl"), token: ctx.get("token") });
  const end = Date.now() + timeoutMs;
  for (;;) {
    const { data } = await client.getDepositBatch({ params: { id: batch.id } });
    const sec = data.security;
    if (sec === undefined || sec.status === "released") {
      const signers = sec?.signers ?? [];
      ctx.out(
        signers.length === 0
          ? `deposit batch ${batch.id}: released (no guardians)`
          : `deposit batch ${batch.id}: released by guardians ${signers.join(", ")} (quorum ${sec?.quorum}) at slot ${sec?.releaseSlot}`,
      );
      return { status: "released", signers };
    }
    if (sec.status === "refused") {
      const reason = sec.refusedReason ?? "no reason given";
      ctx.out(
        `deposit batch ${batch.id}: refused by guardian ${sec.refusedBy ?? "?"} (${reason}); nothing sent`,
      );
      return { status: "refused", reason };
    }
    if (Date.now() > end)
      throw new PoolkeeperError(
        DEVNET_ERRORS.RUN,
        `deposit batch ${batch.id}: the guardians neither released nor refused it in ${timeoutMs / 1000} s; see ${ctx.get("logFile")}`,
      );
    await new Promise((r) => setTimeout(r, Math.min(ctx.options.pollMs ?? 1000, 500)));
  }
}
