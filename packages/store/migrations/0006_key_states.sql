-- A key's changing state out of its wide, immutable row, so that a deposit batch of 100,000 keys
-- writes narrow rows instead of rewriting 100,000 deposit-data rows and six of their indexes
-- (measured on PostgreSQL 15: 4.4 s for allocate(100000) before, ~0.7 s after):
--   * key_data: what an upload stores (pubkey, deposit data, operator): never updated, never deleted;
--   * key_states: one narrow row per key: its state, the state it left, when, and once deposited
--     its batch and position. No index but the primary key, so a state change is a HOT update
--     (no index entry written);
--   * deposit_batches.key_ids: the batch's keys in deposit order. Inserting a batch IS the deposit:
--     its trigger moves exactly those keys from vetted to deposited (all or nothing), and the
--     batch row, with its actor and time, is their history entry for that transition. A key is
--     deposited at most once: only a vetted key can be, nothing leads back to vetted, and a
--     key's batch never changes once set (all checked by the triggers);
--   * keys: a view joining key_data and key_states, with the columns the old table had.
-- The rules stay in the database: transitions (pk_key_transition_allowed), vetted limits, deposits
-- only to active operators within their target limit, per-operator counts, append-only history.

DROP TRIGGER keys_before_update ON keys;
DROP TRIGGER keys_after_update ON keys;
DROP TRIGGER keys_after_insert ON keys;
DROP FUNCTION pk_keys_before_update();
DROP FUNCTION pk_keys_after_update();
DROP FUNCTION pk_keys_after_insert();

CREATE TABLE key_states (
  key_id integer PRIMARY KEY REFERENCES keys (id),
  operator_id integer NOT NULL,
  state text NOT NULL CHECK (
    state IN ('submitted', 'vetted', 'deposited', 'active', 'exiting', 'exited', 'slashed', 'removed')
  ),
  prev_state text CHECK (
    prev_state IN ('submitted', 'vetted', 'deposited', 'active', 'exiting', 'exited', 'slashed', 'removed')
  ),
  deposit_batch_id integer,
  deposit_position integer CHECK (deposit_position >= 0),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- A key that was ever deposited names its batch and place in it; one that never was does not.
  CONSTRAINT key_states_deposit_consistent CHECK (
    (state IN ('submitted', 'vetted', 'removed')) = (deposit_batch_id IS NULL)
    AND (deposit_batch_id IS NULL) = (deposit_position IS NULL)
  )
) WITH (fillfactor = 70);

INSERT INTO key_states (key_id, operator_id, state, prev_state, deposit_batch_id, deposit_position, updated_at)
SELECT id, operator_id, state, prev_state, deposit_batch_id, deposit_position, updated_at FROM keys ORDER BY id;

ALTER TABLE deposit_batches ADD COLUMN key_ids integer[];
ALTER TABLE deposit_batches DISABLE TRIGGER deposit_batches_immutable;
UPDATE deposit_batches b SET key_ids = coalesce(
  (SELECT array_agg(k.id ORDER BY k.deposit_position) FROM keys k WHERE k.deposit_batch_id = b.id), '{}');
ALTER TABLE deposit_batches ENABLE TRIGGER deposit_batches_immutable;
ALTER TABLE deposit_batches ALTER COLUMN key_ids SET NOT NULL,
  ADD CONSTRAINT deposit_batches_key_count CHECK (cardinality(key_ids) = key_count);

-- An operator's keys are found through key_data (operator_id, id), in upload order. Vetting takes
-- the oldest submitted keys, deposits the oldest vetted ones, a lowered limit un-vets the newest:
-- so in id order an operator's keys are deposited (or later), then vetted, then submitted (removed
-- ones anywhere). operator_deposit_cursors keeps each operator's newest deposited key id, where
-- the search for its next vetted keys starts. (Were a vetted key ever below it, it would not be
-- picked: the allocation gets fewer keys than it asked for and deposits none.)
CREATE TABLE operator_deposit_cursors (
  operator_id integer PRIMARY KEY,
  last_key_id integer NOT NULL
);
INSERT INTO operator_deposit_cursors (operator_id, last_key_id)
SELECT operator_id, max(id) FROM keys WHERE deposit_batch_id IS NOT NULL GROUP BY operator_id;

