-- "A new key starts as submitted" checked once per INSERT statement on its transition table
-- instead of by a row trigger per key (an upload of 10,000 keys inserts ~20% faster on PGlite).
DROP TRIGGER keys_before_insert ON keys;
DROP FUNCTION pk_keys_before_insert();

CREATE OR REPLACE FUNCTION pk_keys_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE actor text := pk_actor();
BEGIN
  IF EXISTS (
    SELECT 1 FROM new_rows n
    WHERE n.state <> 'submitted' OR n.deposit_batch_id IS NOT NULL OR n.prev_state IS NOT NULL
  ) THEN
    RAISE EXCEPTION 'a new key starts as submitted' USING ERRCODE = 'P0001';
  END IF;
  INSERT INTO key_events (key_id, from_state, to_state, actor, reason)
  SELECT n.id, NULL, n.state, actor, pk_reason() FROM new_rows n ORDER BY n.id;
  PERFORM pk_apply_key_counts((
    SELECT jsonb_agg(jsonb_build_object('o', g.operator_id, 's', g.state, 'n', g.cnt))
    FROM (SELECT n.operator_id, n.state, count(*) AS cnt FROM new_rows n GROUP BY n.operator_id, n.state) g
  ));
  RETURN NULL;
END
$$;
