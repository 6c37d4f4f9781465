-- The ledger state's cumulative vault collections (withdrawalsCollectedWei, elRewardsCollectedWei:
-- what reports took from the withdrawal and EL rewards vaults after the rebase limiter), backfilled
-- from the report entries up to the state's last entry, so that a state stored before these
-- fields existed replays to itself (PoolLedger.verify) and keeps counting from the right sum.
UPDATE ledger_state AS s
SET data = s.data || jsonb_build_object(
  'withdrawalsCollectedWei',
  (SELECT COALESCE(SUM((e.data -> 'outcome' ->> 'withdrawalsWei')::numeric), 0)::text
     FROM ledger_entries e WHERE e.kind = 'report' AND e.seq <= s.last_seq),
  'elRewardsCollectedWei',
  (SELECT COALESCE(SUM((e.data -> 'outcome' ->> 'elRewardsWei')::numeric), 0)::text
     FROM ledger_entries e WHERE e.kind = 'report' AND e.seq <= s.last_seq)
)
WHERE NOT (s.data ? 'withdrawalsCollectedWei' AND s.data ? 'elRewardsCollectedWei');
