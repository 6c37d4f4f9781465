-- Governance (issue 14): a frame's snapshot also pins the governed values its report is built
-- and applied with (the fee and the sanity limits as governance_parameters held them at the
-- first ask), so that a proposal executed while members build one frame's report changes the
-- next frame, not this one. NULL: no governance, or pinned before this migration.
ALTER TABLE oracle_frame_snapshots ADD COLUMN governed jsonb;
