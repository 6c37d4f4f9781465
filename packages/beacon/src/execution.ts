/**
 * The execution layer's side of a report: the balances of the pool's withdrawal vault and
 * execution-layer rewards vault at the ref slot. Two adapters:
 *
 *  - `simExecutionLayer`: the devnet's beacon-sim, whose execution layer only receives (GET
 *    /poolkeeper/v1/execution/balances/{address}?slot=N gives what an address received up to a
 *    slot); a vault's balance is what it received minus what the ledger has collected from it.
 *  - `jsonRpcExecutionLayer`: a real network: `eth_getBalance(vault, block)` at the execution
 *    block of the ref slot's block (the last block at or before the ref slot, its
 *    execution_payload.block_number, read from the Beacon API).
 *
 * Both also send the pool's EIP-7002 withdrawal requests (`submitWithdrawalRequest`: a full exit
 * of a validator whose operator did not exit it in time): beacon-sim's `POST
 * /poolkeeper/v1/execution/withdrawal_requests` with the withdrawal vault as the source address;
 * a real network needs a transaction signed for the vault, which is not built (ERR_CONFIG).
 *
 * Every request has a timeout; failures are ERR_UNAVAILABLE errors that say what failed, with
 * the node's URL cut to its origin (a path or user part may hold an API key). The adapter sits in
 * @poolkeeper/beacon (layer 2) so that the oracle and the watcher (both layer 3) use the one.
 */
import {
  CORE_ERRORS,
  ConfigError,
  type ConfigOf,
  type ConfigSpec,
  PoolkeeperError,
  ValidationError,
} from "@poolkeeper/core";
import { z } from "zod";

export interface VaultAddresses {
  withdrawalVault: string;
  elRewardsVault: string;
}

export interface VaultBalances {
  withdrawalVaultWei: bigint;
  elRewardsVaultWei: bigint;
}

export interface ExecutionLayerAdapter {
  /**
   * The vaults' balances at `refSlot`. `collected`: what the ledger's applied reports took from
   * them in all (LedgerState.withdrawalsCollectedWei / elRewardsCollectedWei).
   */
  vaultBalances(
    refSlot: number,
    collected: { withdrawalsWei: bigint; elRewardsWei: bigint },
  ): Promise<VaultBalances>;
  /**
   * An EIP-7002 withdrawal request from the withdrawal vault for `pubkey` (0x + 96 hex);
   * `amountGwei` 0 (the default) is a full exit. Resolves when the execution layer accepted it.
   */
  submitWithdrawalRequest(pubkey: string, amountGwei?: bigint): Promise<{ validatorIndex: number | null }>;
}

/** EIP-7002: amount 0 asks for a full exit. */
export const FULL_EXIT_AMOUNT_GWEI = 0n;

function checkPubkey(pubkey: string): string {
  if (!/^0x[0-9a-fA-F]{96}$/.test(pubkey))
    throw new ValidationError("pubkey", "must be 0x and 96 hex digits");
  return pubkey.toLowerCase();
}

function checkAmount(amountGwei: bigint): bigint {
  if (amountGwei < 0n || amountGwei > 0xffff_ffff_ffff_ffffn)
    throw new ValidationError("amountGwei", "must be a uint64 amount of gwei (0: full exit)");
  return amountGwei;
}

