/**
 * The operators' daemons (`poolkeeper daemon`, services/operator-daemon), each a process of its
 * own, as each operator runs one on its own machine: `daemon init` non-interactively (`--yes`, the
 * password from a file) into <data-dir>/operators/operator-<k>/daemon, then `daemon run` on it.
 * The daemon generates its mnemonic (encrypted there; a backup file beside it), writes keystores
 * for its validator client and uploads its keys through the admin API with its own operator token;
 * the devnet only waits for them and vets them as the DAO would. The scenario's `exits.ignoredBy`
 * operator runs its daemon with `--exit-signer none`: it handles exits elsewhere (its own
 * validator-ejector, which is not running), so its exit requests go late and are triggered.
 */
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createApiClient } from "@poolkeeper/contract";
import { PoolkeeperError } from "@poolkeeper/core";
import { createApiToken } from "@poolkeeper/store";
import type { DevnetContext } from "./context.js";
import { DEVNET_ERRORS } from "./errors.js";
import { CLI_MAIN, pipeLines, runToEnd, spawnNode, stopChild, writeSecret } from "./processes.js";

/** The files of one operator's daemon under <data-dir>/operators/operator-<k>. */
export function daemonFiles(operatorsDir: string, k: number) {
  const home = join(operatorsDir, `operator-${k}`);
  return {
    home,
    /** `daemon init --dir`: daemon.json, token, mnemonic.json (encrypted), state.json, validator-keys/. */
    dir: join(home, "daemon"),
    /** The mnemonic's password (0600). */
    passwordFile: join(home, "password"),
    /** The generated mnemonic's backup (`--mnemonic-out`, 0600). */
    mnemonicBackup: join(home, "mnemonic-backup.txt"),
    /** The operator token as the admin hands it over; removed once `init` copied it into dir/token. */
    tokenFile: join(home, "token"),
  };
}

/** How long one `daemon init` may take (a process start, the API's answers, the mnemonic's scrypt). */
const INIT_MS = 120_000;

/** How long the daemons get to upload their first keys (process start, derivation, upload). */
const FIRST_UPLOAD_MS = 180_000;

