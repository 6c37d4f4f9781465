/**
 * Guardian messages: the batch's keys root (SSZ, checked against a merkleization written out
 * here), a quorum of deposit signatures and each way it is refused, and pauses (expiry, the replay
 * after an unpause, domain separation from deposit messages).
 */
import { createHash } from "node:crypto";
import { ValidationError } from "@poolkeeper/core";
import { describe, expect, it } from "vitest";
import {
  batchKeysRoot,
  checkGuardians,
  type DepositMessageFields,
  depositMessage,
  type Guardian,
  type GuardianDepositSignature,
  generateGuardianKey,
  guardianPublicKey,
  pauseMessage,
  signDepositMessage,
  signPause,
  verifyDepositQuorum,
  verifyPause,
} from "../src/index.js";

const secret = (n: number) => generateGuardianKey(new Uint8Array(32).fill(n));
const SECRETS = [secret(1), secret(2), secret(3)];
const GUARDIANS: Guardian[] = SECRETS.map((sk, i) => ({ id: `g${i + 1}`, publicKey: guardianPublicKey(sk) }));
const OUTSIDER = secret(9);

const pubkey = (n: number) => `0x${n.toString(16).padStart(2, "0").repeat(48)}`;
const KEYS_ROOT = batchKeysRoot([pubkey(1), pubkey(2), pubkey(3)]);
const MSG: DepositMessageFields = {
  batchId: 7,
  keysRoot: KEYS_ROOT,
  blockRoot: `0x${"ab".repeat(32)}`,
  slot: 1000,
};
const OPTS = { currentSlot: 1010, maxAgeSlots: 32, batchId: 7, keysRoot: KEYS_ROOT };
const sign = (i: number, m: Partial<DepositMessageFields> = {}) =>
  signDepositMessage(SECRETS[i]!, `g${i + 1}`, { ...MSG, ...m });

/** The error `fn` throws (fails the test when it throws none). */
function thrown(fn: () => unknown): { code: string; details: Record<string, unknown>; message: string } {
  try {
    fn();
  } catch (e) {
    return e as { code: string; details: Record<string, unknown>; message: string };
  }
  throw new Error("nothing thrown");
}

const sha = (...parts: Uint8Array[]): Uint8Array =>
  createHash("sha256").update(Buffer.concat(parts)).digest();

describe("batchKeysRoot", () => {
  it("is hash_tree_root(List[BLSPubkey, 100000]): written out by hand", () => {
    const keys = [pubkey(1), pubkey(2), pubkey(3)];
    // each pubkey: two chunks (48 bytes padded to 64) hashed; the list: depth ceil(log2 100000) = 17
    let layer: Uint8Array[] = keys.map((k) => {
      const chunk = Buffer.alloc(64);
      Buffer.from(k.slice(2), "hex").copy(chunk);
      return sha(chunk);
    });
    let zero: Uint8Array = Buffer.alloc(32);
    for (let d = 0; d < 17; d++) {
      const next: Uint8Array[] = [];
      for (let i = 0; i < layer.length; i += 2) next.push(sha(layer[i]!, layer[i + 1] ?? zero));
      layer = next;
      zero = sha(zero, zero);
    }
    const length = Buffer.alloc(32);
    length.writeUInt32LE(keys.length, 0);
    expect(batchKeysRoot(keys)).toBe(`0x${Buffer.from(sha(layer[0]!, length)).toString("hex")}`);
  });

  it("depends on every key and their order; bad keys are named", () => {
    const roots = new Set([
      KEYS_ROOT,
      batchKeysRoot([pubkey(2), pubkey(1), pubkey(3)]),
      batchKeysRoot([pubkey(1), pubkey(2)]),
      batchKeysRoot([pubkey(1), pubkey(2), pubkey(4)]),
    ]);
    expect(roots.size).toBe(4);
    expect(thrown(() => batchKeysRoot([pubkey(1), "0x12"])).details.field).toBe("pubkeys[1]");
  });
});

