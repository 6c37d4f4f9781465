/**
 * The steps of a devnet run, in order (`DEVNET_STEPS`). Each is a function over the shared
 * context: it starts one thing, sets what later steps read, and registers its teardown. A new
 * service (the oracle, the operator daemon, guardians) slots in as a new step.
 */
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, createWriteStream, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startAdminApi } from "@poolkeeper/admin-api";
import { BeaconNodePool, simExecutionLayer } from "@poolkeeper/beacon";
import { EXECUTION_ROUTES, FAR, startBeaconSim } from "@poolkeeper/beacon-sim";
import { createApiClient } from "@poolkeeper/contract";
import {
  ConfigError,
  createLogger,
  formatWeiAsEth,
  fromHex,
  gweiToWei,
  loadNetwork,
  PoolkeeperError,
  safeUrl,
  toChecksumAddress,
  toHex,
  toHex0x,
  WEI_PER_ETH,
} from "@poolkeeper/core";
import { withdrawalCredentials, writeFileAtomic } from "@poolkeeper/keys";
import { createRegistry, POOL_DEPOSIT_GWEI } from "@poolkeeper/registry";
import { acquireDataDirLock, createApiToken, openStore } from "@poolkeeper/store";
import { registryPoolSource, Watcher } from "@poolkeeper/watcher";
import type { Redis } from "ioredis";
import type {
  BatchSummary,
  DevnetContext,
  DevnetOffline,
  DevnetOperator,
  DevnetParts,
  DevnetStaker,
  DevnetStep,
} from "./context.js";
import { startOperatorDaemons } from "./daemons.js";
import { DEVNET_ERRORS } from "./errors.js";
import { startGovernance } from "./governance.js";
import { apiClockOf, awaitRelease, prepareGuardians, startGuardians } from "./guardians.js";
import { prepareOracle, startOracleMembers } from "./oracle.js";
import { checkRedis, deleteKeys, startPrivateRedis } from "./redis.js";
import { devnetSummary, exitLine, exitsSummary, summaryLines } from "./summary.js";

export const DEVNET_NETWORK_NAME = "devnet";

/** A taken port as one line naming the flag. */
async function portInUse<T>(flag: string, port: number, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EADDRINUSE")
      throw new ConfigError(`${flag}: port ${port} is in use; pick another (${flag} 0: any free port)`);
    throw e;
  }
}

/**
 * Redis first: without it nothing else is worth starting. The run's keys are removed at exit.
 * When no Redis was named (--redis-url, REDIS_URL) and none answers at the default, a private
 * redis-server starts on a free port with its files in the data directory, and stops at exit.
 */
export async function connectRedis(ctx: DevnetContext): Promise<void> {
  const o = ctx.options;
  let redisUrl = o.redisUrl;
  let redis: Redis;
  try {
    redis = await checkRedis(redisUrl);
  } catch (e) {
    if (o.redisUrlGiven !== false) throw e;
    mkdirSync(ctx.dataDir, { recursive: true, mode: 0o700 });
    const own = await startPrivateRedis(ctx.dataDir);
    if (own === null) throw e;
    ctx.onClose(() => own.stop());
    redis = own.redis;
    redisUrl = own.url;
    ctx.out(
      `redis       nothing answered at ${safeUrl(o.redisUrl)}: started a private redis-server at ${own.url}`,
    );
  }
  ctx.set("redisUrl", redisUrl);
  const redisPrefix = `pk-devnet-${randomBytes(4).toString("hex")}`;
  ctx.onClose(() => redis.quit());
  ctx.onClose(() => deleteKeys(redis, redisPrefix));
  ctx.set("redis", redis);
  ctx.set("redisPrefix", redisPrefix);
}

/**
 * The data directory: locked for this run, the older run's keys and database removed (every run
 * is a new chain: the registry and the watcher's data of an older run mean nothing on it), a new
 * devnet.log (0600) and the logger writing to it.
 */
