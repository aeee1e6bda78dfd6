#!/usr/bin/env bash
# The whole check, as CI runs it (`pnpm test`): one step a line, each with the reason it is there.
set -euo pipefail
cd "$(dirname "$0")/.."

# The Redis tests need a server on 127.0.0.1:6379: start one (installing Debian's redis-server) if none answers.
bash scripts/ensure-redis.sh

# Reports left by an earlier run must not be counted in this one.
rm -rf packages/*/.vitest apps/*/.vitest

# Build every package, typecheck sources and tests, and check what each package would publish.
turbo run build typecheck check:package --output-logs=errors-only

# The API reference (TypeDoc, from the TSDoc) builds into docs/api (ignored by git): broken TSDoc fails here.
typedoc

# Lint and format, as committed.
biome ci .

# Every package's tests, one package at a time: they start servers, workerd and Redis clients, and
# two cores are all this machine has. One package failing does not stop the others (--continue),
# so every total is printed below.
status=0
turbo run test --concurrency=1 --continue -- --reporter=default --reporter=json --outputFile.json=.vitest/report.json || status=$?

# The soak's 20-second variant (`pnpm soak` runs 60 s): 2-second tokens through the axios adapter
# and the edge wrapper while the mock revokes every token twice; no 401 may reach a caller.
(cd apps/bench && node --expose-gc --import tsx src/soak.ts --short) || status=$?

# One closing line with the totals of every package's vitest report.
node scripts/summary.mjs || status=$?
exit "$status"
