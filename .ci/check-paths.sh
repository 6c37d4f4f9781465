#!/usr/bin/env bash
# Fails if a source, test, benchmark or config file names a path outside the repository: an
# absolute path of a development machine (/work/, /home/, /root/, /Users/) or a relative path that
# climbs out of the clone (../shared, or more ../ than the file is deep). Everything a test reads
# lives in the repository (test/fixtures).
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
files=$(git ls-files -- 'packages' 'services' 'test' 'bench' 'config' '.ci' '*.json' '*.ts' '*.mjs' \
  | grep -v -E '^(test/fixtures/|pnpm-lock.yaml$)' || true)
# 1. absolute paths of a development machine, and the shared kit
if hits=$(grep -n -E '(/work/|/home/[a-z]|/Users/|/root/|\.\./shared\b)' $files 2>/dev/null | grep -v '^\.ci/check-paths\.sh:'); then
  echo "paths outside the repository:"; echo "$hits"; status=1
fi
# 2. relative paths that climb above the repository root
for f in $files; do
  depth=$(($(tr -cd '/' <<<"$f" | wc -c)))
  while IFS= read -r m; do
    ups=$(grep -o '\.\./' <<<"$m" | wc -l)
    if [ "$ups" -gt "$depth" ]; then echo "$f: climbs out of the repository: $m"; status=1; fi
  done < <(grep -o -E '"(\.\./)+[^"]*"' "$f" 2>/dev/null || true)
done
[ $status -eq 0 ] && echo "check-paths: every file stays inside the repository"
exit $status