export function prepareDataDir(ctx: DevnetContext): void {
  const { dataDir, options: o } = ctx;
  // One devnet per --data-dir (0700): a second one would overwrite the first's token, log and
  // network file, and remove its database.
  const dirLock = acquireDataDirLock(dataDir, { hint: "stop it or pick another --data-dir" });
  ctx.onClose(() => dirLock.release());
  const dbDir = join(dataDir, "db");
  const operatorsDir = join(dataDir, "operators");
  rmSync(operatorsDir, { recursive: true, force: true });
  rmSync(join(dataDir, "keys"), { recursive: true, force: true }); // an older devnet's deposit data
  if (o.databaseUrl === undefined) {
    // not from under a process that has it open (an admin API started on it by hand)
    const dbLock = acquireDataDirLock(dbDir, {
      hint: "stop it; the devnet starts a new database in <data-dir>/db each run",
    });
    rmSync(dbDir, { recursive: true, force: true });
    dbLock.release();
  }
  const logFile = join(dataDir, "devnet.log");
  rmSync(logFile, { force: true }); // created anew: 0600 even if an older one was not
  const logStream = createWriteStream(logFile, { flags: "wx", mode: 0o600 });
  ctx.onClose(() => new Promise<void>((r) => logStream.end(r)));
  ctx.set("dbDir", dbDir);
  ctx.set("operatorsDir", operatorsDir);
  ctx.set("logFile", logFile);
  ctx.set("logStream", logStream);
  ctx.set("logger", createLogger({ name: "devnet", level: o.logLevel ?? "info", destination: logStream }));
}

/** beacon-sim (minimal preset, genesis validators outside the pool) and the pool's network file. */
export async function startSim(ctx: DevnetContext): Promise<void> {
  const o = ctx.options;
  const sc = o.scenario;
  const logger = ctx.get("logger");
  const sim = await portInUse("--sim-port", o.simPort, () =>
    startBeaconSim({
      validators: sc.genesisValidators,
      seed: sc.seed,
      secondsPerSlot: o.secondsPerSlot,
      // the pool's validators pay their blocks' priority fees to the pool's rewards vault
      scenario: {
        ...sc.sim,
        feeRecipients: {
          ...(sc.sim.feeRecipients as Record<string, string> | undefined),
          [sc.withdrawalAddress.toLowerCase()]: sc.oracle.elRewardsVault.toLowerCase(),
        },
      },
      port: o.simPort,
      clock: o.clock ?? "wall",
      ...(o.clock === "manual" ? {} : { genesisTime: Math.floor(Date.now() / 1000) }),
    }),
  );
  ctx.onClose(() => sim.close());
  const chain = sim.chain;
  chain.on("clock_error", (e: unknown) =>
    logger.error({ err: e instanceof Error ? e.message : String(e) }, "beacon-sim clock error"),
  );

  // the pool's network: the sim's fork versions and genesis validators root
  const networkFile = join(ctx.dataDir, "network.json");
  await writeFileAtomic(
    networkFile,
    `${JSON.stringify(
      chain.networkJson(DEVNET_NETWORK_NAME, {
        contractAddress: "0x4242424242424242424242424242424242424242",
        chainId: 32382,
      }),
      null,
      2,
    )}\n`,
  );
  const address = fromHex(sc.withdrawalAddress, "withdrawalAddress", 20);
  ctx.set("sim", sim);
  ctx.set("networkFile", networkFile);
  ctx.set("network", loadNetwork(networkFile));
  ctx.set("withdrawalAddress", address);
  ctx.set("withdrawalCredentials", withdrawalCredentials({ type: 1, address }));
}

