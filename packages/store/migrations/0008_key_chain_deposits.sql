-- A key's deposit as the chain first showed it (Electra and later: a pending deposit in the
-- finalized state's pending_deposits, before any validator exists): recorded once by the watcher,
-- the first one seen wins (as the chain keeps the first deposit's credentials). The credentials
-- are the chain's, which may differ from the key's uploaded ones (a front-run deposit).
CREATE TABLE key_chain_deposits (
  key_id integer PRIMARY KEY REFERENCES key_data (id),
  slot bigint NOT NULL CHECK (slot >= 0),
  amount_gwei bigint NOT NULL CHECK (amount_gwei > 0),
  withdrawal_credentials bytea NOT NULL CHECK (octet_length(withdrawal_credentials) = 32),
  seen_epoch bigint NOT NULL CHECK (seen_epoch >= 0),
  seen_at timestamptz NOT NULL DEFAULT now()
);
