-- What oracle members build a frame's report on, besides the chain: the pool ledger's state and
-- the deposit batches as they stood when the first member asked for the frame (after its ref
-- slot was finalized). Pinned once, so that every member reads the same ledger and the same pool
-- keys, however late it asks: two members with the same chain data build the same bytes.
CREATE TABLE oracle_frame_snapshots (
  ref_slot bigint PRIMARY KEY CHECK (ref_slot >= 0),
  ledger_seq bigint NOT NULL CHECK (ledger_seq >= 0),
  ledger_state jsonb NOT NULL,
  -- keys of deposit batches up to this id are the pool's keys for the frame
  max_batch_id integer NOT NULL CHECK (max_batch_id >= 0),
  pinned_at timestamptz NOT NULL DEFAULT now()
);

-- Which path a member's report was read by (the SSZ state or the bulk JSON routes): metadata of
-- the vote, not of the report (both paths give the same report, so the same hash).
ALTER TABLE oracle_votes ADD COLUMN source text CHECK (source IN ('ssz', 'json'));