/** The store, an admin token (file 0600, never printed) and the admin API over it; the start-up lines. */
export async function startStoreAndApi(ctx: DevnetContext): Promise<void> {
  const o = ctx.options;
  const logger = ctx.get("logger");
  const dbDir = ctx.get("dbDir");
  const store = await openStore(
    o.databaseUrl === undefined ? { dataDir: dbDir, logger } : { databaseUrl: o.databaseUrl, logger },
  );
  ctx.onClose(() => store.close());
  if (o.databaseUrl !== undefined) {
    const r = await store.query<{ n: bigint }>("SELECT count(*) AS n FROM operators");
    if ((r.rows[0]?.n ?? 0n) > 0n)
      throw new ConfigError(
        `--database-url: ${safeUrl(o.databaseUrl)} already holds operators; the devnet needs an empty database (a new chain each run)`,
      );
  }
  const { token } = await createApiToken(store, { role: "admin", label: "devnet" });
  const tokenFile = join(ctx.dataDir, "admin-token");
  rmSync(tokenFile, { force: true });
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  chmodSync(tokenFile, 0o600);
  const oracleEnv = await prepareOracle(ctx, store);
  // the guardians from the admin API's first start: governance's genesis guardian set is theirs
  const guardianEnv = await prepareGuardians(ctx, store);
  // no DAO yet: the starting operators are created first (governance.ts switches it on)
  const apiEnv = {
    POOLKEEPER_NETWORK: ctx.get("networkFile"),
    POOLKEEPER_WITHDRAWAL_CREDENTIALS: toHex0x(ctx.get("withdrawalCredentials")),
    ...(o.databaseUrl === undefined ? { POOLKEEPER_DATA_DIR: dbDir } : { DATABASE_URL: o.databaseUrl }),
    HOST: "127.0.0.1",
    LOG_LEVEL: o.logLevel ?? "info",
    API_RATE_LIMIT_PER_MINUTE: "100000",
    ...oracleEnv,
    ...guardianEnv,
  };
  const api = await portInUse("--api-port", o.apiPort, () =>
    startAdminApi(apiEnv, {
      port: o.apiPort,
      logger: logger.child({ name: "admin-api" }),
      ...apiClockOf(ctx),
    }),
  );
  ctx.set("api", api);
  ctx.set("apiEnv", apiEnv);
  ctx.onClose(() => ctx.get("api").close()); // the one running (governance restarts it)
  const apiUrl = api.url.replace("://0.0.0.0", "://127.0.0.1");
  ctx.set("store", store);
  ctx.set("token", token);
  ctx.set("tokenFile", tokenFile);
  ctx.set("apiUrl", apiUrl);

  const sim = ctx.get("sim");
  ctx.out(`admin API   ${apiUrl}  (docs: ${apiUrl}/docs)`);
  ctx.out(
    `beacon-sim  ${sim.url}  (${sim.chain.fork} chain, ${o.scenario.genesisValidators} genesis validators, ${sim.chain.secondsPerSlot} s slots)`,
  );
  ctx.out(`admin token ${tokenFile} (mode 0600; send it as "Authorization: Bearer <token>")`);
  ctx.out(`logs        ${ctx.get("logFile")}`);
  ctx.out(`redis       ${safeUrl(ctx.get("redisUrl"))}, keys ${ctx.get("redisPrefix")}:* (removed at exit)`);
}

/**
 * Operators created through the admin API over HTTP (the scenario's vetted limits), before the
 * DAO takes over (governance.ts: with a DAO, an operator is added by proposal); their keys come
 * from their daemons (daemons.ts), which upload them with their own tokens.
 */
export async function registerOperators(ctx: DevnetContext): Promise<void> {
  const o = ctx.options;
  const sc = o.scenario;
  const client = createApiClient({ baseUrl: ctx.get("apiUrl"), token: ctx.get("token") });
  const operators: DevnetOperator[] = [];
  for (let k = 1; k <= o.operators; k++) {
    const reward = createHash("sha256").update(`${sc.seed}/operator/${k}`).digest().subarray(0, 20);
    const vettedLimit = sc.vettedLimits.find((v) => v.operator === k)?.limit ?? o.keysPerOperator;
    const { data: op } = await client.createOperator({
      body: {
        name: `devnet-operator-${k}`,
        rewardAddress: toChecksumAddress(reward),
        vettedLimit,
        reason: "devnet",
      },
    });
    operators.push({
      id: op.id,
      name: op.name,
      uploaded: 0,
      vetted: 0,
      deposited: 0,
      validators: [],
      daemonDir: null,
      signsExits: true,
    });
  }
  ctx.set("operators", operators);
}

