-- Admin API bearer tokens: only the sha256 of each token is stored.
CREATE TABLE IF NOT EXISTS api_tokens (
  id BIGSERIAL PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  role TEXT NOT NULL CHECK (role IN ('admin', 'dao', 'operator')),
  operator_id integer REFERENCES operators (id),
  label TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  revoked_at TIMESTAMPTZ,
  last_used_at TIMESTAMPTZ,
  CHECK ((role = 'operator') = (operator_id IS NOT NULL))
);