-- Written by the deposit trigger only.
CREATE FUNCTION pk_written_by_triggers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF pg_trigger_depth() < 2 THEN
    RAISE EXCEPTION '% is written by the key triggers only', TG_TABLE_NAME USING ERRCODE = 'P0001';
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER operator_deposit_cursors_from_trigger AFTER INSERT OR UPDATE OR DELETE ON operator_deposit_cursors
  FOR EACH STATEMENT EXECUTE FUNCTION pk_written_by_triggers();

ALTER TABLE keys DROP CONSTRAINT keys_deposit_consistent;
ALTER TABLE keys DROP COLUMN state, DROP COLUMN prev_state, DROP COLUMN deposit_batch_id,
  DROP COLUMN deposit_position, DROP COLUMN updated_at;
ALTER TABLE keys RENAME TO key_data;

CREATE TRIGGER key_data_immutable BEFORE UPDATE ON key_data
  FOR EACH ROW EXECUTE FUNCTION pk_reject_change();
CREATE TRIGGER key_states_no_delete BEFORE DELETE ON key_states
  FOR EACH ROW EXECUTE FUNCTION pk_reject_change();
CREATE TRIGGER key_states_no_truncate BEFORE TRUNCATE ON key_states
  FOR EACH STATEMENT EXECUTE FUNCTION pk_reject_change();

CREATE VIEW keys AS
SELECT d.id, d.operator_id, d.pubkey, d.withdrawal_credentials, d.amount_gwei, d.signature,
       d.deposit_message_root, d.deposit_data_root, d.fork_version, d.network_name,
       d.deposit_cli_version, s.state, s.prev_state, s.deposit_batch_id, s.deposit_position,
       d.created_at, s.updated_at
FROM key_data d
JOIN key_states s ON s.key_id = d.id;

-- ------------------------------------------------------------------ uploads

-- A new key starts as submitted: its key_states row comes with it, in the same statement.
CREATE FUNCTION pk_key_data_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO key_states (key_id, operator_id, state)
  SELECT n.id, n.operator_id, 'submitted' FROM new_rows n ORDER BY n.id;
  RETURN NULL;
END
$$;

CREATE TRIGGER key_data_after_insert AFTER INSERT ON key_data
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION pk_key_data_after_insert();

CREATE FUNCTION pk_key_states_after_insert() RETURNS trigger LANGUAGE plpgsql
SET jit = off AS $$
DECLARE actor text := pk_actor();
BEGIN
  IF pg_trigger_depth() < 2 THEN
    RAISE EXCEPTION 'key_states rows come with their key_data rows only' USING ERRCODE = 'P0001';
  END IF;
  IF EXISTS (SELECT 1 FROM new_rows n WHERE n.state <> 'submitted' OR n.prev_state IS NOT NULL
             OR n.deposit_batch_id IS NOT NULL) THEN
    RAISE EXCEPTION 'a new key starts as submitted' USING ERRCODE = 'P0001';
  END IF;
  INSERT INTO key_events (key_id, from_state, to_state, actor, reason)
  SELECT n.key_id, NULL, n.state, actor, pk_reason() FROM new_rows n ORDER BY n.key_id;
  PERFORM pk_apply_key_counts((
    SELECT jsonb_agg(jsonb_build_object('o', g.operator_id, 's', g.state, 'n', g.cnt))
    FROM (SELECT n.operator_id, n.state, count(*) AS cnt FROM new_rows n GROUP BY n.operator_id, n.state) g
  ));
  RETURN NULL;
END
$$;

CREATE TRIGGER key_states_after_insert AFTER INSERT ON key_states
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION pk_key_states_after_insert();

-- ------------------------------------------------------------------ state changes

-- A state change sets prev_state to the state it leaves, and updated_at (the writers here all
-- write `state = X, prev_state = state, updated_at = now()`); the statement trigger checks it
-- against the old rows in one hash join and rejects anything else. (A per-row trigger did the
-- same at ~1.5 µs a row: 150 ms of a 100,000-key deposit.)
-- enable_nestloop off: PL/pgSQL keeps the plan of a query on the transition tables for the
-- session, made with the row count of its first run; planned for 1 row (a small allocation), the
-- old/new join ran as a nested loop over 20,000 rows later: 29 s. Hash joins fit every size.
-- jit off: those costs would start LLVM compilation (130 ms of a 100,000-key deposit, for queries
-- that run in 10). work_mem: the join hashes in memory.
CREATE FUNCTION pk_key_states_after_update() RETURNS trigger LANGUAGE plpgsql
SET enable_nestloop = off SET jit = off SET work_mem = '64MB' AS $$
DECLARE
  actor text;
  bad record;
  chk record;
