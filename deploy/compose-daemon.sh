#!/bin/sh
# One operator's daemon in docker-compose.yml: `daemon init` on the first start (its mnemonic is
# generated and kept encrypted in its own volume), then `daemon run`.
set -eu
cd /app
pk() { node --import tsx services/cli/src/main.ts "$@"; }
K="${OPERATOR:?OPERATOR is required}"
S=/shared/operators/$K
D=/daemon
if [ ! -f "$D/daemon.json" ]; then
  pk daemon init --dir "$D" --api-url "$ADMIN_API_URL" --operator-id "$(cat "$S/id" 2>/dev/null || echo "$K")" \
    --token-file "$S/token" --network /shared/network.json --password-file "$S/password" \
    --mnemonic-out "$D/mnemonic-backup.txt" --low-water "${DAEMON_LOW_WATER:-4}" \
    --batch-size "${DAEMON_BATCH_SIZE:-4}" --yes
fi
exec node --import tsx services/cli/src/main.ts daemon run --dir "$D" --password-file "$S/password"
