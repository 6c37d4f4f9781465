-- Indexes shaped by the queries, now that per-operator counts come from operator_key_counts:
--   * keys of one operator in id order (API listings, keyset pagination by operator): (operator_id, id);
--   * the next vetted keys of an operator in upload order (allocation): a partial index holding
--     vetted keys only, so it stays small and a deposited key leaves it.
-- They replace (operator_id, state, id): an UPDATE of a key's state writes no more index entries
-- than before.
CREATE INDEX keys_operator_id ON keys (operator_id, id);
CREATE INDEX keys_vetted_by_operator ON keys (operator_id, id) WHERE state = 'vetted';
DROP INDEX keys_operator_state_id;