/** Keys the scenario's one deposit batch wants: its share of the vetted keys (at least 1). */
function wantedDeposits(ctx: DevnetContext): number {
  const vettedTotal = ctx.get("operators").reduce((s, x) => s + x.vetted, 0);
  if (vettedTotal === 0) throw new ConfigError("scenario.vettedLimits: no key is vetted, nothing to deposit");
  return Math.max(1, Math.floor(vettedTotal * ctx.options.scenario.depositShare));
}

/** What one key's deposit takes from the buffer (the pool deposits 32 ETH per key). */
const KEY_DEPOSIT_WEI = gweiToWei(POOL_DEPOSIT_GWEI);

/**
 * Stakers submit ether before the first deposit batch (the batch is paid from the pool's
 * buffer): `scenario.stakers` accounts, derived from the seed, together exactly what the batch
 * costs, in unequal whole-ETH parts, through `POST /v1/pool/submit`.
 */
export async function stakePool(ctx: DevnetContext): Promise<void> {
  const sc = ctx.options.scenario;
  const client = createApiClient({ baseUrl: ctx.get("apiUrl"), token: ctx.get("token") });
  const totalEth = (BigInt(wantedDeposits(ctx)) * KEY_DEPOSIT_WEI) / WEI_PER_ETH;
  const weights = Array.from({ length: sc.stakers }, (_, i) => BigInt(i + 1));
  const sum = weights.reduce((a, b) => a + b, 0n);
  const stakers: DevnetStaker[] = [];
  let given = 0n;
  for (let i = 0; i < sc.stakers; i++) {
    const eth = i === sc.stakers - 1 ? totalEth - given : (totalEth * weights[i]!) / sum;
    given += eth;
    if (eth === 0n) continue;
    const account = `0x${createHash("sha256")
      .update(`${sc.seed}/staker/${i + 1}`)
      .digest("hex")
      .slice(0, 40)}`;
    const wei = eth * WEI_PER_ETH;
    await client.submitToPool({ body: { account, amount: wei.toString() } });
    stakers.push({ account, wei });
  }
  const { data: pool } = await client.getPool();
  ctx.set("stakers", stakers);
  ctx.out(
    `stakers     ${stakers.length} accounts staked ${totalEth} ETH: ` +
      stakers.map((s) => `${s.account.slice(0, 8)}… ${formatWeiAsEth(s.wei)} ETH`).join(", ") +
      ` (the pool's buffer: ${formatWeiAsEth(BigInt(pool.bufferedEther))} ETH)`,
  );
}

/**
 * One deposit batch through the API (MinFirst), sized to what the pool's buffer pays (as Lido's
 * depositable ether limits deposits) and paid from it, then its deposits on the chain in batch
 * order: each key's own deposit data (pubkey, withdrawal credentials, amount, signature) posted to
 * the sim's execution-layer side as an EIP-6110 deposit request, as the deposit contract would
 * pass it on. The chain queues them in pending_deposits, checks each signature when it applies the
 * deposit and adds the validators under the churn.
 */