describe("verifyDepositQuorum (3 guardians, quorum 2)", () => {
  it("releases with a quorum of distinct current guardians over the batch, all fresh and valid", () => {
    expect(verifyDepositQuorum([sign(0), sign(2)], GUARDIANS, 2, OPTS)).toEqual({
      ...MSG,
      signers: ["g1", "g3"],
    });
    expect(verifyDepositQuorum([sign(2), sign(1), sign(0)], GUARDIANS, 2, OPTS).signers).toEqual([
      "g3",
      "g2",
      "g1",
    ]);
    // exactly maxAgeSlots old is still fresh
    expect(verifyDepositQuorum([sign(0), sign(1)], GUARDIANS, 2, { ...OPTS, currentSlot: 1032 }).slot).toBe(
      1000,
    );
  });

  const cases: Array<[string, () => GuardianDepositSignature[], Partial<typeof OPTS>, string, string]> = [
    ["too few", () => [sign(0)], {}, "ERR_GUARDIAN_QUORUM", "sigs"],
    ["none", () => [], {}, "ERR_GUARDIAN_QUORUM", "sigs"],
    [
      "a stale one",
      () => [sign(0), sign(1)],
      { currentSlot: 1033 },
      "ERR_GUARDIAN_MESSAGE_STALE",
      "sigs[0].slot",
    ],
    [
      "one from after the current slot",
      () => [sign(0), sign(1)],
      { currentSlot: 999 },
      "ERR_GUARDIAN_MESSAGE_STALE",
      "sigs[0].slot",
    ],
    ["a repeated signer", () => [sign(0), sign(0)], {}, "ERR_GUARDIAN_REPEATED", "sigs[1].guardianId"],
    [
      "a non-guardian",
      () => [sign(0), signDepositMessage(OUTSIDER, "g4", MSG)],
      {},
      "ERR_NOT_GUARDIAN",
      "sigs[1].guardianId",
    ],
    [
      "a bad signature (another key under a guardian's id)",
      () => [sign(0), signDepositMessage(OUTSIDER, "g2", MSG)],
      {},
      "ERR_INVALID_SIGNATURE",
      "sigs[1].signature",
    ],
    [
      "a signature over another message under this one's fields",
      () => [sign(0), { ...sign(1), signature: sign(1, { slot: 1001 }).signature }],
      {},
      "ERR_INVALID_SIGNATURE",
      "sigs[1].signature",
    ],
    [
      "a different batch root",
      () => [sign(0), sign(1, { keysRoot: batchKeysRoot([pubkey(1)]) })],
      {},
      "ERR_GUARDIAN_MESSAGE_MISMATCH",
      "sigs[1].keysRoot",
    ],
    [
      "all over another batch's keys",
      () => [sign(0), sign(1)],
      { keysRoot: batchKeysRoot([pubkey(1)]) },
      "ERR_GUARDIAN_MESSAGE_MISMATCH",
      "sigs[0].keysRoot",
    ],
    [
      "another batch id",
      () => [sign(0), sign(1, { batchId: 8 })],
      {},
      "ERR_GUARDIAN_MESSAGE_MISMATCH",
      "sigs[1].batchId",
    ],
    [
      "another block",
      () => [sign(0), sign(1, { blockRoot: `0x${"cd".repeat(32)}` })],
      {},
      "ERR_GUARDIAN_MESSAGE_MISMATCH",
      "sigs[1].blockRoot",
    ],
    [
      "another slot, each fresh",
      () => [sign(0), sign(1, { slot: 1001 })],
      {},
      "ERR_GUARDIAN_MESSAGE_MISMATCH",
      "sigs[1].slot",
    ],
  ];
  it.each(cases)("refuses %s", (_name, sigs, opts, code, field) => {
    const e = thrown(() => verifyDepositQuorum(sigs(), GUARDIANS, 2, { ...OPTS, ...opts }));
    expect(e.code).toBe(code);
    expect(e.details.field).toBe(field);
    expect(e.message).toMatch(new RegExp(`^${field.replace(/[[\].]/g, "\\$&")}: `));
  });

  it("a guardian removed from the set no longer counts", () => {
    const e = thrown(() => verifyDepositQuorum([sign(0), sign(2)], GUARDIANS.slice(0, 2), 2, OPTS));
    expect(e.code).toBe("ERR_NOT_GUARDIAN");
    expect(e.details.guardianId).toBe("g3");
  });

  it("malformed input: a ValidationError naming the field", () => {
    const bad: Array<[() => unknown, string]> = [
      [() => verifyDepositQuorum([sign(0), sign(1)], GUARDIANS, 1, OPTS), "quorum"],
      [() => verifyDepositQuorum([sign(0), sign(1)], GUARDIANS, 4, OPTS), "quorum"],
      [
        () => verifyDepositQuorum([sign(0), sign(1)], [GUARDIANS[0]!, GUARDIANS[0]!], 2, OPTS),
        "guardians[1].id",
      ],
      [
        () =>
          verifyDepositQuorum(
            [sign(0)],
            [GUARDIANS[0]!, { ...GUARDIANS[1]!, publicKey: GUARDIANS[0]!.publicKey }],
            2,
            OPTS,
          ),
        "guardians[1].publicKey",
      ],
      [
        () => verifyDepositQuorum([sign(0)], [{ id: "g1", publicKey: `0x${"00".repeat(48)}` }], 1, OPTS),
        "guardians[0].publicKey",
      ],
      [
        () => verifyDepositQuorum([{ ...sign(0), signature: "0x12" }, sign(1)], GUARDIANS, 2, OPTS),
        "sigs[0].signature",
      ],
      [() => verifyDepositQuorum([sign(0), { ...sign(1), slot: -1 }], GUARDIANS, 2, OPTS), "sigs[1].slot"],
      [
        () => verifyDepositQuorum([sign(0), sign(1)], GUARDIANS, 2, { ...OPTS, maxAgeSlots: 1.5 }),
        "maxAgeSlots",
      ],
      [() => depositMessage(1, "0x12", MSG.blockRoot, 1), "keysRoot"],
    ];
    for (const [fn, field] of bad) {
      const e = thrown(fn);
      expect(e, field).toBeInstanceOf(ValidationError);
      expect(e.details.field).toBe(field);
    }
    expect(() => checkGuardians(GUARDIANS, 2)).not.toThrow();
  });
});