BEGIN
  SELECT count(*) FILTER (WHERE o.key_id IS NULL OR o.operator_id <> n.operator_id) AS moved,
         count(*) FILTER (WHERE o.key_id IS NOT NULL AND (
                            (o.deposit_batch_id IS NOT NULL AND (n.deposit_batch_id IS DISTINCT FROM o.deposit_batch_id
                               OR n.deposit_position IS DISTINCT FROM o.deposit_position))
                            OR (o.deposit_batch_id IS NULL AND n.deposit_batch_id IS NOT NULL
                               AND NOT (o.state = 'vetted' AND n.state = 'deposited')))) AS bad_batch,
         count(*) FILTER (WHERE o.key_id IS NOT NULL AND n.state <> o.state
                            AND NOT pk_key_transition_allowed(o.state, n.state)) AS not_allowed,
         count(*) FILTER (WHERE o.key_id IS NOT NULL
                            AND n.prev_state IS DISTINCT FROM (CASE WHEN n.state <> o.state THEN o.state END)) AS bad_prev,
         count(*) FILTER (WHERE n.prev_state IS NOT NULL) AS changed
    INTO chk
    FROM new_rows n LEFT JOIN old_rows o ON o.key_id = n.key_id;
  IF chk.moved > 0 THEN
    RAISE EXCEPTION 'a key''s id and operator never change' USING ERRCODE = 'P0001';
  END IF;
  IF chk.not_allowed > 0 THEN
    SELECT o.key_id, o.state AS from_state, n.state AS to_state INTO bad
    FROM new_rows n JOIN old_rows o ON o.key_id = n.key_id
    WHERE n.state <> o.state AND NOT pk_key_transition_allowed(o.state, n.state)
    ORDER BY o.key_id LIMIT 1;
    RAISE EXCEPTION 'key %: % → % is not an allowed transition', bad.key_id, bad.from_state, bad.to_state
      USING ERRCODE = 'P0001';
  END IF;
  IF chk.bad_batch > 0 THEN
    RAISE EXCEPTION 'a key joins a deposit batch once, when it is deposited, and never leaves it'
      USING ERRCODE = 'P0001';
  END IF;
  IF chk.bad_prev > 0 THEN
    RAISE EXCEPTION 'a key state change must set prev_state to the state it leaves (and only then)'
      USING ERRCODE = 'P0001';
  END IF;
  IF chk.changed = 0 THEN
    RETURN NULL;
  END IF;
  actor := pk_actor();

  -- vetted → deposited only by inserting a deposit batch (whose row is that transition's history).
  IF EXISTS (SELECT 1 FROM new_rows n WHERE n.state = 'deposited' AND n.prev_state = 'vetted') THEN
    IF pg_trigger_depth() < 2 OR EXISTS (
      SELECT 1 FROM new_rows n WHERE n.state = 'deposited' AND n.prev_state = 'vetted' AND n.deposit_batch_id IS NULL
    ) THEN
      RAISE EXCEPTION 'a key is deposited by inserting a deposit batch that lists it (deposit_batches.key_ids)'
        USING ERRCODE = 'P0001';
    END IF;
  END IF;
  INSERT INTO key_events (key_id, from_state, to_state, actor, reason)
  SELECT n.key_id, n.prev_state, n.state, actor, pk_reason()
  FROM new_rows n
  WHERE n.prev_state IS NOT NULL AND NOT (n.prev_state = 'vetted' AND n.state = 'deposited')
  ORDER BY n.key_id;

  PERFORM pk_apply_key_counts((
    SELECT jsonb_agg(jsonb_build_object('o', g.operator_id, 's', g.state, 'n', g.delta))
    FROM (
      SELECT x.operator_id, x.state, sum(x.d) AS delta FROM (
        SELECT n.operator_id, n.state, 1 AS d FROM new_rows n WHERE n.prev_state IS NOT NULL
        UNION ALL
        SELECT n.operator_id, n.prev_state, -1 FROM new_rows n WHERE n.prev_state IS NOT NULL
      ) x GROUP BY x.operator_id, x.state
    ) g
  ));

  -- Vetting never goes beyond the vetted limit.
  IF EXISTS (SELECT 1 FROM new_rows n WHERE n.state = 'vetted' AND n.prev_state IS NOT NULL) THEN
    SELECT op.id, op.vetted_limit, c.n INTO bad
    FROM operators op
    JOIN LATERAL (
      SELECT coalesce(sum(k.n), 0) AS n FROM operator_key_counts k
      WHERE k.operator_id = op.id AND k.state NOT IN ('submitted', 'removed')
    ) c ON true
    WHERE op.id IN (SELECT DISTINCT n.operator_id FROM new_rows n WHERE n.state = 'vetted' AND n.prev_state IS NOT NULL)
      AND c.n > op.vetted_limit
    LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION 'operator %: % keys vetted or deposited exceed its vetted limit %', bad.id, bad.n, bad.vetted_limit
        USING ERRCODE = 'P0001';
    END IF;
  END IF;

  -- Deposits go only to active operators, within their target limit.
  IF EXISTS (SELECT 1 FROM new_rows n WHERE n.state = 'deposited' AND n.prev_state = 'vetted') THEN
    SELECT op.id, op.active, op.target_limit, c.n INTO bad
    FROM operators op
    JOIN LATERAL (
      SELECT coalesce(sum(k.n), 0) AS n FROM operator_key_counts k
      WHERE k.operator_id = op.id AND k.state IN ('deposited', 'active', 'exiting', 'slashed')
    ) c ON true
    WHERE op.id IN (
        SELECT DISTINCT n.operator_id FROM new_rows n WHERE n.state = 'deposited' AND n.prev_state = 'vetted'
      )
      AND (NOT op.active OR (op.target_limit IS NOT NULL AND c.n > op.target_limit))
    LIMIT 1;
    IF FOUND THEN
      IF NOT bad.active THEN
        RAISE EXCEPTION 'operator % is inactive: it receives no deposits', bad.id USING ERRCODE = 'P0001';
      END IF;
      RAISE EXCEPTION 'operator %: % active keys would exceed its target limit %', bad.id, bad.n, bad.target_limit
        USING ERRCODE = 'P0001';
    END IF;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER key_states_after_update AFTER UPDATE ON key_states
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION pk_key_states_after_update();

-- ------------------------------------------------------------------ deposits

-- Inserting a batch deposits its keys: every key listed must be a vetted key (listed once), or
-- the whole statement fails. Each key gets the batch and its position; the operators' cursors move.
CREATE FUNCTION pk_deposit_batches_after_insert() RETURNS trigger LANGUAGE plpgsql
SET jit = off AS $$
DECLARE
  moved bigint;
BEGIN
  WITH listed AS (
    SELECT u.key_id, (u.pos - 1)::int AS pos FROM unnest(NEW.key_ids) WITH ORDINALITY AS u(key_id, pos)
  ), upd AS (
    UPDATE key_states s
    SET state = 'deposited', prev_state = s.state, updated_at = now(),
        deposit_batch_id = NEW.id, deposit_position = l.pos
    FROM listed l
    WHERE s.key_id = l.key_id AND s.state = 'vetted'
    RETURNING s.operator_id, s.key_id
  ), cur AS (
    INSERT INTO operator_deposit_cursors AS c (operator_id, last_key_id)
    SELECT operator_id, max(key_id) FROM upd GROUP BY operator_id ORDER BY operator_id
    ON CONFLICT (operator_id) DO UPDATE SET last_key_id = greatest(c.last_key_id, excluded.last_key_id)
  )
  SELECT count(*) INTO moved FROM upd;
  IF moved <> cardinality(NEW.key_ids) THEN
    RAISE EXCEPTION 'only vetted keys can be deposited, each once: % of the % keys of this batch are', moved, cardinality(NEW.key_ids)
      USING ERRCODE = 'P0001';
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER deposit_batches_after_insert AFTER INSERT ON deposit_batches
  FOR EACH ROW EXECUTE FUNCTION pk_deposit_batches_after_insert();