export async function allocateAndDeposit(ctx: DevnetContext): Promise<void> {
  const operators = ctx.get("operators");
  const wc = ctx.get("withdrawalCredentials");
  const sim = ctx.get("sim");
  const client = createApiClient({ baseUrl: ctx.get("apiUrl"), token: ctx.get("token") });
  const { data: before } = await client.getPool();
  const payable = BigInt(before.depositableEther) / KEY_DEPOSIT_WEI;
  const count = Math.min(wantedDeposits(ctx), Number(payable));
  if (count === 0)
    throw new PoolkeeperError(
      DEVNET_ERRORS.RUN,
      `the pool's buffer pays for no deposit: ${formatWeiAsEth(BigInt(before.depositableEther))} ETH is depositable, a key takes 32 ETH`,
    );
  const { data: batch } = await client.allocateDepositBatch({ body: { count } });
  const { data: after } = await client.getPool();
  const batches: BatchSummary[] = [];
  ctx.set("batches", batches);
  const paid = BigInt(before.bufferedEther) - BigInt(after.bufferedEther);
  ctx.set("batch", batch);
  ctx.out(
    `deposit batch ${batch.id}: ${batch.keyCount} keys (MinFirst), ${formatWeiAsEth(paid)} ETH from the buffer (${formatWeiAsEth(BigInt(after.bufferedEther))} ETH left) — ` +
      batch.perOperator.map((p) => `operator ${p.operatorId}: ${p.count}`).join(", "),
  );

  const keys = [...batch.keys].sort((a, b) => a.position - b.position);
  for (const k of keys) {
    if (k.depositData.withdrawal_credentials !== toHex(wc))
      throw new PoolkeeperError(
        DEVNET_ERRORS.RUN,
        `batch key ${k.keyId}: withdrawal credentials are not the pool's`,
      );
  }
  // nothing goes to the chain before the guardians have released the batch
  const verdict = await awaitRelease(ctx, batch);
  batches.push({
    id: batch.id,
    keys: batch.keyCount,
    status: verdict.status,
    signers: verdict.status === "released" ? verdict.signers : [],
  });
  if (verdict.status === "refused")
    throw new PoolkeeperError(
      DEVNET_ERRORS.RUN,
      `deposit batch ${batch.id} was refused by the guardians (${verdict.reason}); the devnet's first batch must be clean`,
    );
  const byId = new Map(operators.map((op) => [op.id, op]));
  for (const k of keys) {
    const index = await postDepositRequest(sim.url, k.keyId, k.depositData);
    const op = byId.get(k.operatorId);
    if (op !== undefined) {
      op.validators.push(index);
      op.deposited++;
    }
  }
  ctx.set(
    "poolIndices",
    operators.flatMap((op) => op.validators),
  );
}

/** One deposit request to the sim; the validator index the chain gives the key. */
async function postDepositRequest(
  simUrl: string,
  keyId: number,
  d: { pubkey: string; withdrawal_credentials: string; amount: number; signature: string },
): Promise<number> {
  const res = await fetch(`${simUrl}${EXECUTION_ROUTES.depositRequests}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      pubkey: `0x${d.pubkey}`,
      withdrawal_credentials: `0x${d.withdrawal_credentials}`,
      amount: String(d.amount),
      signature: `0x${d.signature}`,
    }),
  });
  const body = (await res.json()) as { data?: { validator_index?: string | null }; message?: string };
  const index = body.data?.validator_index;
  if (!res.ok || index === undefined)
    throw new PoolkeeperError(
      DEVNET_ERRORS.RUN,
      `batch key ${keyId}: beacon-sim refused its deposit request (${res.status}: ${body.message ?? "no message"})`,
    );
  if (index === null)
    throw new PoolkeeperError(
      DEVNET_ERRORS.RUN,
      `batch key ${keyId}: its deposit signature does not verify on the chain (the chain would drop the deposit)`,
    );
  return Number(index);
}

/**
 * The scenario on the chain: the deposits' activation epochs announced once known, and the
 * scenario's offline operator taken offline once all its validators are active.
 */
export function runScenario(ctx: DevnetContext): void {
  const sc = ctx.options.scenario;
  const logger = ctx.get("logger");
  const chain = ctx.get("sim").chain;
  const operators = ctx.get("operators");
  const poolIndices = ctx.get("poolIndices");
  const offlineOp = sc.offline === null ? undefined : operators[sc.offline.operator - 1];
  const offline: DevnetOffline | null =
    offlineOp === undefined || sc.offline === null
      ? null
      : { operatorId: offlineOp.id, fromEpoch: null, toEpoch: null };
  ctx.set("offline", offline);
  let activationAnnounced = false;
  const announceActivation = () => {
    let lo = FAR;
    let hi = 0;
    for (const i of poolIndices) {
      const a = chain.activationEpoch[i] ?? FAR;
      if (a === FAR) return;
      lo = Math.min(lo, a);
      hi = Math.max(hi, a);
    }
    activationAnnounced = true;
    ctx.out(
      `deposits activate at epochs ${lo}..${hi} (the sim is at epoch ${chain.epochOf(chain.headSlot)})`,
    );
  };
  const onSlot = () => {
    if (!activationAnnounced && poolIndices.length > 0) announceActivation();
    if (offline === null || offlineOp === undefined || sc.offline === null || offline.fromEpoch !== null)
      return;
    if (offlineOp.validators.length === 0) return;
    let last = 0;
    for (const i of offlineOp.validators) {
      const a = chain.activationEpoch[i] ?? FAR;
      if (a === FAR) return;
      last = Math.max(last, a);
    }
    const from = Math.max(last + sc.offline.afterActivationEpochs, chain.epochOf(chain.headSlot) + 1);
    offline.fromEpoch = from;
    offline.toEpoch = from + sc.offline.epochs;
    chain.setBehaviour(offlineOp.validators, "offline", { from, to: offline.toEpoch });
    logger.info({ operatorId: offlineOp.id, from, to: offline.toEpoch }, "operator goes offline");
    ctx.out(
      `scenario: operator ${offlineOp.id}'s validators go offline for epochs ${from}..${offline.toEpoch - 1}`,
    );
  };
  chain.on("slot", onSlot);
  ctx.onClose(() => chain.off("slot", onSlot));
  scheduleWithdrawal(ctx);
}

