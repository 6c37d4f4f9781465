-- Per-operator key counts by state, kept by the key triggers in the same statement as the change,
-- so that reviews, operator lists and every allocation read O(operators) rows instead of
-- counting O(keys) (a GROUP BY over a million keys per request otherwise).
-- The CHECK keeps them honest: a count can never go below zero.

CREATE TABLE operator_key_counts (
  operator_id integer NOT NULL REFERENCES operators (id),
  state text NOT NULL CHECK (
    state IN ('submitted', 'vetted', 'deposited', 'active', 'exiting', 'exited', 'slashed', 'removed')
  ),
  n integer NOT NULL CHECK (n >= 0),
  PRIMARY KEY (operator_id, state)
);

INSERT INTO operator_key_counts (operator_id, state, n)
SELECT operator_id, state, count(*) FROM keys GROUP BY operator_id, state;

-- Counts are written by the key triggers only.
CREATE FUNCTION pk_counts_from_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF pg_trigger_depth() < 2 THEN
    RAISE EXCEPTION 'operator_key_counts is written by the keys triggers only' USING ERRCODE = 'P0001';
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER operator_key_counts_from_trigger AFTER INSERT OR UPDATE OR DELETE ON operator_key_counts
  FOR EACH STATEMENT EXECUTE FUNCTION pk_counts_from_trigger();

-- Apply count changes: rows (operator_id, state, delta). Locks the counter rows in key order
-- first, so that concurrent writers queue instead of deadlocking.
CREATE FUNCTION pk_apply_key_counts(deltas jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO operator_key_counts (operator_id, state, n)
  SELECT DISTINCT (d->>'o')::int, d->>'s', 0 FROM jsonb_array_elements(deltas) d
  ORDER BY 1, 2
  ON CONFLICT (operator_id, state) DO NOTHING;
  PERFORM 1 FROM operator_key_counts c
  WHERE (c.operator_id, c.state) IN (SELECT (d->>'o')::int, d->>'s' FROM jsonb_array_elements(deltas) d)
  ORDER BY c.operator_id, c.state
  FOR UPDATE;
  UPDATE operator_key_counts c SET n = c.n + x.delta
  FROM (SELECT (d->>'o')::int AS o, d->>'s' AS s, (d->>'n')::int AS delta FROM jsonb_array_elements(deltas) d) x
  WHERE c.operator_id = x.o AND c.state = x.s AND x.delta <> 0;
END
$$;

CREATE OR REPLACE FUNCTION pk_keys_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE actor text := pk_actor();
BEGIN
  INSERT INTO key_events (key_id, from_state, to_state, actor, reason)
  SELECT n.id, NULL, n.state, actor, pk_reason() FROM new_rows n ORDER BY n.id;
  PERFORM pk_apply_key_counts((
    SELECT jsonb_agg(jsonb_build_object('o', g.operator_id, 's', g.state, 'n', g.cnt))
    FROM (SELECT n.operator_id, n.state, count(*) AS cnt FROM new_rows n GROUP BY n.operator_id, n.state) g
  ));
  RETURN NULL;
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

  -- Deposits: into an existing batch, only to active operators, within their target limit.
  IF EXISTS (SELECT 1 FROM new_rows n WHERE n.state = 'deposited' AND n.prev_state = 'vetted') THEN
    IF EXISTS (
      SELECT 1 FROM (SELECT DISTINCT n.deposit_batch_id AS id FROM new_rows n
                     WHERE n.state = 'deposited' AND n.prev_state = 'vetted') d
      WHERE NOT EXISTS (SELECT 1 FROM deposit_batches b WHERE b.id = d.id)
    ) THEN
      RAISE EXCEPTION 'a deposited key must belong to an existing deposit batch' USING ERRCODE = 'P0001';
    END IF;
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

CREATE OR REPLACE FUNCTION pk_operators_before_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  deposited bigint;
  vetted bigint;
BEGIN
  IF NEW.vetted_limit < OLD.vetted_limit THEN
    SELECT coalesce(sum(n) FILTER (WHERE state IN ('deposited', 'active', 'exiting', 'exited', 'slashed')), 0),
           coalesce(sum(n) FILTER (WHERE state NOT IN ('submitted', 'removed')), 0)
      INTO deposited, vetted
      FROM operator_key_counts WHERE operator_id = OLD.id;
    IF NEW.vetted_limit < deposited THEN
      RAISE EXCEPTION 'operator %: vetted limit % is below its % deposited keys', OLD.id, NEW.vetted_limit, deposited
        USING ERRCODE = 'P0001';
    END IF;
    IF NEW.vetted_limit < vetted THEN
      RAISE EXCEPTION 'operator %: vetted limit % is below its % vetted keys (unvet them first)', OLD.id, NEW.vetted_limit, vetted
        USING ERRCODE = 'P0001';
    END IF;
  END IF;
  NEW.updated_at := now();
  RETURN NEW;
END
$$;
