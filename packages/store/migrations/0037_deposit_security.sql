-- Deposit security (issue 13): a deposit batch is released only through the guardians' checks.
--   * deposit_batch_security: one row per batch, made by the batch's insert (status 'pending');
--     'released' once a quorum of guardians signed it (their block root, slot and ids recorded),
--     or 'refused' when a guardian found a key of it front-run (then its keys are never sent:
--     the front-run keys become 'front_run', the others 'cancelled', and the pool's buffer gets
--     the batch's payment back through a 'deposit_refund' ledger entry). Batches made before
--     this migration count as released (they were handed out already).
--   * deposit_guardian_messages: every guardian message the API accepted (release signatures,
--     refusals with their evidence, pauses), append-only, with which checks ran and when.
--   * deposit_key_evidence: what the chain showed for a front-run key (slot, credentials, amount).
--   * deposit_security_state: paused or not, by whom and why; the last unpause's slot (a pause
--     signed at or before it cannot be replayed).
--   * deposit_guardians_seen: each guardian's last report (slot, time).
-- New key states 'front_run' and 'cancelled' (the group `refused`), only for a refused batch's
-- keys; both keep their batch (never deposited again). New token role 'guardian'; new alert kinds.

ALTER TABLE key_states DROP CONSTRAINT key_states_state_check;
ALTER TABLE key_states ADD CONSTRAINT key_states_state_check CHECK (
  state IN ('submitted', 'vetted', 'deposited', 'active', 'exiting', 'exited', 'slashed', 'removed', 'front_run', 'cancelled')
);
ALTER TABLE key_states DROP CONSTRAINT key_states_prev_state_check;
ALTER TABLE key_states ADD CONSTRAINT key_states_prev_state_check CHECK (
  prev_state IN ('submitted', 'vetted', 'deposited', 'active', 'exiting', 'exited', 'slashed', 'removed', 'front_run', 'cancelled')
);
ALTER TABLE key_events DROP CONSTRAINT key_events_from_state_check;
ALTER TABLE key_events ADD CONSTRAINT key_events_from_state_check CHECK (
  from_state IN ('submitted', 'vetted', 'deposited', 'active', 'exiting', 'exited', 'slashed', 'removed', 'front_run', 'cancelled')
);
ALTER TABLE key_events DROP CONSTRAINT key_events_to_state_check;
ALTER TABLE key_events ADD CONSTRAINT key_events_to_state_check CHECK (
  to_state IN ('submitted', 'vetted', 'deposited', 'active', 'exiting', 'exited', 'slashed', 'removed', 'front_run', 'cancelled')
);
ALTER TABLE operator_key_counts DROP CONSTRAINT operator_key_counts_state_check;
ALTER TABLE operator_key_counts ADD CONSTRAINT operator_key_counts_state_check CHECK (
  state IN ('submitted', 'vetted', 'deposited', 'active', 'exiting', 'exited', 'slashed', 'removed', 'front_run', 'cancelled')
);

CREATE OR REPLACE FUNCTION pk_key_transition_allowed(from_state text, to_state text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT (from_state, to_state) IN (
    ('submitted', 'vetted'), ('submitted', 'removed'),
    ('vetted', 'submitted'), ('vetted', 'removed'), ('vetted', 'deposited'),
    ('deposited', 'active'), ('deposited', 'exiting'), ('deposited', 'exited'), ('deposited', 'slashed'),
    ('deposited', 'front_run'), ('deposited', 'cancelled'),
    ('active', 'exiting'), ('active', 'exited'), ('active', 'slashed'),
    ('exiting', 'exited'), ('exiting', 'slashed'),
    ('slashed', 'exited')
  )
$$;

ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_kind_check;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_kind_check CHECK (
  kind IN ('submit', 'deposit', 'withdrawal_request', 'withdrawal_finalize', 'withdrawal_claim', 'report', 'deposit_refund')
);
CREATE UNIQUE INDEX ledger_entries_one_refund_per_batch ON ledger_entries ((data ->> 'batchId'))
  WHERE kind = 'deposit_refund';

ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_role_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_role_check CHECK (role IN ('admin', 'dao', 'operator', 'oracle', 'guardian'));

ALTER TABLE watcher_alerts DROP CONSTRAINT watcher_alerts_kind_check;
ALTER TABLE watcher_alerts ADD CONSTRAINT watcher_alerts_kind_check CHECK (
  kind IN ('validator_offline', 'missed_proposal', 'slashed', 'operator_underperforming', 'beacon_node_unreachable',
           'deposit_front_run', 'keys_unvetted', 'deposits_paused', 'guardian_silent')
);

CREATE TABLE deposit_batch_security (
  batch_id integer PRIMARY KEY REFERENCES deposit_batches (id),
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'released', 'refused')),
  -- 'guardians': released by a quorum; 'unguarded': no guardian set configured; 'legacy': before 0037
  release_mode text CHECK (release_mode IN ('guardians', 'unguarded', 'legacy')),
  release_block_root text CHECK (release_block_root ~ '^0x[0-9a-f]{64}$'),
  release_slot bigint CHECK (release_slot >= 0),
  release_signers text[],
  released_at timestamptz,
  refused_by text,
  refused_reason text CHECK (char_length(refused_reason) <= 1000),
  refused_at timestamptz,
  CONSTRAINT deposit_batch_security_released CHECK ((status = 'released') = (released_at IS NOT NULL)),
  CONSTRAINT deposit_batch_security_refused CHECK ((status = 'refused') = (refused_at IS NOT NULL))
);

