#!/bin/sh
# One-shot set-up of the docker-compose pool (the `setup` service), with poolkeeper's own
# commands only. Idempotent: a second `docker compose up` finds /shared/pool.env and does nothing.
#
# Writes to /shared (a volume every service mounts; files 0600, directories 0700):
#   pool.env                    settings every service reads (node --env-file): the network file,
#                               the oracle members' public keys and quorum, the DAO and guardians
#   admin-token, dao-token      API tokens (never printed)
#   oracle/<id>.key, .token     each oracle member's BLS key and API token (role oracle)
#   operators/<k>/token         each operator's API token for its daemon (role operator)
#   operators/<k>/password      the password its daemon encrypts its mnemonic with
# The operators themselves are created through the admin API by `operators` below, once it is up.
set -eu
umask 077
cd /app
pk() { node --import tsx services/cli/src/main.ts "$@"; }
S=/shared
OPERATORS="${OPERATORS:-2}"
MEMBERS="${ORACLE_MEMBER_IDS:-oracle-1 oracle-2 oracle-3}"

if [ -f "$S/pool.env" ]; then
  echo "setup: $S/pool.env exists; nothing to do"
  exit 0
fi
echo "setup: waiting for the chain's network file"
i=0
until [ -f "$S/network.json" ]; do
  i=$((i + 1)); [ "$i" -gt 120 ] && { echo "setup: no $S/network.json after 120 s" >&2; exit 1; }
  sleep 1
done

# API tokens: the last line of `tokens create` is the token; it goes to a file only.
token() { pk tokens create "$@" --wait | tail -n 1; }
token --role admin --label compose-admin > "$S/admin-token.tmp" && mv "$S/admin-token.tmp" "$S/admin-token"
token --role dao --label compose-dao > "$S/dao-token.tmp" && mv "$S/dao-token.tmp" "$S/dao-token"

mkdir -p "$S/oracle"
members=""
for id in $MEMBERS; do
  pub=$(pk oracle-member keygen --out "$S/oracle/$id.key" | tail -n 1)
  token --role oracle --label "compose $id" > "$S/oracle/$id.token"
  members="${members:+$members,}$id=$pub"
done

for k in $(seq 1 "$OPERATORS"); do
  mkdir -p "$S/operators/$k"
  node -e 'process.stdout.write(require("node:crypto").randomBytes(18).toString("base64url"))' \
    > "$S/operators/$k/password"
done

cat > "$S/pool.env.tmp" <<ENV
POOLKEEPER_NETWORK=$S/network.json
ORACLE_MEMBERS=$members
ORACLE_QUORUM=2
ENV
mv "$S/pool.env.tmp" "$S/pool.env"
echo "setup: done (tokens and keys in $S, mode 0600)"
