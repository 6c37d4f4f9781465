-- A deposit batch is paid from the pool's buffer in its own transaction (issue 16): the registry
-- calls the ledger's deposit after inserting the batch. The database keeps the rule as its last
-- line of defence: at commit, every new deposit_batches row must have exactly one ledger entry of
-- kind 'deposit' naming it, for its key count and its keys' deposit amounts (in wei).
-- Batches stored before this migration are left as they are.
CREATE UNIQUE INDEX ledger_entries_one_deposit_per_batch ON ledger_entries ((data ->> 'batchId'))
  WHERE kind = 'deposit';

CREATE FUNCTION pk_deposit_batch_paid() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  entry jsonb;
  cost numeric;
BEGIN
  SELECT e.data INTO entry FROM ledger_entries e
  WHERE e.kind = 'deposit' AND e.data ->> 'batchId' = NEW.id::text;
  IF entry IS NULL THEN
    RAISE EXCEPTION 'deposit batch % is not paid from the pool''s buffer: no ledger deposit entry in its transaction', NEW.id
      USING ERRCODE = 'P0001';
  END IF;
  -- every key_data row deposits 32 ETH (its CHECK, 0001), so the batch costs key_count × 32 ETH,
  -- found without reading its keys again (a 100,000-key batch would pay ~0.2 s for the sum); a
  -- migration that allows other amounts (0x02) sums them here.
  cost := NEW.key_count::numeric * 32000000000000000000;
  IF (entry ->> 'validators')::int <> NEW.key_count OR (entry ->> 'wei')::numeric <> cost THEN
    RAISE EXCEPTION 'deposit batch %: the ledger paid % wei for % keys, its % keys cost % wei',
      NEW.id, entry ->> 'wei', entry ->> 'validators', NEW.key_count, cost USING ERRCODE = 'P0001';
  END IF;
  RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER pk_deposit_batches_paid AFTER INSERT ON deposit_batches
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION pk_deposit_batch_paid();
