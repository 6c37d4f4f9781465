/**
 * Electra and Fulu chains: the fork setting, the Electra rules (balance churn, pending deposits,
 * compounding validators) against hand-worked cases from the consensus specs, and the SSZ state of
 * each fork decoded with @lodestar/types' own type for that fork.
 */
import "./env-minimal.js";
import { getClient } from "@lodestar/api";
import type { ChainForkConfig } from "@lodestar/config";
import { ssz } from "@lodestar/types";
import { afterAll, describe, expect, it } from "vitest";
import { ElectraLedger } from "../src/electra.js";
import {
  activationExitChurnLimit,
  type BeaconSim,
  balanceChurnLimit,
  consolidationChurnLimit,
  SimChain,
  type SimFork,
  startBeaconSim,
} from "../src/index.js";
import { computeShuffledIndex, indexShuffler } from "../src/shuffle.js";
import { hex, wc } from "./bytes.js";
import { signedDeposit } from "./deposits.js";

const ETH = 1_000_000_000;
const FAR = 0xffffffff;

const sims: BeaconSim[] = [];
afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()));
});
async function start(fork: SimFork | undefined, scenario: Record<string, unknown> = {}): Promise<BeaconSim> {
  const sim = await startBeaconSim({ validators: 64, ...(fork === undefined ? {} : { fork }), scenario });
  sims.push(sim);
  return sim;
}

/** The mainnet churn parameters (config/mainnet.yaml), for hand-worked mainnet cases. */
const MAINNET_CHURN = {
  MIN_PER_EPOCH_CHURN_LIMIT_ELECTRA: 128 * ETH,
  MAX_PER_EPOCH_ACTIVATION_EXIT_CHURN_LIMIT: 256 * ETH,
  CHURN_LIMIT_QUOTIENT: 65536,
} as unknown as ChainForkConfig;

describe("sampling", () => {
  it("indexShuffler is compute_shuffled_index (pivots and source hashes cached per seed)", () => {
    const seed = new Uint8Array(32).fill(7);
    for (const n of [1, 2, 255, 256, 257, 2048, 100_003]) {
      const shuffled = indexShuffler(n, seed, 90);
      for (let i = 0; i < Math.min(n, 600); i++)
        expect(shuffled(i)).toBe(computeShuffledIndex(i, n, seed, 90));
      expect(shuffled(n - 1)).toBe(computeShuffledIndex(n - 1, n, seed, 90));
    }
  });
});

describe("balance churn (EIP-7251)", () => {
  it("churn limits at given total active balances (minimal and mainnet parameters)", () => {
    const minimal = new SimChain({ validators: 8, fork: "electra" }).config;
    // minimal: quotient 32, floor 64 ETH, activation/exit cap 128 ETH.
    expect(balanceChurnLimit(minimal, 2048 * ETH)).toBe(64 * ETH);
    expect(activationExitChurnLimit(minimal, 2048 * ETH)).toBe(64 * ETH);
    expect(consolidationChurnLimit(minimal, 2048 * ETH)).toBe(0);
    // 10,000 ETH / 32 = 312.5 ETH, rounded down to whole increments.
    expect(balanceChurnLimit(minimal, 10_000 * ETH)).toBe(312 * ETH);
    expect(activationExitChurnLimit(minimal, 10_000 * ETH)).toBe(128 * ETH);
    expect(consolidationChurnLimit(minimal, 10_000 * ETH)).toBe(184 * ETH);
    // mainnet, 1,000,000 validators of 32 ETH: 32,000,000 ETH / 65536 = 488.28 ETH → 488 ETH.
    expect(balanceChurnLimit(MAINNET_CHURN, 32_000_000 * ETH)).toBe(488 * ETH);
    expect(activationExitChurnLimit(MAINNET_CHURN, 32_000_000 * ETH)).toBe(256 * ETH);
    expect(consolidationChurnLimit(MAINNET_CHURN, 32_000_000 * ETH)).toBe(232 * ETH);
    // mainnet, 500,000 ETH: 7.6 ETH, below the 128 ETH floor.
    expect(balanceChurnLimit(MAINNET_CHURN, 500_000 * ETH)).toBe(128 * ETH);
  });

  it("compute_exit_epoch_and_update_churn: exits share an epoch until its churn is used", () => {
    const ledger = new ElectraLedger(MAINNET_CHURN, 0, FAR, () => true);
    const total = 32_000_000 * ETH; // activation/exit churn 256 ETH
    // Epoch 10: the earliest exit epoch is 10 + 1 + MAX_SEED_LOOKAHEAD (4) = 15, with 256 ETH to consume.
    expect(ledger.computeExitEpochAndUpdateChurn(32 * ETH, 10, total)).toBe(15);
    expect(ledger.exitBalanceToConsume).toBe(224 * ETH);
    for (let k = 0; k < 7; k++) expect(ledger.computeExitEpochAndUpdateChurn(32 * ETH, 10, total)).toBe(15);
    expect(ledger.exitBalanceToConsume).toBe(0);
    // The ninth 32 ETH exit of the epoch goes to epoch 16.
    expect(ledger.computeExitEpochAndUpdateChurn(32 * ETH, 10, total)).toBe(16);
    expect(ledger.exitBalanceToConsume).toBe(224 * ETH);
    // A 2048 ETH exit: 224 ETH left in 16, (2048 - 224 - 1) / 256 + 1 = 8 more epochs → 24.
    expect(ledger.computeExitEpochAndUpdateChurn(2048 * ETH, 10, total)).toBe(24);
    expect(ledger.exitBalanceToConsume).toBe((224 + 8 * 256 - 2048) * ETH);
    expect(ledger.earliestExitEpoch).toBe(24);
    // Later, once the queue is behind: a fresh epoch with its full churn.
    expect(ledger.computeExitEpochAndUpdateChurn(32 * ETH, 30, total)).toBe(35);
    expect(ledger.exitBalanceToConsume).toBe(224 * ETH);
  });

  it("scripted exits on an Electra chain: exit epochs under the 64 ETH churn of 64 validators", async () => {
    const sim = await start("electra", {
      exits: [
        { validator: 1, epoch: 4 },
        { validator: 2, epoch: 4 },
        { validator: 3, epoch: 4 },
      ],
    });
    sim.chain.advanceTo(5 * 8);
    const s5 = sim.chain.snapshot(5)?.electra;
    // Initiated at epoch 4: 4 + 1 + MAX_SEED_LOOKAHEAD = 9 for two exits (64 ETH), the third in 10.
    expect([1, 2, 3].map((i) => sim.chain.validatorAt(i, 5).exitEpoch)).toEqual([9, 9, 10]);
    expect(s5?.earliestExitEpoch).toBe(10);
    expect(s5?.exitBalanceToConsume).toBe(32 * ETH);
    expect(sim.chain.validatorAt(3, 5).withdrawableEpoch).toBe(
      10 + sim.chain.config.MIN_VALIDATOR_WITHDRAWABILITY_DELAY,
    );
    expect(sim.chain.statusAt(3, 5)).toBe("active_exiting");
    sim.chain.advanceTo(10 * 8);
    expect(sim.chain.statusAt(1, 9)).toBe("exited_unslashed");
    expect(sim.chain.statusAt(3, 9)).toBe("active_exiting");
    expect(sim.chain.statusAt(3, 10)).toBe("exited_unslashed");
  });
});