export interface ExecutionAdapterOptions {
  /** Per request (default 10 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export const DEFAULT_EXECUTION_TIMEOUT_MS = 10_000;
/** How far back from the ref slot a block is looked for before giving up (two mainnet epochs). */
export const MAX_EMPTY_SLOTS = 64;

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

function checkVaults(v: VaultAddresses): VaultAddresses {
  for (const k of ["withdrawalVault", "elRewardsVault"] as const)
    if (!ADDRESS.test(v[k]))
      throw new ValidationError(`vaults.${k}`, "must be an address: 0x and 40 hex digits");
  return { withdrawalVault: v.withdrawalVault.toLowerCase(), elRewardsVault: v.elRewardsVault.toLowerCase() };
}

function checkUrl(u: string, field: string): URL {
  try {
    const url = new URL(u);
    if (url.protocol === "http:" || url.protocol === "https:") return url;
  } catch {
    // below
  }
  throw new ValidationError(field, "must be an http(s) URL");
}

/** The URL as errors may show it: scheme and host only. */
export function printableOrigin(u: URL): string {
  return `${u.protocol}//${u.host}`;
}

function unavailable(message: string, cause?: unknown): PoolkeeperError {
  return new PoolkeeperError(
    CORE_ERRORS.UNAVAILABLE,
    message,
    undefined,
    cause === undefined ? {} : { cause },
  );
}

const field = (v: unknown, ...path: string[]): unknown => {
  let x = v;
  for (const p of path)
    x = x !== null && typeof x === "object" ? (x as Record<string, unknown>)[p] : undefined;
  return x;
};

/** One HTTP request with a timeout; the JSON answer, or null for a 404 when `notFoundIsNull`. */
async function requestJson(
  url: URL,
  what: string,
  opts: ExecutionAdapterOptions,
  init: RequestInit = {},
  notFoundIsNull = false,
  /** Quote the answer's `message` on an HTTP error (only for our own sim, whose messages name the field). */
  quoteMessage = false,
): Promise<unknown> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_EXECUTION_TIMEOUT_MS;
  const doFetch = opts.fetch ?? fetch;
  const where = printableOrigin(url);
  let res: Response;
  try {
    res = await doFetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const timedOut = e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError");
    throw unavailable(
      timedOut ? `${what}: ${where} did not answer within ${timeoutMs} ms` : `${what}: ${where} unreachable`,
      timedOut ? undefined : e,
    );
  }
  if (notFoundIsNull && res.status === 404) {
    await res.body?.cancel();
    return null;
  }
  if (!res.ok) {
    let said = "";
    if (quoteMessage) {
      const m = field(await res.json().catch(() => null), "message");
      if (typeof m === "string") said = `: ${m.slice(0, 200)}`;
    } else await res.body?.cancel();
    throw unavailable(`${what}: ${where} answered HTTP ${res.status}${said}`);
  }
  try {
    return await res.json();
  } catch {
    throw unavailable(`${what}: ${where} answered something that is not JSON`);
  }
}

function checkRefSlot(refSlot: number): void {
  if (!Number.isSafeInteger(refSlot) || refSlot < 0)
    throw new ValidationError("refSlot", "must be a non-negative integer");
}

/** A vault's balance: received minus collected; collected above received is a broken ledger. */
function balanceOf(name: string, received: bigint, collected: bigint): bigint {
  if (collected > received)
    throw new PoolkeeperError(
      CORE_ERRORS.INTERNAL,
      `the ledger collected ${collected} wei from the ${name} but it received only ${received} wei by the ref slot`,
    );
  return received - collected;
}

/** The devnet's adapter: what the beacon-sim says each vault received by the ref slot, less what the ledger collected. */
export function simExecutionLayer(
  simUrl: string,
  vaults: VaultAddresses,
  opts: ExecutionAdapterOptions = {},
): ExecutionLayerAdapter {
  const base = checkUrl(simUrl, "simUrl");
  const v = checkVaults(vaults);
  const received = async (address: string, refSlot: number): Promise<bigint> => {
    const url = new URL(`/poolkeeper/v1/execution/balances/${address}?slot=${refSlot}`, base);
    const body = await requestJson(
      url,
      `beacon-sim balance of ${address} at slot ${refSlot}`,
      opts,
      {},
      false,
      true,
    );
    const wei = field(body, "receivedWei");
    if (typeof wei !== "string" || !/^\d+$/.test(wei))
      throw unavailable(`beacon-sim balance of ${address}: the answer has no receivedWei`);
    return BigInt(wei);
  };
  return {
    async vaultBalances(refSlot, collected) {
      checkRefSlot(refSlot);
      const [w, el] = await Promise.all([
        received(v.withdrawalVault, refSlot),
        received(v.elRewardsVault, refSlot),
      ]);
      return {
        withdrawalVaultWei: balanceOf("withdrawal vault", w, collected.withdrawalsWei),
        elRewardsVaultWei: balanceOf("EL rewards vault", el, collected.elRewardsWei),
      };
    },
    async submitWithdrawalRequest(pubkey, amountGwei = FULL_EXIT_AMOUNT_GWEI) {
      const pk = checkPubkey(pubkey);
      const amount = checkAmount(amountGwei);
      const body = await requestJson(
        new URL("/poolkeeper/v1/execution/withdrawal_requests", base),
        `beacon-sim withdrawal request for ${pk}`,
        opts,
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            validator_pubkey: pk,
            amount: amount.toString(),
            source_address: v.withdrawalVault,
          }),
        },
        false,
        true,
      );
      const index = field(body, "data", "validator_index");
      return { validatorIndex: typeof index === "string" && /^\d+$/.test(index) ? Number(index) : null };
    },
  };
}

