/**
 * Latency of the performance and alert routes on the real admin-api process over PostgreSQL, with
 * the watcher's tables filled for 30 days of hoodi epochs (6750) and OPERATORS operators (one
 * watcher_operator_epochs row per operator per epoch, as the watcher writes them), and
 * /health/live (no auth, no database) as the floor fastify sets on this machine. "first request"
 * is the cold one: for the operator windows it computes the sums that later requests take from the
 * per-window cache (until the next stored epoch), so it is the uncached cost.
 *
 *   node --import tsx bench/admin-api/performance.ts [operators=200] [seconds=5]
 */
import {
  autocannon,
  createBenchDatabase,
  insertToken,
  psql,
  type RunningServer,
  startServer,
} from "../registry/api-support.js";

const OPERATORS = Number(process.argv[2] ?? 200);
const DURATION = Number(process.argv[3] ?? 5);
const CONNECTIONS = 4;
const EPOCHS = 6750; // 30 days of 12 s slots, 32 per epoch
const FIRST = 100_000;

function seed(url: string): void {
  const last = FIRST + EPOCHS - 1;
  psql(
    url,
    `BEGIN;
     INSERT INTO watcher_network_epochs (network, epoch, att_assigned, att_included, att_correctness_sum,
       att_delay_score_sum, att_effectiveness_sum, proposals_assigned, proposals_made, sync_assigned,
       sync_included, pool_validators)
     SELECT 'hoodi', e, 1000000, 995000, 990000, 994000, 985000, 32, 31, 16384, 16300, ${OPERATORS * 50}
     FROM generate_series(${FIRST}, ${last}) AS e;
     INSERT INTO watcher_operator_epochs (network, epoch, operator_id, validators, att_assigned, att_included,
       att_correctness_sum, att_delay_score_sum, att_effectiveness_sum, proposals_assigned, proposals_made,
       sync_assigned, sync_included, balance_delta_gwei)
     SELECT 'hoodi', e, o, 50, 50, 50 - (e + o) % 2, 49.5, 49.8, 49.3, (e + o) % 3 / 2, (e + o) % 3 / 2,
       0, 0, 50 * 14000
     FROM generate_series(${FIRST}, ${last}) AS e, generate_series(1, ${OPERATORS}) AS o;
     INSERT INTO watcher_validators (network, validator_index, pubkey, operator_id, first_epoch)
     VALUES ('hoodi', 7, decode(repeat('07', 48), 'hex'), 1, ${FIRST});
     INSERT INTO watcher_validator_epochs (network, validator_index, epoch, operator_id, att_slot, att_included,
       att_flags, balance_delta_gwei)
     SELECT 'hoodi', 7, e, 1, e * 32 + 5, false, 0, -9000 FROM generate_series(${FIRST}, ${last}, 10) AS e;
     INSERT INTO watcher_alerts (network, kind, dedup_key, operator_id, validator_index, epoch, message)
     SELECT 'hoodi', 'validator_offline', 'offline:' || i, 1 + i % ${OPERATORS}, i, ${FIRST} + i % ${EPOCHS}, 'offline'
     FROM generate_series(1, 20000) AS i;
     COMMIT;
     ANALYZE;`,
  );
}

async function measure(server: RunningServer, path: string, token?: string): Promise<void> {
  const headers = token === undefined ? undefined : { authorization: `Bearer ${token}` };
  // one request first: its status must be 200
  const t0 = performance.now();
  const first = await fetch(`${server.url}${path}`, headers === undefined ? {} : { headers });
  if (first.status !== 200) throw new Error(`${path}: ${first.status} ${await first.text()}`);
  await first.arrayBuffer();
  const coldMs = performance.now() - t0;
  const cpu0 = server.cpuSeconds();
  const r = await autocannon({
    url: `${server.url}${path}`,
    connections: CONNECTIONS,
    duration: DURATION,
    ...(headers !== undefined ? { headers } : {}),
  });
  const cpu = server.cpuSeconds() - cpu0;
  console.log(
    `${path.padEnd(58)} ${r.requests.average.toFixed(0).padStart(6)} req/s  p50 ${String(r.latency.p50).padStart(5)} ms  p99 ${String(r.latency.p99).padStart(5)} ms  non-2xx ${r.non2xx}  server CPU ${((cpu / DURATION) * 100).toFixed(0)}%  first request ${coldMs.toFixed(0)} ms`,
  );
}

async function main(): Promise<void> {
  const db = createBenchDatabase();
  let server: RunningServer | undefined;
  try {
    server = await startServer(db.url); // migrates the database
    const t0 = performance.now();
    seed(db.url);
    console.log(
      `seeded ${EPOCHS} epochs × ${OPERATORS} operators (${(EPOCHS * OPERATORS).toLocaleString("en")} operator-epoch rows) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const dao = insertToken(db.url, "dao");
    console.log(`autocannon: ${CONNECTIONS} connections, ${DURATION} s per route`);
    await measure(server, "/health/live");
    for (const w of ["1d", "7d", "30d"]) await measure(server, `/v1/performance/operators?window=${w}`, dao);
    await measure(server, "/v1/performance/operators?window=30d&operator=1", dao);
    await measure(server, `/v1/performance/validators/0x${"07".repeat(48)}`, dao);
    await measure(
      server,
      `/v1/performance/validators/0x${"07".repeat(48)}?from=${FIRST}&to=${FIRST + EPOCHS - 1}`,
      dao,
    );
    await measure(server, "/v1/alerts?limit=100", dao);
    await measure(server, "/v1/alerts?operator=3&kind=validator_offline&limit=100", dao);
    console.log(`server peak RSS ${server.peakRssMiB().toFixed(0)} MiB`);
  } finally {
    await server?.stop();
    db.drop();
  }
}

await main();