describe("pending deposits (EIP-6110 requests, applied under the churn)", () => {
  it("a deposit waits for finality, is applied under deposit_balance_to_consume, then activates with the spec's delays", async () => {
    const sim = await start("electra");
    const c = sim.chain;
    c.advanceTo(19); // epoch 2
    const added = c.addValidators(3, wc(1, 0xaa));
    expect(added).toEqual([64, 65, 66]);
    c.advanceTo(3 * 8);
    // The requests (carried by slot 20) are queued in the state of epoch 3; the validators are not in it.
    const e3 = c.snapshot(3)?.electra;
    expect(e3?.pendingDeposits.map((d) => [hex(d.pubkey), d.amount, d.slot])).toEqual(
      added.map((i) => [hex(c.pubkeyOf(i)), 32 * ETH, 20]),
    );
    expect(e3?.depositRequestsStartIndex).toBe(64);
    expect(c.countAt(3)).toBe(64);
    c.advanceTo(5 * 8);
    // Finalized epoch 3 (start slot 24 ≥ 20) at the transition into 5: 64 ETH of churn takes two.
    expect(c.finalityAt(5)?.finalized.epoch).toBe(3);
    expect(c.countAt(4)).toBe(64);
    expect(c.countAt(5)).toBe(66);
    const e5 = c.snapshot(5)?.electra;
    expect(e5?.pendingDeposits.length).toBe(1);
    expect(e5?.depositBalanceToConsume).toBe(0);
    expect(c.statusAt(64, 5)).toBe("pending_initialized");
    expect(c.validatorAt(64, 5).effectiveBalance).toBe(32 * ETH);
    expect(c.balanceAt(64, 5)).toBe(32 * ETH);
    c.advanceTo(12 * 8);
    // 6: eligible (cur + 1) and the third applied; 8: eligibility epoch 6 finalized → activation
    // 7 + 1 + MAX_SEED_LOOKAHEAD = 12.
    expect(c.countAt(6)).toBe(67);
    expect(c.validatorAt(64, 6).activationEligibilityEpoch).toBe(6);
    expect(c.statusAt(64, 6)).toBe("pending_queued");
    expect(c.validatorAt(64, 7).activationEpoch).toBe(Number.POSITIVE_INFINITY);
    expect(c.validatorAt(64, 8).activationEpoch).toBe(12);
    expect(c.validatorAt(66, 7).activationEligibilityEpoch).toBe(7);
    expect(c.validatorAt(66, 9).activationEpoch).toBe(13);
    expect(c.statusAt(64, 11)).toBe("pending_queued");
    expect(c.statusAt(64, 12)).toBe("active_ongoing");
    expect(c.isActiveAt(64, 12)).toBe(true);
    expect(c.snapshot(12)?.electra?.pendingDeposits.length).toBe(0);
  });

  it("a deposit above the churn accumulates deposit_balance_to_consume; 0x02 effective balances follow the balance up to 2048 ETH, 0x01 stay at 32", async () => {
    const sim = await start("electra", { withdrawalCredentials: hex(wc(2, 0x11)) });
    const c = sim.chain;
    c.advanceTo(19);
    const compounding = c.pubkeyOf(5).slice();
    expect(c.addValidators([compounding], undefined, 100 * ETH)).toEqual([5]);
    c.advanceTo(5 * 8);
    // 100 ETH > 64 ETH churn: nothing applied, the 64 ETH carried over.
    expect(c.snapshot(5)?.electra?.depositBalanceToConsume).toBe(64 * ETH);
    expect(c.snapshot(5)?.electra?.pendingDeposits.length).toBe(1);
    c.advanceTo(6 * 8);
    // 64 + 64 = 128 ETH available: applied at the end of epoch 5, effective balance updated in the same transition.
    expect(c.snapshot(6)?.electra?.pendingDeposits.length).toBe(0);
    expect(c.snapshot(6)?.electra?.depositBalanceToConsume).toBe(0);
    const bal = c.balanceAt(5, 6);
    expect(bal).toBeGreaterThan(132 * ETH - ETH);
    expect(c.validatorAt(5, 6).effectiveBalance).toBe(Math.floor(bal / ETH) * ETH);
    expect(c.validatorAt(5, 6).effectiveBalance).toBeGreaterThanOrEqual(131 * ETH);
    // A 2000 ETH top-up caps the effective balance at MAX_EFFECTIVE_BALANCE_ELECTRA.
    c.addValidators([compounding], undefined, 2000 * ETH);
    c.advanceTo(40 * 8);
    expect(c.validatorAt(5, 40).effectiveBalance).toBe(2048 * ETH);
    expect(c.balanceAt(5, 40)).toBeGreaterThan(2048 * ETH);
  });

  it("0x01 top-up: the effective balance stays at 32 ETH and the sweep withdraws the excess", async () => {
    const sim = await start("electra", { withdrawalCredentials: hex(wc(1, 0x22)) });
    const c = sim.chain;
    c.advanceTo(19);
    c.addValidators([c.pubkeyOf(7).slice()], undefined, 10 * ETH);
    c.advanceTo(7 * 8);
    expect(c.validatorAt(7, 6).effectiveBalance).toBe(32 * ETH);
    const withdrawn: bigint[] = [];
    for (let s = 6 * 8; s < 7 * 8; s++)
      for (const w of c.blockAt(s)?.message.body.executionPayload.withdrawals ?? [])
        if (w.validatorIndex === 7) withdrawn.push(w.amount);
    expect(withdrawn.length).toBe(1);
    expect(Number(withdrawn[0])).toBeGreaterThan(10 * ETH - ETH);
  });

  it("a second deposit to a pending key keeps the first deposit's credentials (first one wins)", async () => {
    const sim = await start("electra");
    const c = sim.chain;
    c.advanceTo(19);
    const [i] = c.addValidators(1, wc(1, 0x33));
    const pk = c.pubkeyOf(i ?? 0).slice();
    expect(c.addValidators([pk], wc(1, 0x44))).toEqual([i]);
    c.advanceTo(5 * 8);
    // Both applied at the transition into 5: the first creates the validator, the second tops it up.
    expect(hex(c.validatorAt(i ?? 0, 5).withdrawalCredentials)).toBe(hex(wc(1, 0x33)));
    expect(c.balanceAt(i ?? 0, 5)).toBe(64 * ETH);
    expect(c.validatorAt(i ?? 0, 5).effectiveBalance).toBe(32 * ETH);
  });

  it("deneb keeps whole-validator deposits; amounts are electra-only", () => {
    const c = new SimChain({ validators: 8, fork: "deneb" });
    expect(() => c.addValidators(1, undefined, 40 * ETH)).toThrow(/amount/);
    const e = new SimChain({ validators: 8, fork: "electra" });
    expect(() => e.addValidators(1, undefined, 0.5 * ETH)).toThrow(/amount/);
    expect(() => new SimChain({ validators: 8, scenario: { fork: "capella" } })).toThrow(/scenario\.fork/);
  });

  it("chains start at fulu unless told otherwise (option over scenario)", () => {
    expect(new SimChain({ validators: 8 }).fork).toBe("fulu");
    expect(new SimChain({ validators: 8 }).config.getForkName(0)).toBe("fulu");
    expect(new SimChain({ validators: 8, scenario: { fork: "deneb" } }).fork).toBe("deneb");
    expect(new SimChain({ validators: 8, fork: "electra", scenario: { fork: "deneb" } }).fork).toBe(
      "electra",
    );
  });
});

