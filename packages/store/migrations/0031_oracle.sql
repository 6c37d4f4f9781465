-- The oracle (packages/oracle): members' signed votes with the report each built, and the
-- decision on each ref slot a quorum agreed on (applied to the ledger, or refused by a sanity
-- check, with the checks' figures). Oracle members authenticate with tokens of role 'oracle'.
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_role_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_role_check CHECK (role IN ('admin', 'dao', 'operator', 'oracle'));

-- A member's newest vote for a ref slot (a vote before consensus may be replaced).
CREATE TABLE oracle_votes (
  ref_slot bigint NOT NULL CHECK (ref_slot >= 0),
  member_id text NOT NULL,
  consensus_version integer NOT NULL,
  report_hash text NOT NULL CHECK (report_hash ~ '^0x[0-9a-f]{64}$'),
  signature text NOT NULL,
  report bytea NOT NULL,
  voted_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (ref_slot, member_id)
);

CREATE TABLE oracle_reports (
  ref_slot bigint PRIMARY KEY,
  report_hash text NOT NULL CHECK (report_hash ~ '^0x[0-9a-f]{64}$'),
  report bytea NOT NULL,
  status text NOT NULL CHECK (status IN ('applied', 'refused')),
  -- every sanity check with its figure and limit
  sanity jsonb NOT NULL,
  -- what the CL-decrease window remembers of an applied report
  history_point jsonb,
  ledger_seq bigint REFERENCES ledger_entries (seq),
  decided_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((status = 'applied') = (ledger_seq IS NOT NULL))
);