/**
 * The demand for exits: once the pool's validators are all active (and the scenario's
 * afterActivationEpochs more), the largest staker asks to withdraw `exits.withdrawEth` of its
 * stETH through the admin API (`POST /v1/withdrawals`), more than the pool's buffer holds, so the
 * next oracle report asks validators to exit (Lido's ejector rule).
 */
function scheduleWithdrawal(ctx: DevnetContext): void {
  const ex = ctx.options.scenario.exits;
  const holder: DevnetParts["withdrawal"] = { current: null };
  ctx.set("withdrawal", holder);
  const stakers = ctx.get("stakers");
  const poolIndices = ctx.get("poolIndices");
  if (ex.withdrawEth === null || stakers.length === 0 || poolIndices.length === 0) return;
  const logger = ctx.get("logger");
  const chain = ctx.get("sim").chain;
  const staker = stakers.reduce((a, b) => (b.wei > a.wei ? b : a));
  const wei = BigInt(ex.withdrawEth) * WEI_PER_ETH;
  const amount = wei < staker.wei ? wei : staker.wei;
  let state: "waiting" | "sending" | "done" = "waiting";
  const onSlot = () => {
    if (state !== "waiting") return;
    let last = 0;
    for (const i of poolIndices) {
      const a = chain.activationEpoch[i] ?? FAR;
      if (a === FAR) return;
      last = Math.max(last, a);
    }
    const epoch = chain.epochOf(chain.headSlot);
    if (epoch < last + ex.afterActivationEpochs) return;
    state = "sending";
    const client = createApiClient({ baseUrl: ctx.get("apiUrl"), token: ctx.get("token") });
    client
      .requestWithdrawal({ body: { account: staker.account, amount: amount.toString() } })
      .then(({ data }) => {
        state = "done";
        holder.current = { account: staker.account, wei: amount, requestId: data.requestId, epoch };
        logger.info({ requestId: data.requestId, epoch }, "staker's withdrawal requested");
        ctx.out(
          `withdrawal  at epoch ${epoch}: staker ${staker.account.slice(0, 8)}… asks for ${formatWeiAsEth(amount)} ETH (request ${data.requestId}); ` +
            `the next oracle report asks validators to exit (deadline ${ex.deadlineEpochs} epochs, then EIP-7002)`,
        );
      })
      .catch((e: unknown) => {
        state = "waiting"; // tried again at the next slot
        logger.warn(
          { err: e instanceof Error ? e.message : String(e) },
          "withdrawal request failed; retrying",
        );
      });
  };
  chain.on("slot", onSlot);
  ctx.onClose(() => chain.off("slot", onSlot));
}