describe("deposit signatures (apply_pending_deposit: is_valid_deposit_signature)", () => {
  it("a new key's deposit with an invalid signature is dropped after consuming churn; a valid one adds the validator; a top-up needs no signature", async () => {
    const sim = await start("fulu");
    const c = sim.chain;
    c.advanceTo(19);
    const valid = signedDeposit(c, 100, wc(1, 0x31), 32 * ETH);
    // Signed by another key: no validator comes of it, so it holds no index.
    const forged = { ...signedDeposit(c, 101, wc(1, 0x32), 32 * ETH), signature: valid.signature };
    const third = signedDeposit(c, 102, wc(1, 0x33), 32 * ETH);
    expect(c.isValidDepositSignature({ ...forged, amount: forged.amountGwei })).toBe(false);
    expect(c.requestDeposit(forged)).toBeUndefined();
    expect(c.requestDeposit(valid)).toBe(64);
    expect(c.requestDeposit(third)).toBe(65);
    // A top-up of genesis validator 3 with a signature that verifies for nothing: credited all the same.
    const topUp = { pubkey: c.pubkeyOf(3).slice(), withdrawalCredentials: wc(1, 0x34), amountGwei: ETH };
    expect(c.requestDeposit({ ...topUp, signature: valid.signature })).toBe(3);
    c.advanceTo(3 * 8);
    expect(c.snapshot(3)?.electra?.pendingDeposits.map((d) => hex(d.pubkey))).toEqual(
      [forged, valid, third, topUp].map((d) => hex(d.pubkey)),
    );
    const before3 = c.balanceAt(3, 3);
    c.advanceTo(5 * 8);
    // At the transition into 5 (slot 20 finalized), 64 validators of 32 ETH: 64 ETH of churn. The
    // forged deposit takes 32 ETH of it and is dropped; the valid one takes the rest and adds 64.
    expect(c.countAt(5)).toBe(65);
    expect(hex(c.validatorAt(64, 5).pubkey)).toBe(hex(valid.pubkey));
    expect(hex(c.validatorAt(64, 5).withdrawalCredentials)).toBe(hex(wc(1, 0x31)));
    expect(c.balanceAt(64, 5)).toBe(32 * ETH);
    expect(c.indexOfPubkey(forged.pubkey)).toBe(-1);
    expect(c.snapshot(5)?.electra?.pendingDeposits.map((d) => hex(d.pubkey))).toEqual(
      [third, topUp].map((d) => hex(d.pubkey)),
    );
    c.advanceTo(6 * 8);
    expect(c.countAt(6)).toBe(66);
    expect(hex(c.validatorAt(65, 6).pubkey)).toBe(hex(third.pubkey));
    expect(c.snapshot(6)?.electra?.pendingDeposits).toEqual([]);
    // The top-up (1 ETH) was credited at the transition into 6, on top of validator 3's rewards
    // over three epochs (a few thousandths of an ETH).
    expect(c.balanceAt(3, 6) - before3).toBeGreaterThan(ETH);
    expect(c.balanceAt(3, 6) - before3).toBeLessThan(ETH + ETH / 100);
    expect(hex(c.validatorAt(3, 6).withdrawalCredentials)).toBe(hex(c.withdrawalCredentialsOf(3)));
  });

  it("front-running: a front-run deposit with a valid signature and other credentials wins; one with an invalid signature is dropped and the next deposit's credentials win", async () => {
    const sim = await start("fulu");
    const c = sim.chain;
    c.advanceTo(19);
    const pool = wc(1, 0x50);
    const attacker = wc(1, 0x66);
    // Key 100: the front-runner (who holds the key) deposits 1 ETH first with its own credentials.
    const frontRun = signedDeposit(c, 100, attacker, ETH);
    const poolDeposit = signedDeposit(c, 100, pool, 32 * ETH);
    expect(c.requestDeposit(frontRun)).toBe(64);
    expect(c.requestDeposit(poolDeposit)).toBe(64);
    // Key 101: a front-run without the key (the pool's signature over other credentials) is dropped.
    const poolDeposit2 = signedDeposit(c, 101, pool, 32 * ETH);
    const forged = { ...poolDeposit2, withdrawalCredentials: attacker, amountGwei: ETH };
    expect(c.requestDeposit(forged)).toBeUndefined();
    expect(c.requestDeposit(poolDeposit2)).toBe(65);
    c.advanceTo(5 * 8);
    // Key 100, at the transition into 5: the front-runner's deposit adds the validator with its
    // credentials, the pool's 32 ETH is a top-up to it (1 + 32 + 1 forged = 34 ETH of the 64 ETH
    // churn; the pool's second deposit no longer fits and waits).
    expect(hex(c.validatorAt(64, 5).withdrawalCredentials)).toBe(hex(attacker));
    expect(c.balanceAt(64, 5)).toBe(33 * ETH);
    expect(c.countAt(5)).toBe(65);
    c.advanceTo(7 * 8);
    expect(c.snapshot(7)?.electra?.pendingDeposits).toEqual([]);
    expect(hex(c.validatorAt(64, 7).withdrawalCredentials)).toBe(hex(attacker));
    // Key 101: the pool's credentials and amount; the forged deposit's 1 ETH went nowhere.
    expect(hex(c.validatorAt(65, 7).pubkey)).toBe(hex(poolDeposit2.pubkey));
    expect(hex(c.validatorAt(65, 7).withdrawalCredentials)).toBe(hex(pool));
    expect(c.balanceAt(65, 7)).toBe(32 * ETH);
    expect(c.countAt(7)).toBe(66);
  });
});

