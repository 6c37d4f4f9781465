-- The pool ledger (packages/ledger): stETH shares, the buffer, deposits paid from it, and the
-- withdrawal queue, as Lido's contracts keep them. ledger_entries is the history, append-only:
-- every change is one entry with its input and every amount it computed, so any balance at any
-- point can be recomputed from it. The other tables are the state after the last entry
-- (ledger_state.last_seq), written in the entry's transaction.
CREATE TABLE ledger_entries (
  seq bigserial PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('submit', 'deposit', 'withdrawal_request', 'withdrawal_finalize', 'withdrawal_claim', 'report')),
  account text CHECK (account ~ '^0x[0-9a-f]{40}$'),
  data jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_entries_by_account ON ledger_entries (account, seq) WHERE account IS NOT NULL;
-- a report is applied once: one entry per ref slot
CREATE UNIQUE INDEX ledger_entries_one_report_per_ref_slot ON ledger_entries (((data -> 'input' ->> 'refSlot')::bigint))
  WHERE kind = 'report';

CREATE FUNCTION pk_ledger_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger_entries is append-only: % refused', TG_OP USING ERRCODE = 'P0001';
END $$;
CREATE TRIGGER pk_ledger_entries_no_update BEFORE UPDATE OR DELETE ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION pk_ledger_entries_append_only();
CREATE TRIGGER pk_ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
  FOR EACH STATEMENT EXECUTE FUNCTION pk_ledger_entries_append_only();

-- One row: the ledger's totals after entry last_seq (amounts as decimal strings).
CREATE TABLE ledger_state (
  id smallint PRIMARY KEY CHECK (id = 1),
  last_seq bigint NOT NULL,
  data jsonb NOT NULL
);

CREATE TABLE ledger_accounts (
  account text PRIMARY KEY CHECK (account ~ '^0x[0-9a-f]{40}$'),
  shares numeric(78, 0) NOT NULL CHECK (shares >= 0)
);

CREATE TABLE withdrawal_requests (
  id bigint PRIMARY KEY CHECK (id > 0),
  owner text NOT NULL CHECK (owner ~ '^0x[0-9a-f]{40}$'),
  steth numeric(78, 0) NOT NULL CHECK (steth > 0),
  shares numeric(78, 0) NOT NULL CHECK (shares > 0),
  cumulative_steth numeric(78, 0) NOT NULL,
  cumulative_shares numeric(78, 0) NOT NULL,
  requested_at bigint NOT NULL,
  report_timestamp bigint NOT NULL,
  claimed_wei numeric(78, 0),
  claimed_seq bigint REFERENCES ledger_entries (seq)
);
CREATE INDEX withdrawal_requests_by_owner ON withdrawal_requests (owner, id);

-- Lido's finalization checkpoints: requests from from_request_id on (up to the next
-- checkpoint's) were finalized at max_share_rate (1e27 precision).
CREATE TABLE withdrawal_checkpoints (
  idx bigint PRIMARY KEY CHECK (idx > 0),
  from_request_id bigint NOT NULL UNIQUE,
  max_share_rate numeric(78, 0) NOT NULL CHECK (max_share_rate > 0),
  seq bigint NOT NULL REFERENCES ledger_entries (seq)
);