INSERT INTO deposit_batch_security (batch_id, status, release_mode, released_at)
SELECT id, 'released', 'legacy', created_at FROM deposit_batches ORDER BY id;

-- A batch is pending from its insert on.
CREATE FUNCTION pk_deposit_batch_security_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO deposit_batch_security (batch_id) VALUES (NEW.id);
  RETURN NULL;
END $$;
CREATE TRIGGER deposit_batches_security_row AFTER INSERT ON deposit_batches
  FOR EACH ROW EXECUTE FUNCTION pk_deposit_batch_security_row();

-- A batch's status moves once: pending → released or pending → refused; rows are never deleted.
CREATE FUNCTION pk_deposit_batch_security_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status <> 'pending' OR NEW.status = 'pending' OR NEW.batch_id <> OLD.batch_id THEN
    RAISE EXCEPTION 'deposit batch %: its status % cannot become %', OLD.batch_id, OLD.status, NEW.status
      USING ERRCODE = 'P0001';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER deposit_batch_security_update BEFORE UPDATE ON deposit_batch_security
  FOR EACH ROW EXECUTE FUNCTION pk_deposit_batch_security_update();
CREATE TRIGGER deposit_batch_security_no_delete BEFORE DELETE ON deposit_batch_security
  FOR EACH ROW EXECUTE FUNCTION pk_reject_change();

-- A key leaves 'deposited' for a refused state only with its batch refused (in the same transaction).
CREATE FUNCTION pk_key_states_refused_batch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (
    SELECT 1 FROM new_rows n
    WHERE n.prev_state IS NOT NULL AND n.state IN ('front_run', 'cancelled')
      AND NOT EXISTS (SELECT 1 FROM deposit_batch_security b
                      WHERE b.batch_id = n.deposit_batch_id AND b.status = 'refused')
  ) THEN
    RAISE EXCEPTION 'a key becomes front_run or cancelled only with its deposit batch refused'
      USING ERRCODE = 'P0001';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER key_states_refused_batch AFTER UPDATE ON key_states
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION pk_key_states_refused_batch();

CREATE TABLE deposit_guardian_messages (
  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('release', 'refuse', 'pause', 'heartbeat')),
  guardian_id text NOT NULL CHECK (char_length(guardian_id) BETWEEN 1 AND 64),
  batch_id integer REFERENCES deposit_batches (id),
  slot bigint NOT NULL CHECK (slot >= 0),
  block_root text CHECK (block_root ~ '^0x[0-9a-f]{64}$'),
  signature text NOT NULL CHECK (signature ~ '^0x[0-9a-f]{192}$'),
  -- which checks ran, at which states and when (the guardian's report), evidence of a refusal
  checks jsonb NOT NULL DEFAULT '{}'::jsonb,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deposit_guardian_messages_batch ON deposit_guardian_messages (batch_id, id) WHERE batch_id IS NOT NULL;
-- one release signature per guardian, batch, block and slot (a guardian may sign again later)
CREATE UNIQUE INDEX deposit_guardian_messages_one_release ON deposit_guardian_messages (batch_id, guardian_id, block_root, slot)
  WHERE kind = 'release';
CREATE TRIGGER deposit_guardian_messages_append_only BEFORE UPDATE OR DELETE ON deposit_guardian_messages
  FOR EACH ROW EXECUTE FUNCTION pk_reject_change();

CREATE TABLE deposit_key_evidence (
  key_id integer NOT NULL REFERENCES key_data (id),
  batch_id integer NOT NULL REFERENCES deposit_batches (id),
  guardian_id text NOT NULL,
  source text NOT NULL CHECK (source IN ('validator', 'pending_deposit', 'el_deposit')),
  view text NOT NULL CHECK (char_length(view) <= 32),
  slot bigint NOT NULL CHECK (slot >= 0),
  credentials text NOT NULL CHECK (credentials ~ '^0x[0-9a-f]{64}$'),
  amount_gwei bigint NOT NULL CHECK (amount_gwei >= 0),
  validator_index bigint,
  deposit_index bigint,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (key_id)
);

CREATE TABLE deposit_security_state (
  id smallint PRIMARY KEY CHECK (id = 1),
  paused boolean NOT NULL DEFAULT false,
  paused_by text,
  pause_slot bigint,
  pause_reason text CHECK (char_length(pause_reason) <= 1000),
  paused_at timestamptz,
  last_unpause_slot bigint,
  unpaused_by text,
  unpause_reason text CHECK (char_length(unpause_reason) <= 1000),
  unpaused_at timestamptz
);
INSERT INTO deposit_security_state (id) VALUES (1);

CREATE TABLE deposit_guardians_seen (
  guardian_id text PRIMARY KEY CHECK (char_length(guardian_id) BETWEEN 1 AND 64),
  last_slot bigint NOT NULL CHECK (last_slot >= 0),
  last_seen_at timestamptz NOT NULL DEFAULT now()
);

-- A vetted limit is never below the operator's keys ever deposited (now with the refused states).
CREATE OR REPLACE FUNCTION pk_operators_before_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  deposited bigint;
  vetted bigint;
BEGIN
  IF NEW.vetted_limit < OLD.vetted_limit THEN
    SELECT coalesce(sum(n) FILTER (WHERE state IN ('deposited', 'active', 'exiting', 'exited', 'slashed', 'front_run', 'cancelled')), 0),
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
