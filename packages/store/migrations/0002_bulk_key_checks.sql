-- Set-based checks for bulk key changes (a deposit batch of 100,000 keys in one statement):
--   * keys.prev_state, kept by the row trigger, lets the statement trigger write key_events and
--     check transitions from the new rows alone (no join of the OLD and NEW transition tables,
--     which some planners run as a nested loop);
--   * the per-row foreign keys keys.deposit_batch_id and key_events.key_id (one lookup per row)
--     give way to equivalent statement-level checks: a deposited key's batch must exist, batches
--     and keys are never deleted, and key_events rows can only be written by the key triggers.

ALTER TABLE keys ADD COLUMN prev_state text CHECK (
  prev_state IN ('submitted', 'vetted', 'deposited', 'active', 'exiting', 'exited', 'slashed', 'removed')
);
ALTER TABLE keys DROP CONSTRAINT keys_deposit_batch_id_fkey;
ALTER TABLE key_events DROP CONSTRAINT key_events_key_id_fkey;

CREATE TRIGGER deposit_batches_immutable BEFORE UPDATE OR DELETE ON deposit_batches
  FOR EACH ROW EXECUTE FUNCTION pk_reject_change();
CREATE TRIGGER deposit_batches_no_truncate BEFORE TRUNCATE ON deposit_batches
  FOR EACH STATEMENT EXECUTE FUNCTION pk_reject_change();

-- key_events rows come only from the keys triggers (trigger depth 2), never from a client.
CREATE FUNCTION pk_key_events_from_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF pg_trigger_depth() < 2 THEN
    RAISE EXCEPTION 'key_events is written by the keys triggers only' USING ERRCODE = 'P0001';
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER key_events_from_trigger AFTER INSERT ON key_events
  FOR EACH STATEMENT EXECUTE FUNCTION pk_key_events_from_trigger();

CREATE OR REPLACE FUNCTION pk_keys_before_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.pubkey <> OLD.pubkey OR NEW.operator_id <> OLD.operator_id
     OR NEW.withdrawal_credentials <> OLD.withdrawal_credentials OR NEW.amount_gwei <> OLD.amount_gwei
     OR NEW.signature <> OLD.signature OR NEW.deposit_data_root <> OLD.deposit_data_root
     OR NEW.deposit_message_root <> OLD.deposit_message_root OR NEW.fork_version <> OLD.fork_version THEN
    RAISE EXCEPTION 'key %: its pubkey, operator and deposit data never change', OLD.id USING ERRCODE = 'P0001';
  END IF;
  IF OLD.deposit_batch_id IS NOT NULL AND (NEW.deposit_batch_id IS DISTINCT FROM OLD.deposit_batch_id
     OR NEW.deposit_position IS DISTINCT FROM OLD.deposit_position) THEN
    RAISE EXCEPTION 'key % was deposited in batch %: it cannot be deposited again', OLD.id, OLD.deposit_batch_id
      USING ERRCODE = 'P0001';
  END IF;
  IF NEW.state <> OLD.state THEN
    IF NOT pk_key_transition_allowed(OLD.state, NEW.state) THEN
      RAISE EXCEPTION 'key %: % → % is not an allowed transition', OLD.id, OLD.state, NEW.state
        USING ERRCODE = 'P0001';
    END IF;
    NEW.prev_state := OLD.state;
    NEW.updated_at := now();
  ELSE
    NEW.prev_state := NULL;
  END IF;
  RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION pk_keys_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  actor text;
  bad record;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.prev_state IS NOT NULL) THEN
    RETURN NULL;
  END IF;
  actor := pk_actor();
  INSERT INTO key_events (key_id, from_state, to_state, actor, reason)
  SELECT n.id, n.prev_state, n.state, actor, pk_reason()
  FROM new_rows n
  WHERE n.prev_state IS NOT NULL
  ORDER BY n.id;

  -- Vetting never goes beyond the vetted limit.
  IF EXISTS (SELECT 1 FROM new_rows n WHERE n.state = 'vetted' AND n.prev_state IS NOT NULL) THEN
    -- Counted through the (operator_id, ...) index whatever the statistics say.
    SELECT op.id, op.vetted_limit, c.n INTO bad
    FROM operators op
    JOIN LATERAL (
      SELECT count(*) FILTER (WHERE k.state NOT IN ('submitted', 'removed')) AS n
      FROM keys k WHERE k.operator_id = op.id
    ) c ON true
    WHERE op.id IN (SELECT DISTINCT n.operator_id FROM new_rows n WHERE n.state = 'vetted' AND n.prev_state IS NOT NULL)
      AND c.n > op.vetted_limit
    LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION 'operator %: % keys vetted or deposited exceed its vetted limit %', bad.id, bad.n, bad.vetted_limit
        USING ERRCODE = 'P0001';
    END IF;
  END IF;

  -- Deposits: into an existing batch, only to active operators, within their target limit.
  IF EXISTS (SELECT 1 FROM new_rows n WHERE n.state = 'deposited' AND n.prev_state = 'vetted') THEN
    IF EXISTS (
      SELECT 1 FROM (SELECT DISTINCT n.deposit_batch_id AS id FROM new_rows n
                     WHERE n.state = 'deposited' AND n.prev_state = 'vetted') d
      WHERE NOT EXISTS (SELECT 1 FROM deposit_batches b WHERE b.id = d.id)
    ) THEN
      RAISE EXCEPTION 'a deposited key must belong to an existing deposit batch' USING ERRCODE = 'P0001';
    END IF;
    -- Only operators that are inactive or have a target limit need a look (and a count).
    WITH affected AS MATERIALIZED (
      SELECT op.id, op.active, op.target_limit FROM operators op
      WHERE op.id IN (
          SELECT DISTINCT n.operator_id FROM new_rows n WHERE n.state = 'deposited' AND n.prev_state = 'vetted'
        )
        AND (NOT op.active OR op.target_limit IS NOT NULL)
    )
    SELECT a.id, a.active, a.target_limit, c.n INTO bad
    FROM affected a
    JOIN LATERAL (
      SELECT count(*) FILTER (WHERE k.state IN ('deposited', 'active', 'exiting', 'slashed')) AS n
      FROM keys k WHERE k.operator_id = a.id
    ) c ON true
    WHERE NOT a.active OR c.n > a.target_limit
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