describe("verifyPause", () => {
  const P = { currentSlot: 500, pauseExpirySlots: 64, lastUnpauseSlot: null };

  it("any one guardian pauses with a fresh signed message; it says until when", () => {
    expect(verifyPause(signPause(SECRETS[1]!, "g2", 480), GUARDIANS, P)).toEqual({
      guardianId: "g2",
      slot: 480,
      expiresAtSlot: 544,
    });
    // made after the last unpause: valid
    expect(
      verifyPause(signPause(SECRETS[0]!, "g1", 481), GUARDIANS, { ...P, lastUnpauseSlot: 480 }).slot,
    ).toBe(481);
    // exactly pauseExpirySlots old: still valid
    expect(verifyPause(signPause(SECRETS[0]!, "g1", 436), GUARDIANS, P).expiresAtSlot).toBe(500);
  });

  it("refuses a pause replayed after an unpause (made at or before it)", () => {
    const pause = signPause(SECRETS[0]!, "g1", 480);
    // accepted once, then the DAO unpauses at 490: the same message, still unexpired, is refused
    expect(verifyPause(pause, GUARDIANS, P).guardianId).toBe("g1");
    for (const lastUnpauseSlot of [490, 480]) {
      const e = thrown(() => verifyPause(pause, GUARDIANS, { ...P, lastUnpauseSlot }));
      expect(e.code).toBe("ERR_PAUSE_REPLAYED");
      expect(e.details).toMatchObject({ field: "pause.slot", slot: 480, lastUnpauseSlot });
    }
  });

  it("refuses an expired pause, one from the future, a non-guardian's, a bad signature and a deposit signature", () => {
    const cases: Array<[() => unknown, string, string]> = [
      [() => verifyPause(signPause(SECRETS[0]!, "g1", 435), GUARDIANS, P), "ERR_PAUSE_EXPIRED", "pause.slot"],
      [
        () => verifyPause(signPause(SECRETS[0]!, "g1", 501), GUARDIANS, P),
        "ERR_GUARDIAN_MESSAGE_STALE",
        "pause.slot",
      ],
      [
        () => verifyPause(signPause(OUTSIDER, "g4", 490), GUARDIANS, P),
        "ERR_NOT_GUARDIAN",
        "pause.guardianId",
      ],
      [
        () => verifyPause(signPause(OUTSIDER, "g1", 490), GUARDIANS, P),
        "ERR_INVALID_SIGNATURE",
        "pause.signature",
      ],
      [
        () => verifyPause({ ...signPause(SECRETS[0]!, "g1", 490), slot: 491 }, GUARDIANS, P),
        "ERR_INVALID_SIGNATURE",
        "pause.signature",
      ],
      [
        // a deposit message signed at slot 490 is no pause at slot 490 (another domain)
        () =>
          verifyPause(
            { guardianId: "g1", slot: 490, signature: sign(0, { slot: 490 }).signature },
            GUARDIANS,
            P,
          ),
        "ERR_INVALID_SIGNATURE",
        "pause.signature",
      ],
    ];
    for (const [fn, code, field] of cases) {
      const e = thrown(fn);
      expect(e.code, code).toBe(code);
      expect(e.details.field).toBe(field);
    }
    expect(
      Buffer.from(pauseMessage(490)).equals(Buffer.from(depositMessage(0, KEYS_ROOT, MSG.blockRoot, 490))),
    ).toBe(false);
    const e = thrown(() =>
      verifyPause(signPause(SECRETS[0]!, "g1", 490), GUARDIANS, { ...P, lastUnpauseSlot: -1 }),
    );
    expect(e).toBeInstanceOf(ValidationError);
    expect(e.details.field).toBe("lastUnpauseSlot");
  });
});
