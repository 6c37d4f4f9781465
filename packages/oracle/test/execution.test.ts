/**
 * The execution-layer adapters: the sim's against a real beacon-sim (received minus collected),
 * the JSON-RPC one against an in-test JSON-RPC and Beacon API server (the block number of the
 * last block at or before the ref slot, eth_getBalance there, errors and timeouts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type BeaconSim, startBeaconSim } from "@poolkeeper/beacon-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonRpcExecutionLayer, simExecutionLayer } from "../src/execution.js";
import { executionLayerFrom, type OracleElSettings } from "../src/settings.js";

const W = `0x${"11".repeat(20)}`;
const EL = `0x${"22".repeat(20)}`;
const VAULTS = { withdrawalVault: W, elRewardsVault: EL };
const NONE = { withdrawalsWei: 0n, elRewardsWei: 0n };

describe("simExecutionLayer against a beacon-sim", () => {
  let sim: BeaconSim;
  beforeAll(async () => {
    const wc = new Uint8Array(32).fill(0x11);
    wc[0] = 1;
    wc.fill(0, 1, 12);
    sim = await startBeaconSim({
      fork: "deneb",
      validators: 16,
      slotsPerEpoch: 8,
      seed: "oracle-el",
      withdrawalCredentials: wc,
      feeRecipients: { [W]: EL },
    });
    sim.chain.advanceTo(64);
  });
  afterAll(() => sim?.close());

  it("a vault's balance is what it received by the ref slot less what the ledger collected", async () => {
    const el = simExecutionLayer(sim.url, VAULTS);
    const at40 = await el.vaultBalances(40, NONE);
    expect(at40).toEqual({
      withdrawalVaultWei: sim.chain.receivedWei(W, 40),
      elRewardsVaultWei: sim.chain.receivedWei(EL, 40),
    });
    expect(at40.elRewardsVaultWei).toBeGreaterThan(0n);
    const collected = { withdrawalsWei: at40.withdrawalVaultWei, elRewardsWei: at40.elRewardsVaultWei - 5n };
    const at64 = await el.vaultBalances(64, collected);
    expect(at64).toEqual({
      withdrawalVaultWei: sim.chain.receivedWei(W, 64) - at40.withdrawalVaultWei,
      elRewardsVaultWei: sim.chain.receivedWei(EL, 64) - at40.elRewardsVaultWei + 5n,
    });
  });

  it("the settings pick the adapter: the sim's here; none without a URL; a URL needs both vaults", async () => {
    const settings = (over: Partial<OracleElSettings>) =>
      ({ ORACLE_EL_TIMEOUT_MS: 1000, ...over }) as OracleElSettings;
    expect(executionLayerFrom(settings({}), sim.url)).toBeNull();
    expect(() => executionLayerFrom(settings({ ORACLE_EL_SIM_URL: sim.url }), sim.url)).toThrow(
      /POOL_WITHDRAWAL_VAULT/,
    );
    const el = executionLayerFrom(
      settings({ ORACLE_EL_SIM_URL: sim.url, POOL_WITHDRAWAL_VAULT: W, POOL_EL_REWARDS_VAULT: EL }),
      sim.url,
    );
    expect((await el?.vaultBalances(32, NONE))?.elRewardsVaultWei).toBe(sim.chain.receivedWei(EL, 32));
  });

  it("a ref slot past the head, or a ledger that collected more than arrived, is a clear error", async () => {
    const el = simExecutionLayer(sim.url, VAULTS);
    await expect(el.vaultBalances(10_000, NONE)).rejects.toThrow(
      /HTTP 400: slot: must not be after the head slot/,
    );
    await expect(el.vaultBalances(10, { withdrawalsWei: 0n, elRewardsWei: 10n ** 30n })).rejects.toThrow(
      /collected 10{30} wei from the EL rewards vault but it received only/,
    );
    expect(() => simExecutionLayer(sim.url, { ...VAULTS, elRewardsVault: "0x12" })).toThrow(
      /vaults.elRewardsVault/,
    );
    expect(() => simExecutionLayer("ftp://x", VAULTS)).toThrow(/simUrl/);
  });

  it("an EIP-7002 withdrawal request on a pre-Electra sim: the sim's refusal, quoted; a bad pubkey named", async () => {
    const el = simExecutionLayer(sim.url, VAULTS);
    const pubkey = `0x${Buffer.from(sim.chain.pubkeyOf(3)).toString("hex")}`;
    await expect(el.submitWithdrawalRequest(pubkey)).rejects.toThrow(
      /HTTP 400: .*needs an electra or fulu chain/,
    );
    await expect(el.submitWithdrawalRequest("0x12")).rejects.toThrow(/pubkey: must be 0x and 96 hex digits/);
    await expect(el.submitWithdrawalRequest(pubkey, -1n)).rejects.toThrow(/amountGwei/);
  });
});

describe("simExecutionLayer's EIP-7002 requests on an Electra beacon-sim", () => {
  it("a full-exit request from the validators' withdrawal address exits the validator", async () => {
    const wc = new Uint8Array(32).fill(0x11);
    wc[0] = 1;
    wc.fill(0, 1, 12);
    const sim = await startBeaconSim({
      validators: 16,
      slotsPerEpoch: 8,
      seed: "oracle-el-7002",
      withdrawalCredentials: wc,
    });
    try {
      sim.chain.advanceTo(16);
      const el = simExecutionLayer(sim.url, VAULTS);
      const pubkey = `0x${Buffer.from(sim.chain.pubkeyOf(5)).toString("hex")}`;
      expect(await el.submitWithdrawalRequest(pubkey)).toEqual({ validatorIndex: 5 });
      const before = sim.chain.validatorAt(5, sim.chain.epochOf(sim.chain.headSlot)).exitEpoch;
      sim.chain.advanceTo(sim.chain.headSlot + 16);
      const after = sim.chain.validatorAt(5, sim.chain.epochOf(sim.chain.headSlot)).exitEpoch;
      expect(after).toBeLessThan(before);
    } finally {
      await sim.close();
    }
  });

  it("the JSON-RPC adapter refuses: a real network needs the withdrawal vault's signer", async () => {
    const el = jsonRpcExecutionLayer("http://127.0.0.1:1", VAULTS, "http://127.0.0.1:1");
    await expect(el.submitWithdrawalRequest(`0x${"ab".repeat(48)}`)).rejects.toThrow(/vault's signer/);
  });
});

describe("jsonRpcExecutionLayer against an in-test node", () => {
  let server: Server;
  let base: string;
  const calls: unknown[] = [];
  let rpcAnswer: (params: unknown[]) => unknown = ([addr]) => ({
    result: addr === W ? "0xde0b6b3a7640000" : "0x2386f26fc10000",
  });
  const BLOCKS = new Map<number, number>([
    [90, 1_200],
    [94, 1_234],
  ]);
  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      const url = req.url ?? "";
      if (url.startsWith("/slow")) return; // never answers
      if (url.startsWith("/broken")) return send(500, { message: "down" });
      const m = /\/eth\/v2\/beacon\/blocks\/(\d+)$/.exec(url);
      if (req.method === "GET" && m) {
        const n = BLOCKS.get(Number(m[1]));
        if (n === undefined) return send(404, { code: 404, message: "not found" });
        return send(200, { data: { message: { body: { execution_payload: { block_number: String(n) } } } } });
      }
      let raw = "";
      req.on("data", (c) => {
        raw += c;
      });
      req.on("end", () => {
        const body = JSON.parse(raw) as { id: number; method: string; params: unknown[] };
        calls.push({ method: body.method, params: body.params });
        send(200, { jsonrpc: "2.0", id: body.id, ...(rpcAnswer(body.params) as object) });
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it("eth_getBalance of both vaults at the execution block of the last block at or before the ref slot", async () => {
    calls.length = 0;
    const el = jsonRpcExecutionLayer(`${base}/rpc`, VAULTS, base);
    // slot 95 is empty: the block of slot 94, execution block 1,234 = 0x4d2
    expect(await el.vaultBalances(95, NONE)).toEqual({
      withdrawalVaultWei: 10n ** 18n,
      elRewardsVaultWei: 10n ** 16n,
    });
    expect(calls).toEqual(
      expect.arrayContaining([
        { method: "eth_getBalance", params: [W, "0x4d2"] },
        { method: "eth_getBalance", params: [EL, "0x4d2"] },
      ]),
    );
    expect(calls).toHaveLength(2);
  });

  it("errors say what failed without the node's path (it may hold an API key)", async () => {
    const secretRpc = `${base}/v3/SECRETKEY123`;
    rpcAnswer = () => ({ error: { code: -32000, message: "header not found" } });
    const err = await jsonRpcExecutionLayer(secretRpc, VAULTS, base)
      .vaultBalances(94, NONE)
      .catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(
      /eth_getBalance\(0x1{40}, block 1234\): JSON-RPC error -32000 header not found/,
    );
    expect((err as Error).message).not.toContain("SECRETKEY");
    rpcAnswer = () => ({ result: "not hex" });
    await expect(jsonRpcExecutionLayer(secretRpc, VAULTS, base).vaultBalances(94, NONE)).rejects.toThrow(
      /no hex result/,
    );
    const down = await jsonRpcExecutionLayer(`${base}/broken/SECRETKEY123`, VAULTS, base)
      .vaultBalances(94, NONE)
      .catch((e: Error) => e);
    expect((down as Error).message).toMatch(/answered HTTP 500$/);
    expect((down as Error).message).not.toContain("SECRETKEY");
    expect((down as { code?: string }).code).toBe("ERR_UNAVAILABLE");
  });

  it("a node that does not answer times out; no block near the ref slot is an error", async () => {
    const slow = jsonRpcExecutionLayer(`${base}/slow`, VAULTS, base, { timeoutMs: 200 });
    await expect(slow.vaultBalances(94, NONE)).rejects.toThrow(/did not answer within 200 ms/);
    const noBlocks = jsonRpcExecutionLayer(`${base}/rpc`, VAULTS, base);
    await expect(noBlocks.vaultBalances(500, NONE)).rejects.toThrow(
      /no beacon block in the 64 slots up to slot 500/,
    );
    await expect(noBlocks.vaultBalances(-1, NONE)).rejects.toThrow(/refSlot/);
  });
});
