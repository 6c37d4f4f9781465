/**
 * A report's validatorsToExit: members agree on them by the report's hash, and the report that
 * the quorum applies records one exit request per listed validator (reason withdrawals, its ref
 * slot, the deadline EXIT_DEADLINE_EPOCHS on), in the decision's transaction, once; a validator
 * with an open request already is not asked twice.
 */
import { PoolLedger } from "@poolkeeper/ledger";
import { exitRequestHistory, insertExitRequest, insertOperator, listExitRequests } from "@poolkeeper/store";
import { createTestStore, TEST_STORE_KINDS, type TestStore } from "@poolkeeper/store/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateMemberKey, publicKeyOf, signVote } from "../src/consensus.js";
import { frameAt } from "../src/frames.js";
import { OracleConsensus } from "../src/oracle-consensus.js";
import {
  CONSENSUS_VERSION,
  encodeReport,
  type ReportData,
  ReportDataType,
  reportHash,
} from "../src/report-data.js";

const ETH = 10n ** 18n;
const NETWORK = "report-exits";
const FRAMES = {
  slotsPerEpoch: 8,
  secondsPerSlot: 6,
  genesisTime: 1_000_000,
  epochsPerFrame: 4,
  initialEpoch: 0,
};
const keys = [generateMemberKey(), generateMemberKey(), generateMemberKey()];
const MEMBERS = keys.map((k, i) => ({ id: `member-${i + 1}`, publicKey: publicKeyOf(k) }));

describe.each(TEST_STORE_KINDS)("validatorsToExit of an applied report on %s", (kind) => {
  let store: TestStore;
  let oracle: OracleConsensus;
  let opId = 0;
  const keyIds: number[] = [];

  beforeAll(async () => {
    store = await createTestStore(kind);
    oracle = new OracleConsensus(
      store,
      {
        members: MEMBERS,
        quorum: 2,
        frames: FRAMES,
        fees: { totalFeeBP: 1000, operatorsFeeBP: 500, treasury: `0x${"ee".repeat(20)}` },
        exits: { maxExitWei: 19_200n * ETH, deadlineEpochs: 10 },
        now: () => FRAMES.genesisTime + 10 * 8 * 6 * 4,
      },
      NETWORK,
    );
    opId = (
      await insertOperator(store, {
        name: "op",
        rewardAddress: new Uint8Array(20).fill(0x11),
        active: true,
        vettedLimit: 10,
        targetLimit: null,
        targetLimitMode: null,
      })
    ).id;
    // three keys of the operator, validators 50, 51, 52 on the chain as the watcher saw them
    await store.transaction(async (tx) => {
      await tx.query("SELECT set_config('poolkeeper.actor', 'test-seed', true)");
      const r = await tx.query<{ id: number }>(
        `INSERT INTO key_data (operator_id, pubkey, withdrawal_credentials, amount_gwei, signature,
           deposit_message_root, deposit_data_root, fork_version, network_name, deposit_cli_version)
         SELECT $1, decode(lpad(to_hex(i), 96, '0'), 'hex'), decode(repeat('01', 32), 'hex'), 32000000000,
                decode(repeat(lpad(to_hex(i), 8, '0'), 24), 'hex'), sha256(int8send(i)), sha256(int8send(-i)),
                decode('10000910', 'hex'), 'hoodi', '2.7.0'
         FROM generate_series(50, 52) AS i RETURNING id`,
        [opId],
      );
      keyIds.push(...r.rows.map((x) => x.id));
      await tx.query(
        `INSERT INTO watcher_validators (network, validator_index, pubkey, operator_id, first_epoch)
         SELECT $1, i, decode(lpad(to_hex(i), 96, '0'), 'hex'), $2, 0 FROM generate_series(50, 52) AS i`,
        [NETWORK, opId],
      );
    });
    const ledger = new PoolLedger(store);
    await ledger.submit("0x00000000000000000000000000000000000000aa", 64n * ETH);
    await store.transaction((tx) => ledger.deposit("1", 2, 64n * ETH, tx));
  });
  afterAll(() => store?.dispose());

  const report = (refSlot: number, validatorsToExit: ReportData["validatorsToExit"]): ReportData => ({
    ...ReportDataType.defaultValue(),
    consensusVersion: CONSENSUS_VERSION,
    refSlot,
    clValidators: 2,
    clDepositedGwei: 64_000_000_000n,
    clBalanceGwei: 64_000_000_010n,
    operators: [
      {
        operatorId: opId,
        activeValidators: 2,
        exitedValidators: 0,
        rewardedValidators: 2,
        balanceGwei: 64_000_000_010n,
      },
    ],
    validatorsToExit,
  });
  const vote = (i: number, r: ReportData) =>
    oracle.submitVote(signVote(keys[i]!, MEMBERS[i]!.id, r.refSlot, reportHash(r)), encodeReport(r));

  it("the list is part of the hash: another list is another report", () => {
    const refSlot = frameAt(FRAMES, 1).refSlot;
    expect(reportHash(report(refSlot, [{ operatorId: opId, validatorIndex: 50 }]))).not.toBe(
      reportHash(report(refSlot, [{ operatorId: opId, validatorIndex: 51 }])),
    );
  });

  it("the applied report records a request per listed validator, once, skipping one asked already", async () => {
    // validator 51 has a DAO request open already
    await insertExitRequest(store, {
      operatorId: opId,
      keyId: keyIds[1]!,
      validatorIndex: 51,
      reason: "dao",
      note: "earlier",
      refSlot: null,
      requestedEpoch: 0,
      deadlineEpoch: 900,
      actor: "test:dao",
    });
    const refSlot = frameAt(FRAMES, 1).refSlot;
    const r = report(refSlot, [
      { operatorId: opId, validatorIndex: 50 },
      { operatorId: opId, validatorIndex: 51 },
    ]);
    // one vote decides nothing; a disagreeing member (no exits) does not count for this hash
    expect((await vote(0, r)).decided).toBeNull();
    expect((await vote(2, report(refSlot, []))).decided).toBeNull();
    expect(await listExitRequests(store, { limit: 10, state: "requested" })).toHaveLength(1);
    const applied = await vote(1, r);
    expect(applied.decided).toEqual({ status: "applied", failed: [] });

    const requests = await listExitRequests(store, { limit: 10 });
    const fromReport = requests.filter((x) => x.reason === "withdrawals");
    expect(fromReport).toHaveLength(1);
    expect(fromReport[0]).toMatchObject({
      operatorId: opId,
      keyId: keyIds[0],
      validatorIndex: 50,
      refSlot,
      requestedEpoch: Math.floor(refSlot / 8),
      deadlineEpoch: Math.floor(refSlot / 8) + 10,
      state: "requested",
    });
    const history = await exitRequestHistory(store, fromReport[0]!.id);
    expect(history.map((e) => [e.state, e.actor])).toEqual([["requested", "oracle"]]);
    // a late vote for the decided report changes nothing
    await vote(2, r).catch(() => undefined);
    expect(
      (await listExitRequests(store, { limit: 10 })).filter((x) => x.reason === "withdrawals"),
    ).toHaveLength(1);
  });
});