async function waitForUploads(
  ctx: DevnetContext,
  want: number,
  children: Map<number, ChildProcess>,
): Promise<Map<number, number>> {
  const client = createApiClient({ baseUrl: ctx.get("apiUrl"), token: ctx.get("token") });
  const end = Date.now() + FIRST_UPLOAD_MS;
  for (;;) {
    const counts = new Map<number, number>();
    for (const op of ctx.get("operators")) {
      const child = children.get(op.id);
      if (child !== undefined && (child.exitCode !== null || child.signalCode !== null))
        throw new PoolkeeperError(
          DEVNET_ERRORS.RUN,
          `operator ${op.id}'s daemon exited (${child.signalCode ?? `code ${child.exitCode}`}) before uploading its keys; see ${ctx.get("logFile")}`,
        );
      const { data } = await client.getOperator({ params: { id: op.id } });
      counts.set(op.id, data.keys.total ?? 0); // every key it uploaded, whatever its state
    }
    if ([...counts.values()].every((n) => n >= want)) return counts;
    if (Date.now() > end)
      throw new PoolkeeperError(
        DEVNET_ERRORS.RUN,
        `the operators' daemons did not upload ${want} keys each within ${FIRST_UPLOAD_MS / 1000} s (${[...counts].map(([id, n]) => `operator ${id}: ${n}`).join(", ")}); see ${ctx.get("logFile")}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Each operator's daemon initialised and started as a process; once each has uploaded
 * --keys-per-operator keys (its low-water mark), they are vetted through the admin API (the
 * scenario's vetted limits). The daemons keep running: they top the supply up as deposits use it.
 */
export async function startOperatorDaemons(ctx: DevnetContext): Promise<void> {
  const o = ctx.options;
  const sc = o.scenario;
  const logger = ctx.get("logger");
  const store = ctx.get("store");
  const operators = ctx.get("operators");
  const operatorsDir = ctx.get("operatorsDir");
  const logLevel = o.logLevel ?? "info";
  const baseEnv = { LODESTAR_PRESET: "minimal", POOLKEEPER_EXIT_WITH_PARENT: "1", LOG_LEVEL: logLevel };
  mkdirSync(operatorsDir, { recursive: true, mode: 0o700 });

  // init: one `poolkeeper daemon init` per operator, at once
  await Promise.all(
    operators.map(async (op, i) => {
      const k = i + 1;
      const f = daemonFiles(operatorsDir, k);
      mkdirSync(f.home, { recursive: true, mode: 0o700 });
      writeSecret(f.passwordFile, randomBytes(18).toString("base64url"));
      const { token } = await createApiToken(store, {
        role: "operator",
        operatorId: op.id,
        label: `devnet operator ${k}'s daemon`,
      });
      writeSecret(f.tokenFile, token);
      const init = spawnNode(
        CLI_MAIN,
        [
          "daemon",
          "init",
          "--dir",
          f.dir,
          "--api-url",
          ctx.get("apiUrl"),
          "--operator-id",
          String(op.id),
          "--token-file",
          f.tokenFile,
          "--network",
          ctx.get("networkFile"),
          "--password-file",
          f.passwordFile,
          "--mnemonic-out",
          f.mnemonicBackup,
          "--low-water",
          String(o.keysPerOperator),
          "--batch-size",
          String(sc.daemons.batchSize),
          "--mnemonic-kdf-cost",
          String(sc.daemons.mnemonicKdfCost),
          "--yes",
        ],
        baseEnv,
      );
      const stuck = setTimeout(() => init.kill("SIGKILL"), INIT_MS);
      const { code, output } = await runToEnd(init).finally(() => clearTimeout(stuck));
      ctx
        .get("logStream")
        .write(
          `${JSON.stringify({ level: 30, time: Date.now(), name: "devnet", operatorId: op.id, msg: `daemon init: ${output.trim()}` })}\n`,
        );
      if (code !== 0)
        throw new PoolkeeperError(
          DEVNET_ERRORS.RUN,
          `operator ${op.id}: poolkeeper daemon init failed (exit ${code}): ${output.trim().split("\n").at(-1) ?? ""}`,
        );
      rmSync(f.tokenFile, { force: true }); // the daemon's directory holds its copy (0600)
      op.daemonDir = f.dir;
    }),
  );

  // run: each daemon a process until the devnet stops (SIGTERM)
  const children = new Map<number, ChildProcess>();
  let closing = false;
  ctx.onClose(() => {
    closing = true;
    return Promise.all([...children.values()].map((c) => stopChild(c)));
  });
  for (const [i, op] of operators.entries()) {
    const k = i + 1;
    const f = daemonFiles(operatorsDir, k);
    op.signsExits = sc.exits.ignoredBy !== k;
    const child = spawnNode(
      CLI_MAIN,
      [
        "daemon",
        "run",
        "--dir",
        f.dir,
        "--password-file",
        f.passwordFile,
        "--beacon-url",
        ctx.get("sim").url,
        "--preset",
        "minimal",
        "--poll-seconds",
        String(sc.daemons.pollSeconds),
        "--metrics-port",
        "0",
        ...(op.signsExits ? [] : ["--exit-signer", "none"]),
      ],
      { ...baseEnv, DAEMON_KDF_COST: String(sc.daemons.keystoreKdfCost) },
    );
    children.set(op.id, child);
    pipeLines(child, ctx.get("logStream"));
    child.once("exit", (code, signal) => {
      if (closing) return;
      logger.error({ operatorId: op.id, code, signal }, "operator daemon exited");
      ctx.out(`operator ${op.id}'s daemon exited (${signal ?? `code ${code}`}); see ${ctx.get("logFile")}`);
    });
  }

  const uploaded = await waitForUploads(ctx, o.keysPerOperator, children);
  const client = createApiClient({ baseUrl: ctx.get("apiUrl"), token: ctx.get("token") });
  for (const op of operators) {
    const { data: vet } = await client.vetKeys({ params: { id: op.id }, body: { reason: "devnet" } });
    op.uploaded = uploaded.get(op.id) ?? 0;
    op.vetted = vet.vetted;
    logger.info({ operatorId: op.id, uploaded: op.uploaded, vetted: op.vetted }, "operator ready");
  }
  const ignoring = operators.filter((op) => !op.signsExits).map((op) => op.id);
  ctx.out(
    `daemons     ${operators.length} operator daemons (poolkeeper daemon run, one process each; low-water ${o.keysPerOperator}, batches of ${sc.daemons.batchSize}) uploaded ` +
      operators.map((op) => `operator ${op.id}: ${op.uploaded} keys (${op.vetted} vetted)`).join(", ") +
      `; mnemonics, passwords and tokens in ${operatorsDir} (0600)` +
      (ignoring.length === 0
        ? ""
        : `; operator ${ignoring.join(", ")} runs --exit-signer none (ignores its exit requests)`),
  );
}