describe("the state of each fork over HTTP", () => {
  for (const fork of ["deneb", "electra", "fulu"] as const) {
    it(`${fork}: SSZ state with Eth-Consensus-Version ${fork}, decoded with ssz.${fork}.BeaconState`, async () => {
      const sim = await start(fork);
      const c = sim.chain;
      c.advanceTo(19);
      c.addValidators(2, wc(1, 0x55));
      c.advanceTo(3 * 8 + 2);
      const res = await fetch(`${sim.url}/eth/v2/debug/beacon/states/head`, {
        headers: { accept: "application/octet-stream" },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("eth-consensus-version")).toBe(fork);
      const bytes = new Uint8Array(await res.arrayBuffer());
      const api = getClient({ baseUrl: sim.url }, { config: c.config });
      const viaClient = await api.debug.getStateV2(
        { stateId: "head" },
        { responseWireFormat: "ssz" as never },
      );
      expect(viaClient.meta().version).toBe(fork);
      expect(Buffer.from(viaClient.ssz()).equals(Buffer.from(bytes))).toBe(true);
      const version = {
        deneb: c.config.DENEB_FORK_VERSION,
        electra: c.config.ELECTRA_FORK_VERSION,
        fulu: c.config.FULU_FORK_VERSION,
      }[fork];
      const schedule = (await api.config.getForkSchedule()).value();
      expect(hex(schedule[schedule.length - 1]?.currentVersion ?? new Uint8Array())).toBe(hex(version));
      expect(schedule.length).toBe({ deneb: 5, electra: 6, fulu: 7 }[fork]);
      expect(hex((await api.beacon.getStateFork({ stateId: "head" })).value().currentVersion)).toBe(
        hex(version),
      );
      if (fork === "deneb") {
        const state = ssz.deneb.BeaconState.deserialize(bytes);
        expect(hex(state.fork.currentVersion)).toBe(hex(version));
        expect(state.validators.length).toBe(66);
        expect(() => ssz.electra.BeaconState.deserialize(bytes)).toThrow();
        return;
      }
      const state =
        fork === "fulu"
          ? ssz.fulu.BeaconState.deserialize(bytes)
          : ssz.electra.BeaconState.deserialize(bytes);
      expect(ssz[fork].BeaconState.serialize(state as never)).toEqual(bytes);
      expect(hex(state.fork.currentVersion)).toBe(hex(version));
      expect(hex(state.fork.previousVersion)).toBe(hex(version));
      expect(state.slot).toBe(26);
      expect(state.validators.length).toBe(64);
      expect(state.eth1DepositIndex).toBe(64);
      expect(state.depositRequestsStartIndex).toBe(64n);
      expect(
        state.pendingDeposits.map((d) => [hex(d.pubkey), hex(d.withdrawalCredentials), d.amount, d.slot]),
      ).toEqual([64, 65].map((i) => [hex(c.pubkeyOf(i)), hex(wc(1, 0x55)), 32 * ETH, 20]));
      expect(state.depositBalanceToConsume).toBe(0n);
      expect(state.exitBalanceToConsume).toBe(0n);
      expect(state.earliestExitEpoch).toBe(0);
      expect(state.pendingPartialWithdrawals).toEqual([]);
      expect(state.pendingConsolidations).toEqual([]);
      if (fork === "fulu") {
        const lookahead = (state as ReturnType<typeof ssz.fulu.BeaconState.deserialize>).proposerLookahead;
        const duties = [3, 4].flatMap((e) => Array.from(c.proposersOf(e)));
        expect(lookahead).toEqual(duties);
      }
    });
  }

  it("the genesis state of a Fulu chain: deposit_requests_start_index unset, the lookahead of epochs 0 and 1", async () => {
    const sim = await start("fulu");
    const api = getClient({ baseUrl: sim.url }, { config: sim.chain.config });
    const bytes = (
      await api.debug.getStateV2({ stateId: "genesis" }, { responseWireFormat: "ssz" as never })
    ).ssz();
    const state = ssz.fulu.BeaconState.deserialize(bytes);
    expect(state.depositRequestsStartIndex).toBe(2n ** 64n - 1n);
    expect(state.proposerLookahead).toEqual([0, 1].flatMap((e) => Array.from(sim.chain.proposersOf(e))));
  });
});

describe("Electra and Fulu state routes over HTTP (@lodestar/api client)", () => {
  it("pending_deposits, pending_partial_withdrawals, pending_consolidations: data and meta as Lodestar answers (JSON and SSZ)", async () => {
    const sim = await start("electra");
    const c = sim.chain;
    c.advanceTo(19);
    c.addValidators(3, wc(1, 0x66));
    c.advanceTo(5 * 8 + 1);
    const api = getClient({ baseUrl: sim.url }, { config: c.config });
    const head = await api.beacon.getPendingDeposits({ stateId: "head" });
    expect(head.meta()).toEqual({ version: "electra", executionOptimistic: false, finalized: false });
    // At epoch 5 two of the three were applied (64 ETH churn): the third is still queued.
    expect(head.value().map((d) => [hex(d.pubkey), hex(d.withdrawalCredentials), d.amount, d.slot])).toEqual([
      [hex(c.pubkeyOf(66)), hex(wc(1, 0x66)), 32 * ETH, 20],
    ]);
    const sszAnswer = await api.beacon.getPendingDeposits(
      { stateId: 24 },
      { responseWireFormat: "ssz" as never },
    );
    expect(sszAnswer.value().length).toBe(3);
    expect(sszAnswer.meta().version).toBe("electra");
    const fin = await api.beacon.getPendingDeposits({ stateId: "finalized" });
    expect(fin.meta().finalized).toBe(true);
    for (const get of [api.beacon.getPendingPartialWithdrawals, api.beacon.getPendingConsolidations]) {
      const r = await get({ stateId: "head" });
      expect(r.value()).toEqual([]);
      expect(r.meta()).toEqual({ version: "electra", executionOptimistic: false, finalized: false });
    }
    // The wire JSON of the Beacon API spec.
    const raw = (await (
      await fetch(`${sim.url}/eth/v1/beacon/states/head/pending_deposits`)
    ).json()) as Record<string, unknown>;
    expect(raw).toEqual({
      version: "electra",
      execution_optimistic: false,
      finalized: false,
      data: [
        {
          pubkey: hex(c.pubkeyOf(66)),
          withdrawal_credentials: hex(wc(1, 0x66)),
          amount: "32000000000",
          signature: hex(c.signature),
          slot: "20",
        },
      ],
    });
    // Errors as for the other state routes: unknown state 404, malformed id 400; the lookahead is Fulu's.
    expect((await fetch(`${sim.url}/eth/v1/beacon/states/999/pending_deposits`)).status).toBe(404);
    expect((await fetch(`${sim.url}/eth/v1/beacon/states/bad/pending_consolidations`)).status).toBe(400);
    const lookahead = await fetch(`${sim.url}/eth/v1/beacon/states/head/proposer_lookahead`);
    expect(lookahead.status).toBe(400);
    expect(((await lookahead.json()) as { message: string }).message).toBe(
      "Cannot retrieve proposer lookahead for pre-fulu state fork=electra",
    );
    // A validator whose deposit is still queued is not in the state yet.
    const queued = await api.beacon.getStateValidator({ stateId: "head", validatorId: 66 });
    expect(queued.status).toBe(404);
    expect((await api.beacon.getStateValidator({ stateId: "head", validatorId: 65 })).value().status).toBe(
      "pending_initialized",
    );
  });

  it("deneb: the Electra routes answer 400 as Lodestar does for a pre-electra state", async () => {
    const sim = await start("deneb");
    for (const [path, what] of [
      ["pending_deposits", "pending deposits"],
      ["pending_partial_withdrawals", "pending partial withdrawals"],
      ["pending_consolidations", "pending consolidations"],
    ] as const) {
      const res = await fetch(`${sim.url}/eth/v1/beacon/states/head/${path}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toBe(
        `Cannot retrieve ${what} for pre-electra state fork=deneb`,
      );
    }
    expect((await fetch(`${sim.url}/eth/v1/beacon/states/head/proposer_lookahead`)).status).toBe(400);
  });

  it("fulu: proposer_lookahead is the proposer duties of the state's epoch and the next", async () => {
    const sim = await start("fulu", { behaviours: [{ validators: "60-63", behaviour: "offline" }] });
    const c = sim.chain;
    c.advanceTo(6 * 8 + 5);
    const api = getClient({ baseUrl: sim.url }, { config: c.config });
    const r = await api.beacon.getProposerLookahead({ stateId: "head" });
    expect(r.meta()).toEqual({ version: "fulu", executionOptimistic: false, finalized: false });
    const fromDuties: number[] = [];
    for (const epoch of [6, 7])
      for (const d of (await api.validator.getProposerDuties({ epoch })).value())
        fromDuties.push(d.validatorIndex);
    expect(r.value()).toEqual(fromDuties);
    // The state of an older slot carries that epoch's lookahead; the SSZ answer is the same list.
    const old = await api.beacon.getProposerLookahead(
      { stateId: 3 * 8 + 1 },
      { responseWireFormat: "ssz" as never },
    );
    expect(old.value()).toEqual([3, 4].flatMap((e) => Array.from(c.proposersOf(e))));
    expect(old.meta().finalized).toBe(true);
    // Every canonical block's proposer is the lookahead's.
    for (let s = 6 * 8 + 1; s <= 6 * 8 + 5; s++) {
      const b = c.blockAt(s);
      if (b !== undefined) expect(b.message.proposerIndex).toBe(fromDuties[s - 6 * 8]);
    }
  });
});

describe("Electra blocks (v2 block routes)", () => {
  it("blocks in Electra form: committee_bits aggregates, deposit requests in execution_requests, roots of the electra type", async () => {
    const sim = await start("fulu", { behaviours: [{ validators: "56-63", behaviour: "wrong-head" }] });
    const c = sim.chain;
    c.advanceTo(19);
    c.addValidators(2, wc(1, 0x77));
    c.advanceTo(4 * 8);
    const api = getClient({ baseUrl: sim.url }, { config: c.config });
    // Slot 20 carries the two deposit requests, with the deposit contract's indices after genesis.
    const b20 = await api.beacon.getBlockV2({ blockId: 20 });
    expect(b20.meta().version).toBe("fulu");
    const m20 = b20.value().message as import("@lodestar/types").electra.BeaconBlock;
    expect(m20.body.executionRequests.deposits.map((d) => [hex(d.pubkey), d.amount, d.index])).toEqual([
      [hex(c.pubkeyOf(64)), 32 * ETH, 64n],
      [hex(c.pubkeyOf(65)), 32 * ETH, 65n],
    ]);
    expect(m20.body.executionRequests.withdrawals).toEqual([]);
    const header = (await api.beacon.getBlockHeader({ blockId: 20 })).value();
    expect(hex(ssz.electra.BeaconBlock.hashTreeRoot(m20))).toBe(hex(header.root));
    const sszBlock = await api.beacon.getBlockV2({ blockId: 20 }, { responseWireFormat: "ssz" as never });
    expect(hex(ssz.electra.BeaconBlock.hashTreeRoot(sszBlock.value().message as never))).toBe(
      hex(header.root),
    );
    // Attestations: one aggregate per slot and vote across the slot's committees, data.index 0.
    for (let s = 9; s < 4 * 8; s++) {
      const b = c.blockAt(s);
      if (b === undefined) continue;
      const atts = (
        await api.beacon.getBlockAttestationsV2({ blockId: s })
      ).value() as import("@lodestar/types").electra.Attestation[];
      expect(atts.length).toBeLessThanOrEqual(8);
      const seen = new Set<string>();
      for (const a of atts) {
        expect(a.data.index).toBe(0);
        const committees = a.committeeBits.getTrueBitIndexes();
        expect(committees.length).toBeGreaterThan(0);
        const size = committees.reduce((t, ci) => t + c.committee(a.data.slot, ci).length, 0);
        expect(a.aggregationBits.bitLen).toBe(size);
        const key = `${a.data.slot}:${hex(a.data.beaconBlockRoot)}:${hex(a.data.target.root)}`;
        expect(seen.has(key)).toBe(false);
        seen.add(key);
      }
    }
    // Everyone but the wrong-head votes earns the head flag; finality goes on as on deneb.
    const flags = c.participationFlags(2);
    expect(flags?.[0]).toBe(7);
    expect(flags?.[60]).toBe(3);
    expect(c.finalityAt(4)?.finalized.epoch).toBe(2);
  });
});

describe("execution-layer consolidation requests (EIP-7251)", () => {
  it("switch to compounding, then consolidations under the 128 ETH consolidation churn of 8192 ETH; pending_consolidations moves the balance once the source is withdrawable", async () => {
    // 256 validators of 32 ETH (minimal): balance churn max(64, 8192 / 32) = 256 ETH, activation/exit
    // churn min(128, 256) = 128 ETH, so the consolidation churn is 256 - 128 = 128 ETH (> 32 ETH).
    const A = wc(1, 0xaa);
    const other = new Uint8Array(20).fill(0x99);
    const sim = await startBeaconSim({
      validators: 256,
      fork: "fulu",
      scenario: {
        withdrawalCredentials: hex(A),
        // A deposit request in the first block of epoch 2 (slot 16, finalized at the transition
        // into 4) holds the deposit queue: the switches' excess balances wait behind it, in view.
        deposits: [{ epoch: 2, count: 1, withdrawalCredentials: hex(A) }],
        consolidationRequests: [
          { source: 40, target: 40, epoch: 2 },
          { source: 41, target: 41, epoch: 2 },
          { source: 30, target: 40, epoch: 4 },
          { source: 31, target: 40, epoch: 4 },
          { source: 32, target: 41, epoch: 4 },
          { source: 33, target: 41, epoch: 4 },
          { source: 34, target: 41, epoch: 4 },
          { source: 35, target: 36, epoch: 4 }, // target 0x01: dropped
          { source: 37, target: 40, epoch: 4, sourceAddress: hex(other) }, // not its address: dropped
          { source: 40, target: 40, epoch: 4 }, // already 0x02: neither a switch nor a consolidation
        ],
      },
    });
    sims.push(sim);
    const c = sim.chain;
    const ETHS = (n: number) => n * ETH;
    c.advanceTo(3 * 8);
    const b16 = c.blockAt(16)?.message.body as import("@lodestar/types").electra.BeaconBlockBody;
    expect(
      b16.executionRequests.consolidations.map((r) => [hex(r.sourcePubkey), hex(r.targetPubkey)]),
    ).toEqual([
      [hex(c.pubkeyOf(40)), hex(c.pubkeyOf(40))],
      [hex(c.pubkeyOf(41)), hex(c.pubkeyOf(41))],
    ]);
    // switch_to_compounding_validator: 0x02 with the same address; queue_excess_active_balance: the
    // balance above 32 ETH at the block becomes a pending deposit (G2 infinity, GENESIS_SLOT).
    const compounding = wc(2, 0xaa);
    const e3 = c.snapshot(3)?.electra;
    expect(
      e3?.pendingDeposits.map((d) => [hex(d.pubkey), hex(d.withdrawalCredentials), hex(d.signature), d.slot]),
    ).toEqual([
      [hex(c.pubkeyOf(256)), hex(A), hex(c.signature), 16],
      [hex(c.pubkeyOf(40)), hex(compounding), `0xc0${"00".repeat(95)}`, 0],
      [hex(c.pubkeyOf(41)), hex(compounding), `0xc0${"00".repeat(95)}`, 0],
    ]);
    for (const [k, v] of [40, 41].entries()) {
      expect(hex(c.validatorAt(v, 3).withdrawalCredentials)).toBe(hex(compounding));
      // what the block found above 32 ETH: the balance at the epoch's start, its sync reward in
      // slot 16, minus what the sweep of slot 16 withdrew from it (it proposes no block there)
      expect(c.proposerAt(16)).not.toBe(v);
      const sync = c.syncRewardsOfBlock(16)?.find((r) => r.validatorIndex === v)?.reward ?? 0;
      const swept = b16.executionPayload.withdrawals
        .filter((w) => w.validatorIndex === v)
        .reduce((t, w) => t + Number(w.amount), 0);
      expect(e3?.pendingDeposits[k + 1]?.amount).toBe(c.balanceAt(v, 2) + sync - swept - ETHS(32));
    }
    c.advanceTo(5 * 8);
    expect(c.snapshot(5)?.electra?.pendingDeposits).toEqual([]);

    // Epoch 4, 8 requests, 2 per block (slots 32..35). compute_consolidation_epoch_and_update_churn:
    // earliest max(0, 4 + 1 + 4) = 9 with 128 ETH; four 32 ETH sources fill epoch 9, the fifth
    // needs (32 - 0 - 1) // 128 + 1 = 1 more epoch: 10, leaving 128 - 32 = 96 ETH.
    for (const slot of [32, 33, 34, 35]) {
      const body = c.blockAt(slot)?.message.body as import("@lodestar/types").electra.BeaconBlockBody;
      expect(body.executionRequests.consolidations.length).toBe(2);
    }
    const delay = c.config.MIN_VALIDATOR_WITHDRAWABILITY_DELAY; // 256
    expect([30, 31, 32, 33, 34].map((i) => c.validatorAt(i, 5).exitEpoch)).toEqual([9, 9, 9, 9, 10]);
    expect([30, 31, 32, 33, 34].map((i) => c.validatorAt(i, 5).withdrawableEpoch)).toEqual(
      [9, 9, 9, 9, 10].map((e) => e + delay),
    );
    const e5 = c.snapshot(5)?.electra;
    expect(e5?.earliestConsolidationEpoch).toBe(10);
    expect(e5?.consolidationBalanceToConsume).toBe(ETHS(96));
    const pairs = [
      [30, 40],
      [31, 40],
      [32, 41],
      [33, 41],
      [34, 41],
    ];
    expect(e5?.pendingConsolidations.map((p) => [p.sourceIndex, p.targetIndex])).toEqual(pairs);
    expect([35, 36, 37, 40].map((i) => c.statusAt(i, 5))).toEqual(Array(4).fill("active_ongoing"));
    expect(c.statusAt(30, 5)).toBe("active_exiting");
    // Over HTTP as Lodestar answers it.
    const api = getClient({ baseUrl: sim.url }, { config: c.config });
    const served = await api.beacon.getPendingConsolidations({ stateId: "head" });
    expect(served.value().map((p) => [p.sourceIndex, p.targetIndex])).toEqual(pairs);
    // The SSZ state of the fork carries them (decoded with @lodestar/types' own type).
    const sszState = await fetch(`${sim.url}/eth/v2/debug/beacon/states/head`, {
      headers: { accept: "application/octet-stream" },
    });
    expect(sszState.headers.get("eth-consensus-version")).toBe("fulu");
    const state = ssz.fulu.BeaconState.deserialize(new Uint8Array(await sszState.arrayBuffer()));
    expect(state.pendingConsolidations.map((p) => [p.sourceIndex, p.targetIndex])).toEqual(pairs);
    expect(state.earliestConsolidationEpoch).toBe(10);
    expect(state.consolidationBalanceToConsume).toBe(BigInt(ETHS(96)));
    expect(state.validators[30]?.exitEpoch).toBe(9);
    const raw = (await (
      await fetch(`${sim.url}/eth/v1/beacon/states/head/pending_consolidations`)
    ).json()) as {
      data: unknown[];
    };
    expect(raw.data[0]).toEqual({ source_index: "30", target_index: "40" });

    // process_pending_consolidations at the transition into 265 (next epoch 265 = the first four's
    // withdrawable epoch): min(balance, effective balance) of each source moves to its target (an
    // exited source's balance no longer changes: no duties, and the 0x01 sweep leaves it at most
    // 32 ETH); the fifth (withdrawable 266) stops the queue.
    c.advanceTo((9 + delay + 2) * 8);
    const w = 9 + delay;
    expect(c.snapshot(w - 1)?.electra?.pendingConsolidations.length).toBe(5);
    expect(c.snapshot(w)?.electra?.pendingConsolidations.map((p) => [p.sourceIndex, p.targetIndex])).toEqual([
      [34, 41],
    ]);
    const moved = (i: number) => Math.min(c.balanceAt(i, w - 1), c.validatorAt(i, w - 1).effectiveBalance);
    for (const i of [30, 31, 32, 33]) {
      expect(c.validatorAt(i, w - 1).effectiveBalance).toBe(ETHS(32));
      expect(moved(i)).toBeGreaterThan(ETHS(31));
      expect(c.balanceAt(i, w)).toBe(c.balanceAt(i, w - 1) - moved(i));
      expect(c.statusAt(i, w)).toBe(c.balanceAt(i, w) === 0 ? "withdrawal_done" : "withdrawal_possible");
    }
    for (const [target, sources] of [
      [40, [30, 31]],
      [41, [32, 33]],
    ] as const) {
      // the sources' balances and one epoch's rewards of the target's own (a few thousandths of an ETH)
      const own = c.balanceAt(target, w) - c.balanceAt(target, w - 1) - moved(sources[0]) - moved(sources[1]);
      expect(own).toBeGreaterThanOrEqual(0);
      expect(own).toBeLessThan(ETH / 100);
      // process_effective_balance_updates in the same transition: 0x02, so up to 2048 ETH
      const bal = c.balanceAt(target, w);
      expect(c.validatorAt(target, w).effectiveBalance).toBe(bal - (bal % ETH));
      expect(c.validatorAt(target, w).effectiveBalance).toBeGreaterThanOrEqual(ETHS(95));
    }
    expect(c.snapshot(w + 1)?.electra?.pendingConsolidations).toEqual([]);
    expect(c.balanceAt(41, w + 1) - c.balanceAt(41, w)).toBeGreaterThanOrEqual(moved(34));
    expect(c.validatorAt(41, w + 1).effectiveBalance).toBeGreaterThanOrEqual(ETHS(127));
  });
});

describe("v2 attestation routes per fork (@lodestar/api client)", () => {
  for (const fork of ["deneb", "electra", "fulu"] as const) {
    it(`${fork}: blocks/{id}/attestations v2 in the fork's form, with Eth-Consensus-Version ${fork} (JSON and SSZ)`, async () => {
      const sim = await start(fork);
      const c = sim.chain;
      c.advanceTo(3 * 8);
      const api = getClient({ baseUrl: sim.url }, { config: c.config });
      const slot = 18;
      expect(c.blockAt(slot)).toBeDefined();
      const json = await api.beacon.getBlockAttestationsV2({ blockId: slot });
      expect(json.meta().version).toBe(fork);
      // SSZ: the client picks the type from the Eth-Consensus-Version header (electra.Attestations
      // from Electra on, phase0.Attestations before), so a wrong header would not decode.
      const bin = await api.beacon.getBlockAttestationsV2(
        { blockId: slot },
        {
          responseWireFormat: "ssz" as never,
        },
      );
      expect(bin.meta().version).toBe(fork);
      const atts = json.value();
      expect(atts.length).toBeGreaterThan(0);
      expect(bin.value()).toEqual(atts);
      const raw = await fetch(`${sim.url}/eth/v2/beacon/blocks/${slot}/attestations`);
      expect(raw.headers.get("eth-consensus-version")).toBe(fork);
      const wire = (await raw.json()) as { version: string; data: Array<Record<string, unknown>> };
      expect(wire.version).toBe(fork);
      for (const [k, a] of atts.entries()) {
        const committeesPerSlot = c.committeesPerSlot(c.epochOf(a.data.slot));
        if (fork === "deneb") {
          // phase0 form: one committee per attestation, named by data.index; no committee_bits.
          expect("committeeBits" in a).toBe(false);
          expect(Object.keys(wire.data[k] ?? {}).sort()).toEqual(["aggregation_bits", "data", "signature"]);
          expect(a.data.index).toBeLessThan(committeesPerSlot);
          expect(a.aggregationBits.bitLen).toBe(c.committee(a.data.slot, a.data.index).length);
        } else {
          // EIP-7549: committee_bits name the committees, aggregation bits run over them in order.
          const e = a as import("@lodestar/types").electra.Attestation;
          expect(Object.keys(wire.data[k] ?? {}).sort()).toEqual([
            "aggregation_bits",
            "committee_bits",
            "data",
            "signature",
          ]);
          expect(e.data.index).toBe(0);
          const committees = e.committeeBits.getTrueBitIndexes();
          expect(committees.length).toBeGreaterThan(0);
          expect(Math.max(...committees)).toBeLessThan(committeesPerSlot);
          const size = committees.reduce((t, ci) => t + c.committee(e.data.slot, ci).length, 0);
          expect(e.aggregationBits.bitLen).toBe(size);
        }
      }
    });
  }
});

describe("pool attestations v2 per fork (@lodestar/api client)", () => {
  for (const fork of ["deneb", "fulu"] as const) {
    it(`${fork}: pool/attestations v2 lists the aggregates seen by the head, per committee, in the fork's form, with Eth-Consensus-Version ${fork}`, async () => {
      const sim = await start(fork, {
        behaviours: [{ validators: "0-63", behaviour: "late", delay: 2, from: 2 }],
      });
      const c = sim.chain;
      c.advanceTo(20);
      const api = getClient({ baseUrl: sim.url }, { config: c.config });
      // everyone attests 2 slots late from epoch 2: at head 20 the votes of slot 19 are in the
      // pool (includable from 21), those of 20 not yet (from 22)
      const all = await api.beacon.getPoolAttestationsV2({});
      expect(all.meta().version).toBe(fork);
      const atts = all.value();
      expect(atts.length).toBe(c.committeesPerSlot(2));
      expect(new Set(atts.map((a) => a.data.slot))).toEqual(new Set([19]));
      expect((await api.beacon.getPoolAttestationsV2({ slot: 20 })).value()).toEqual([]);
      const committeeOf = (a: (typeof atts)[number]) =>
        fork === "deneb"
          ? a.data.index
          : (a as import("@lodestar/types").electra.Attestation).committeeBits.getTrueBitIndexes()[0];
      expect(atts.map(committeeOf).sort()).toEqual([...Array(c.committeesPerSlot(2)).keys()]);
      for (const a of atts) {
        const committee = c.committee(19, committeeOf(a) ?? -1);
        expect(a.aggregationBits.bitLen).toBe(committee.length);
        expect(a.aggregationBits.getTrueBitIndexes().length).toBe(committee.length);
        if (fork === "deneb") expect("committeeBits" in a).toBe(false);
        else {
          expect(a.data.index).toBe(0);
          expect(
            (a as import("@lodestar/types").electra.Attestation).committeeBits.getTrueBitIndexes().length,
          ).toBe(1);
        }
      }
      const one = (await api.beacon.getPoolAttestationsV2({ slot: 19, committeeIndex: 1 })).value();
      expect(one.map(committeeOf)).toEqual([1]);
      const raw = await fetch(`${sim.url}/eth/v2/beacon/pool/attestations?slot=19`);
      expect(raw.headers.get("eth-consensus-version")).toBe(fork);
      const wire = (await raw.json()) as { version: string; data: Array<Record<string, unknown>> };
      expect(wire.version).toBe(fork);
      expect("committee_bits" in (wire.data[0] ?? {})).toBe(fork !== "deneb");
    });
  }
});

describe("execution-layer withdrawal requests (EIP-7002)", () => {
  it("a full exit asked by the withdrawal address: carried by the next block, exit under the balance churn; others dropped", async () => {
    const sim = await start("electra", { withdrawalCredentials: hex(wc(1, 0x88)) });
    const c = sim.chain;
    c.advanceTo(19);
    c.requestWithdrawal(4);
    c.requestWithdrawal(5, { sourceAddress: new Uint8Array(20).fill(0x99) }); // not its address
    c.advanceTo(3 * 8);
    const body20 = c.blockAt(20)?.message.body as
      | import("@lodestar/types").electra.BeaconBlockBody
      | undefined;
    const requests = body20?.executionRequests.withdrawals ?? [];
    expect(requests.map((r) => [hex(r.validatorPubkey), hex(r.sourceAddress), r.amount])).toEqual([
      [hex(c.pubkeyOf(4)), hex(wc(1, 0x88).subarray(12)), 0n],
      [hex(c.pubkeyOf(5)), hex(new Uint8Array(20).fill(0x99)), 0n],
    ]);
    // Processed in epoch 2: exit epoch 2 + 1 + MAX_SEED_LOOKAHEAD = 7, 32 of the 64 ETH churn used.
    expect(c.validatorAt(4, 3).exitEpoch).toBe(7);
    expect(c.statusAt(4, 3)).toBe("active_exiting");
    expect(c.validatorAt(5, 3).exitEpoch).toBe(Number.POSITIVE_INFINITY);
    expect(c.snapshot(3)?.electra?.earliestExitEpoch).toBe(7);
    expect(c.snapshot(3)?.electra?.exitBalanceToConsume).toBe(32 * ETH);
    // BLS (0x00) credentials cannot be exited from the execution layer; deneb has no such requests.
    const bls = await start("electra");
    bls.chain.advanceTo(19);
    bls.chain.requestWithdrawal(4);
    bls.chain.advanceTo(3 * 8);
    expect(bls.chain.validatorAt(4, 3).exitEpoch).toBe(Number.POSITIVE_INFINITY);
    expect(() => new SimChain({ validators: 8, fork: "deneb" }).requestWithdrawal(1)).toThrow(
      /electra or fulu/,
    );
    expect(
      () =>
        new SimChain({
          validators: 8,
          fork: "deneb",
          scenario: { withdrawalRequests: [{ validator: 1, epoch: 2 }] },
        }),
    ).toThrow(/scenario\.withdrawalRequests/);
    expect(() => new SimChain({ validators: 8, fork: "deneb" }).requestConsolidation(1, 2)).toThrow(
      /^consolidation request: needs an electra or fulu chain/,
    );
    expect(
      () =>
        new SimChain({
          validators: 8,
          fork: "deneb",
          scenario: { consolidationRequests: [{ source: 1, target: 2, epoch: 2 }] },
        }),
    ).toThrow(/^scenario\.consolidationRequests: need an electra or fulu chain/);
    expect(() => new SimChain({ validators: 8 }).requestConsolidation(1, 8)).toThrow(/^target: /);
  });

  it("a partial withdrawal of a 0x02 validator: queued in pending_partial_withdrawals under the exit churn, then paid by the sweep", async () => {
    const sim = await startBeaconSim({
      validators: 16,
      fork: "electra",
      scenario: { withdrawalCredentials: hex(wc(2, 0xab)) },
    });
    sims.push(sim);
    const c = sim.chain;
    c.advanceTo(19);
    c.addValidators([c.pubkeyOf(6).slice()], undefined, 10 * ETH); // applied in the state of 5
    c.advanceTo(5 * 8 + 3);
    expect(c.balanceAt(6, 5)).toBeGreaterThanOrEqual(42 * ETH);
    c.requestWithdrawal(6, { amountGwei: 5 * ETH });
    c.requestWithdrawal(6); // a full exit while a partial is pending: dropped
    c.advanceTo(6 * 8);
    // Processed at slot 44 (epoch 5): exit queue epoch 5 + 1 + 4 = 10, 5 of its 64 ETH used;
    // withdrawable MIN_VALIDATOR_WITHDRAWABILITY_DELAY later.
    const delay = c.config.MIN_VALIDATOR_WITHDRAWABILITY_DELAY;
    const e6 = c.snapshot(6)?.electra;
    expect(e6?.pendingPartialWithdrawals).toEqual([
      { validatorIndex: 6, amount: 5 * ETH, withdrawableEpoch: 10 + delay },
    ]);
    expect(e6?.earliestExitEpoch).toBe(10);
    expect(e6?.exitBalanceToConsume).toBe(59 * ETH);
    expect(c.validatorAt(6, 6).exitEpoch).toBe(Number.POSITIVE_INFINITY);
    const api = getClient({ baseUrl: sim.url }, { config: c.config });
    const r = await api.beacon.getPendingPartialWithdrawals({ stateId: "head" });
    expect(r.value()).toEqual([
      { validatorIndex: 6, amount: 5n * BigInt(ETH), withdrawableEpoch: 10 + delay },
    ]);
    expect(r.meta().version).toBe("electra");
    // The sweep pays it once withdrawable (first in the payload), and the queue empties.
    c.advanceTo((11 + delay) * 8);
    const paid: Array<[number, bigint]> = [];
    for (let s = (10 + delay) * 8; s < (11 + delay) * 8; s++)
      for (const w of c.blockAt(s)?.message.body.executionPayload.withdrawals ?? [])
        if (w.validatorIndex === 6) paid.push([s, w.amount]);
    expect(paid.length).toBeGreaterThanOrEqual(1);
    expect(paid[0]?.[1]).toBe(5n * BigInt(ETH));
    expect(c.snapshot(11 + delay)?.electra?.pendingPartialWithdrawals).toEqual([]);
  });
});
