-- The exit side of a frame, pinned with its snapshot (so that every member reads the same): the
-- operators' target limits and the validators with an open exit request when the first member
-- asked. Snapshots pinned before this migration have none (no limits, no request).
ALTER TABLE oracle_frame_snapshots ADD COLUMN exits jsonb;
