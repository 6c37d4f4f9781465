-- watcher_validators without a per-epoch write for every validator: a validator's epochs with
-- duties run from first_epoch to exit_epoch - 1 (exit_epoch from the chain once known), instead
-- of a last_epoch rewritten each epoch. status is the latest known (status_epoch) non-trivial one.
ALTER TABLE watcher_validators DROP COLUMN last_epoch;
ALTER TABLE watcher_validators ADD COLUMN exit_epoch bigint;
ALTER TABLE watcher_validators ADD COLUMN status_epoch bigint;
