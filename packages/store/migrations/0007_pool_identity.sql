-- The pool's identity: the network its deposits are signed for and the withdrawal credentials
-- they pay out to. Recorded once, by the first service that starts on the database with a
-- network and credentials configured (pinPoolIdentity); every later start compares its
-- configuration with it and refuses to run when they differ. One row, never updated or deleted:
-- a database belongs to one network and one set of credentials for its whole life.

CREATE TABLE pool_identity (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  network_name text NOT NULL CHECK (char_length(network_name) BETWEEN 1 AND 64),
  genesis_fork_version bytea NOT NULL CHECK (octet_length(genesis_fork_version) = 4),
  genesis_validators_root bytea CHECK (octet_length(genesis_validators_root) = 32),
  deposit_contract_address text CHECK (deposit_contract_address ~ '^0x[0-9a-f]{40}$'),
  chain_id bigint CHECK (chain_id >= 0),
  withdrawal_credentials bytea NOT NULL CHECK (octet_length(withdrawal_credentials) = 32),
  recorded_at timestamptz NOT NULL DEFAULT now()
);

-- pk_reject_change (0001): "pool_identity is append-only: UPDATE is not allowed".
CREATE TRIGGER pool_identity_immutable BEFORE UPDATE OR DELETE ON pool_identity
  FOR EACH ROW EXECUTE FUNCTION pk_reject_change();
CREATE TRIGGER pool_identity_no_truncate BEFORE TRUNCATE ON pool_identity
  FOR EACH STATEMENT EXECUTE FUNCTION pk_reject_change();
