import type { Queryable } from "../store.js";

/**
 * Reads of the watcher's tables beside performance.ts, for the performance routes: the result of each missed
 * proposal slot (missed or orphaned, from the watcher's missed_proposal alerts, which it stores in
 * the same transaction as the epoch) and validator pubkeys by index for alert lists.
 */

export type ProposalSlotResult = "missed" | "orphaned";

/** Slots of `validatorIndex` in [fromEpoch, toEpoch] whose proposal was not in the canonical chain. */
export async function failedProposalSlots(
  q: Queryable,
  network: string,
  validatorIndex: number,
  fromEpoch: number,
  toEpoch: number,
): Promise<Map<number, ProposalSlotResult>> {
  const r = await q.query<{ slot: string | null; status: string | null }>(
    `SELECT details->>'slot' AS slot, details->>'status' AS status FROM watcher_alerts
     WHERE network = $1 AND kind = 'missed_proposal' AND validator_index = $2 AND epoch BETWEEN $3 AND $4`,
    [network, validatorIndex, fromEpoch, toEpoch],
  );
  const out = new Map<number, ProposalSlotResult>();
  for (const x of r.rows) {
    if (x.slot === null || !/^[0-9]+$/.test(x.slot)) continue;
    out.set(Number(x.slot), x.status === "orphaned" ? "orphaned" : "missed");
  }
  return out;
}

/** Pubkeys (lowercase hex, no 0x) of the given validator indices as stored by the watcher. */
export async function watchedValidatorPubkeys(
  q: Queryable,
  network: string,
  indices: readonly number[],
): Promise<Map<number, string>> {
  if (indices.length === 0) return new Map();
  const r = await q.query<{ validator_index: number; pk: string }>(
    `SELECT validator_index, encode(pubkey, 'hex') AS pk FROM watcher_validators
     WHERE network = $1 AND validator_index = ANY($2::int[])`,
    [network, [...new Set(indices)]],
  );
  return new Map(r.rows.map((x) => [x.validator_index, x.pk]));
}

/** The last processed epoch of the network (null before the first). */
export async function lastWatcherEpoch(q: Queryable, network: string): Promise<number | null> {
  const r = await q.query<{ m: bigint | string | null }>(
    "SELECT max(epoch) AS m FROM watcher_network_epochs WHERE network = $1",
    [network],
  );
  const m = r.rows[0]?.m;
  return m === null || m === undefined ? null : Number(m);
}