/** Where the execution block of a slot comes from. */
export interface ExecutionBlockSource {
  /** The last block at or before `slot`: its slot and its execution payload's block number. */
  executionBlockAtOrBefore(slot: number): Promise<{ slot: number; blockNumber: number }>;
}

/**
 * The Beacon API as an ExecutionBlockSource: GET /eth/v2/beacon/blocks/{slot}, walking back over
 * empty slots (404) at most MAX_EMPTY_SLOTS.
 */
export function beaconApiBlockSource(
  beaconUrl: string,
  opts: ExecutionAdapterOptions = {},
): ExecutionBlockSource {
  const base = checkUrl(beaconUrl, "beaconUrl");
  return {
    async executionBlockAtOrBefore(slot) {
      checkRefSlot(slot);
      for (let s = slot; s >= 0 && s > slot - MAX_EMPTY_SLOTS; s--) {
        const body = await requestJson(
          new URL(`/eth/v2/beacon/blocks/${s}`, base),
          `beacon block at slot ${s}`,
          opts,
          { headers: { accept: "application/json" } },
          true,
        );
        if (body === null) continue;
        const n = field(body, "data", "message", "body", "execution_payload", "block_number");
        if (typeof n !== "string" || !/^\d+$/.test(n) || !Number.isSafeInteger(Number(n)))
          throw unavailable(
            `beacon block at slot ${s}: no execution_payload.block_number (a pre-merge block?)`,
          );
        return { slot: s, blockNumber: Number(n) };
      }
      throw unavailable(`no beacon block in the ${MAX_EMPTY_SLOTS} slots up to slot ${slot}`);
    },
  };
}

/** A real network's adapter: eth_getBalance of each vault at the ref slot's execution block. */
export function jsonRpcExecutionLayer(
  rpcUrl: string,
  vaults: VaultAddresses,
  beacon: string | ExecutionBlockSource,
  opts: ExecutionAdapterOptions = {},
): ExecutionLayerAdapter {
  const url = checkUrl(rpcUrl, "rpcUrl");
  const v = checkVaults(vaults);
  const blocks = typeof beacon === "string" ? beaconApiBlockSource(beacon, opts) : beacon;
  let id = 0;
  const getBalance = async (address: string, block: number): Promise<bigint> => {
    const what = `eth_getBalance(${address}, block ${block})`;
    const body = await requestJson(url, what, opts, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: ++id,
        method: "eth_getBalance",
        params: [address, `0x${block.toString(16)}`],
      }),
    });
    const err = field(body, "error");
    if (err !== undefined && err !== null) {
      const code = field(err, "code");
      const message = field(err, "message");
      throw unavailable(
        `${what}: JSON-RPC error ${typeof code === "number" ? code : "?"}${typeof message === "string" ? ` ${message.slice(0, 200)}` : ""}`,
      );
    }
    const result = field(body, "result");
    if (typeof result !== "string" || !/^0x[0-9a-fA-F]{1,64}$/.test(result))
      throw unavailable(`${what}: the answer has no hex result`);
    return BigInt(result);
  };
  return {
    // the chain's balances already net out what was taken: `collected` is not needed here
    async vaultBalances(refSlot) {
      checkRefSlot(refSlot);
      const { blockNumber } = await blocks.executionBlockAtOrBefore(refSlot);
      const [w, el] = await Promise.all([
        getBalance(v.withdrawalVault, blockNumber),
        getBalance(v.elRewardsVault, blockNumber),
      ]);
      return { withdrawalVaultWei: w, elRewardsVaultWei: el };
    },
    async submitWithdrawalRequest(pubkey, amountGwei = FULL_EXIT_AMOUNT_GWEI) {
      checkPubkey(pubkey);
      checkAmount(amountGwei);
      throw new ConfigError(
        "EIP-7002 withdrawal requests on a real network are sent by the withdrawal vault: they need the vault's signer (a transaction to the withdrawal request contract), which poolkeeper does not build; use ORACLE_EL_SIM_URL on the devnet",
      );
    },
  };
}

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be an address: 0x and 40 hex digits");

