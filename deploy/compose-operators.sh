#!/bin/sh
# One-shot (the `operators` service of docker-compose.yml): once the admin API answers, creates
# the pool's operators through it (admin token) and an operator token for each one's daemon
# (/shared/operators/<k>/token, 0600). Idempotent: an operator whose token file exists is skipped.
set -eu
umask 077
cd /app
pk() { node --import tsx services/cli/src/main.ts "$@"; }
S=/shared
OPERATORS="${OPERATORS:-2}"
VETTED_LIMIT="${VETTED_LIMIT:-8}"
API="${ADMIN_API_URL:?ADMIN_API_URL is required}"

for k in $(seq 1 "$OPERATORS"); do
  [ -f "$S/operators/$k/token" ] && continue
  id=$(API="$API" K="$k" LIMIT="$VETTED_LIMIT" TOKEN_FILE="$S/admin-token" node -e '
    const fs = require("node:fs");
    const token = fs.readFileSync(process.env.TOKEN_FILE, "utf8").trim();
    const k = process.env.K;
    const reward = "0x" + require("node:crypto").createHash("sha256").update("compose/operator/" + k).digest("hex").slice(0, 40);
    fetch(process.env.API + "/v1/operators", {
      method: "POST",
      headers: { authorization: "Bearer " + token, "content-type": "application/json" },
      body: JSON.stringify({ name: "operator-" + k, rewardAddress: reward, vettedLimit: Number(process.env.LIMIT), reason: "docker compose" }),
    }).then(async (r) => {
      const body = await r.json();
      if (!r.ok) { console.error("operators: " + r.status + " " + (body.error?.message ?? "")); process.exit(1); }
      process.stdout.write(String(body.data.id));
    }, (e) => { console.error("operators: " + e.message); process.exit(1); });
  ')
  pk tokens create --role operator --operator "$id" --label "compose operator $k" | tail -n 1 \
    > "$S/operators/$k/token.tmp"
  printf %s "$id" > "$S/operators/$k/id"
  mv "$S/operators/$k/token.tmp" "$S/operators/$k/token"
  echo "operators: operator $k has id $id; its daemon's token is in $S/operators/$k/token"
done