/** The watcher, following the sim's finalized epochs through BullMQ on Redis. */
export async function startWatcher(ctx: DevnetContext): Promise<void> {
  const o = ctx.options;
  const logger = ctx.get("logger");
  const store = ctx.get("store");
  const network = ctx.get("network");
  let watcher: Watcher | undefined;
  const beacon = await BeaconNodePool.init(
    { urls: [ctx.get("sim").url], preset: "minimal" },
    { logger, onNodeError: (url, err) => void watcher?.nodeError(url, err) },
  );
  const registry = createRegistry(
    { store, logger },
    { network, withdrawalCredentials: ctx.get("withdrawalCredentials") },
  );
  // late exit requests: the pool's EIP-7002 request from the withdrawal vault, on the sim
  const execution = simExecutionLayer(ctx.get("sim").url, {
    withdrawalVault: o.scenario.withdrawalAddress,
    elRewardsVault: o.scenario.oracle.elRewardsVault,
  });
  watcher = new Watcher(
    { beacon, store, pool: registryPoolSource(store, registry), logger, execution },
    {
      settings: {
        network: network.name,
        offlineEpochs: o.scenario.watcher.offlineEpochs,
        underperformanceMargin: o.scenario.watcher.underperformanceMargin,
        webhook: false,
      },
      redis: { url: ctx.get("redisUrl"), prefix: ctx.get("redisPrefix") },
      concurrency: 2,
      // epoch 0 has the genesis block (no proposer): the watcher starts at 1
      startEpoch: 1,
    },
  );
  const w = watcher;
  w.start();
  ctx.onClose(() => w.stop());
  ctx.set("watcher", w);
}

/** The summary, printed every `summaryEvery` finalized epochs. */
export function startSummaryLoop(ctx: DevnetContext): void {
  const o = ctx.options;
  const logger = ctx.get("logger");
  const source = {
    chain: ctx.get("sim").chain,
    store: ctx.get("store"),
    network: ctx.get("network").name,
    operators: ctx.get("operators"),
    poolIndices: ctx.get("poolIndices"),
    batches: ctx.get("batches"),
  };
  const summary = () => devnetSummary(source);
  const printSummary = async () => {
    for (const line of summaryLines(await summary())) ctx.out(line);
  };
  ctx.set("summary", summary);
  ctx.set("printSummary", printSummary);
  const chain = source.chain;
  let lastPrinted: number | null = null;
  /** Runs `f` unless its last run is still going; a failure is a warning in the log. */
  const oneAtATime = (what: string, f: () => Promise<void>) => {
    let running = false;
    return () => {
      if (running) return;
      running = true;
      f()
        .catch((e: unknown) =>
          logger.warn({ err: e instanceof Error ? e.message : String(e) }, `${what} failed`),
        )
        .finally(() => {
          running = false;
        });
    };
  };
  // exit requests as they move: one line per request and state
  const exitStates = new Map<string, string>();
  const exitNews = oneAtATime("exit news", async () => {
    for (const e of await exitsSummary(source.store)) {
      const key = `${e.validator.index}/${e.requestedEpoch}`;
      if (exitStates.get(key) === e.state) continue;
      exitStates.set(key, e.state);
      ctx.out(`exit        ${exitLine(e)}`);
    }
  });
  const summaryNow = oneAtATime("summary", printSummary);
  const timer = setInterval(() => {
    exitNews();
    const fin = chain.currentFinality().finalized.epoch;
    if (lastPrinted !== null && fin < lastPrinted + o.summaryEvery) return;
    lastPrinted = fin;
    summaryNow();
  }, o.pollMs ?? 1000);
  timer.unref();
  ctx.onClose(() => clearInterval(timer));
}

/** The run, in order; the teardown runs in reverse. */
export const DEVNET_STEPS: readonly DevnetStep[] = [
  { name: "redis", run: connectRedis },
  { name: "data directory", run: prepareDataDir },
  { name: "beacon-sim", run: startSim },
  { name: "store and admin API", run: startStoreAndApi },
  { name: "operators", run: registerOperators },
  { name: "governance", run: startGovernance },
  { name: "operator daemons", run: startOperatorDaemons },
  { name: "guardians", run: startGuardians },
  { name: "stakers", run: stakePool },
  { name: "deposit batch", run: allocateAndDeposit },
  { name: "scenario", run: runScenario },
  { name: "watcher", run: startWatcher },
  { name: "oracle members", run: startOracleMembers },
  { name: "summary", run: startSummaryLoop },
];
