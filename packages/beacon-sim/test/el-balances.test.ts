/**
 * The sim's execution-layer balances: withdrawals swept to an address and the priority fees of
 * the blocks it is the fee recipient of, cumulative by slot, over GET
 * /poolkeeper/v1/execution/balances/{address}?slot=N; the same for two sims with the same seed.
 */
import "./env-minimal.js";
import { afterAll, describe, expect, it } from "vitest";
import {
  type BeaconSim,
  BURN_ADDRESS,
  MAX_PRIORITY_FEE_GWEI,
  MIN_PRIORITY_FEE_GWEI,
  priorityFeeWei,
  SimChain,
  startBeaconSim,
} from "../src/index.js";
import { hex, wc } from "./bytes.js";

const VAULT = hex(new Uint8Array(20).fill(0x11));
const EL_VAULT = hex(new Uint8Array(20).fill(0x22));
const SLOTS = 12 * 8;

const sims: BeaconSim[] = [];
afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()));
});

async function start(seed: string): Promise<BeaconSim> {
  const sim = await startBeaconSim({
    fork: "deneb",
    validators: 16,
    seed,
    withdrawalCredentials: wc(1, 0x11),
    scenario: { feeRecipients: { [VAULT]: EL_VAULT } },
  });
  sims.push(sim);
  sim.chain.advanceTo(SLOTS);
  return sim;
}

async function received(sim: BeaconSim, address: string, slot?: number) {
  const q = slot === undefined ? "" : `?slot=${slot}`;
  const res = await fetch(`${sim.url}/poolkeeper/v1/execution/balances/${address}${q}`);
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

/** Withdrawals to `address` and fees of blocks paying it, summed from the blocks up to `slot`. */
function fromBlocks(chain: SimChain, address: string, slot: number): bigint {
  let wei = 0n;
  for (let s = 1; s <= slot; s++) {
    const p = chain.blockAt(s)?.message.body.executionPayload;
    if (p === undefined) continue;
    for (const w of p.withdrawals) if (hex(w.address) === address) wei += w.amount * 1_000_000_000n;
    if (hex(p.feeRecipient) === address) wei += priorityFeeWei(chain.seed, s);
  }
  return wei;
}

describe("execution-layer balances", () => {
  it("priority fees are 0.01 to 0.05 ETH, whole gwei, fixed by seed and slot", () => {
    const fees = Array.from({ length: 500 }, (_, s) => priorityFeeWei("seed", s));
    for (const f of fees) {
      expect(f % 1_000_000_000n).toBe(0n);
      expect(f >= MIN_PRIORITY_FEE_GWEI * 1_000_000_000n && f <= MAX_PRIORITY_FEE_GWEI * 1_000_000_000n).toBe(
        true,
      );
    }
    expect(new Set(fees).size).toBeGreaterThan(490);
    expect(priorityFeeWei("seed", 7)).toBe(fees[7]);
    expect(priorityFeeWei("other", 7)).not.toBe(fees[7]);
  });

  it("the pool's validators pay the EL rewards vault; withdrawals reach the withdrawal vault; cumulative by slot", async () => {
    const sim = await start("el-1");
    const chain = sim.chain;
    // every canonical block names the EL vault as its fee recipient
    const blocks = [...Array(SLOTS).keys()].map((s) => chain.blockAt(s + 1)).filter((b) => b !== undefined);
    expect(blocks.length).toBeGreaterThan(SLOTS / 2);
    expect(blocks.every((b) => hex(b.message.body.executionPayload.feeRecipient) === EL_VAULT)).toBe(true);
    for (const slot of [1, 40, SLOTS]) {
      const el = await received(sim, EL_VAULT, slot);
      expect(el).toEqual({
        status: 200,
        body: {
          address: EL_VAULT,
          slot: String(slot),
          receivedWei: fromBlocks(chain, EL_VAULT, slot).toString(),
        },
      });
      const w = await received(sim, VAULT, slot);
      expect(w.body.receivedWei).toBe(fromBlocks(chain, VAULT, slot).toString());
    }
    const atHead = await received(sim, VAULT);
    expect(atHead.body.slot).toBe(String(SLOTS));
    expect(BigInt(atHead.body.receivedWei ?? "0")).toBeGreaterThan(0n);
    // an address that received nothing, in upper case
    expect((await received(sim, `0x${"AB".repeat(20)}`, 5)).body).toEqual({
      address: `0x${"ab".repeat(20)}`,
      slot: "5",
      receivedWei: "0",
    });
  });

  it("two sims with the same seed give the same numbers; another seed other fees", async () => {
    const [a, b, c] = await Promise.all([start("el-2"), start("el-2"), start("el-3")]);
    for (const addr of [VAULT, EL_VAULT])
      for (const slot of [17, 63, SLOTS])
        expect((await received(a, addr, slot)).body).toEqual((await received(b, addr, slot)).body);
    expect((await received(a, EL_VAULT)).body.receivedWei).not.toBe(
      (await received(c, EL_VAULT)).body.receivedWei,
    );
  });

  it("without a mapping a validator pays its own withdrawal address; with BLS credentials the burn address", () => {
    const own = new SimChain({ fork: "deneb", validators: 16, withdrawalCredentials: wc(1, 0x11) });
    own.advanceTo(16);
    expect(own.receivedWei(VAULT, 16)).toBe(fromBlocks(own, VAULT, 16));
    expect(own.receivedWei(EL_VAULT, 16)).toBe(0n);
    const bls = new SimChain({ fork: "deneb", validators: 16 });
    bls.advanceTo(16);
    expect(bls.receivedWei(BURN_ADDRESS, 16)).toBe(fromBlocks(bls, BURN_ADDRESS, 16));
    expect(bls.receivedWei(BURN_ADDRESS, 16)).toBeGreaterThan(0n);
  });

  it("bad input is a 400 naming the field", async () => {
    const sim = sims[0]!;
    const bad = async (path: string, field: string) => {
      const res = await fetch(`${sim.url}/poolkeeper/v1/execution/balances/${path}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toMatch(new RegExp(`^${field}:`));
    };
    await bad("0x1234", "address");
    await bad(`${VAULT}?slot=${SLOTS + 1}`, "slot");
    await bad(`${VAULT}?slot=-1`, "slot");
    await bad(`${VAULT}?slot=1.5`, "slot");
    expect(() => new SimChain({ validators: 4, feeRecipients: { [VAULT]: "0x12" } })).toThrow(
      /feeRecipients/,
    );
  });
});