/** Where an oracle member reads the vaults' balances (this adapter); the watcher sends the pool's EIP-7002 requests through it. */
export const ORACLE_EL_ENV = {
  ORACLE_EL_RPC_URL: {
    schema: z.string().url().optional(),
    example: "https://mainnet.example/v3/<key>",
    secret: true,
    description:
      "Execution-layer JSON-RPC node for the vaults' balances (eth_getBalance at the ref slot's block); never logged",
  },
  ORACLE_EL_SIM_URL: {
    schema: z.string().url().optional(),
    example: "http://127.0.0.1:5052",
    description:
      "beacon-sim whose execution balances give the vaults' balances (devnet), instead of ORACLE_EL_RPC_URL",
  },
  ORACLE_EL_TIMEOUT_MS: {
    schema: z.coerce.number().int().min(1),
    example: "10000",
    default: "10000",
    description: "Timeout of each execution-layer request",
  },
  POOL_WITHDRAWAL_VAULT: {
    schema: address.optional(),
    example: "0xb9d7934878b5fb9610b3fe8a5e441e8fad7e293f",
    description: "The pool's withdrawal vault: the 0x01/0x02 withdrawal address of its validators",
  },
  POOL_EL_REWARDS_VAULT: {
    schema: address.optional(),
    example: "0x388c818ca8b9251b393131c08a736a67ccb19297",
    description: "The pool's execution-layer rewards vault: its validators' fee recipient",
  },
} satisfies ConfigSpec;

export type OracleElSettings = ConfigOf<typeof ORACLE_EL_ENV>;

/**
 * The execution-layer adapter the settings name (ORACLE_EL_RPC_URL, else ORACLE_EL_SIM_URL, with
 * both vaults), or null when neither URL is set. `beaconUrl`: where the RPC adapter reads the
 * ref slot's block.
 */
export function executionLayerFrom(s: OracleElSettings, beaconUrl: string): ExecutionLayerAdapter | null {
  const url = s.ORACLE_EL_RPC_URL ?? s.ORACLE_EL_SIM_URL;
  if (url === undefined) return null;
  if (s.POOL_WITHDRAWAL_VAULT === undefined || s.POOL_EL_REWARDS_VAULT === undefined)
    throw new ConfigError(
      "POOL_WITHDRAWAL_VAULT/POOL_EL_REWARDS_VAULT: required with an execution-layer URL",
    );
  const vaults = { withdrawalVault: s.POOL_WITHDRAWAL_VAULT, elRewardsVault: s.POOL_EL_REWARDS_VAULT };
  const opts = { timeoutMs: s.ORACLE_EL_TIMEOUT_MS };
  return s.ORACLE_EL_RPC_URL !== undefined
    ? jsonRpcExecutionLayer(s.ORACLE_EL_RPC_URL, vaults, beaconUrl, opts)
    : simExecutionLayer(url, vaults, opts);
}
