/**
 * Latency of the operator and review routes under load: autocannon on loopback against the real
 * admin-api process over PostgreSQL, with /health/live (no auth, no database) as the floor that
 * fastify itself sets on this machine. Bounded: each route runs DURATION seconds.
 *
 *   node --import tsx bench/registry/api-routes.ts [operators=200] [keysPerOperator=100] [seconds=5]
 */
import {
  autocannon,
  createBenchDatabase,
  insertToken,
  type RunningServer,
  seedKeys,
  seedOperators,
  seedReviewStates,
  startServer,
} from "./api-support.js";

const OPERATORS = Number(process.argv[2] ?? 200);
const KEYS_PER_OPERATOR = Number(process.argv[3] ?? 100);
const DURATION = Number(process.argv[4] ?? 5);
const CONNECTIONS = 10;

async function run(server: RunningServer, name: string, path: string, token?: string): Promise<void> {
  const r = await autocannon({
    url: `${server.url}${path}`,
    connections: CONNECTIONS,
    duration: DURATION,
    ...(token !== undefined ? { headers: { authorization: `Bearer ${token}` } } : {}),
  });
  console.log(
    `${name.padEnd(28)} p50 ${String(r.latency.p50).padStart(4)} ms  p99 ${String(r.latency.p99).padStart(4)} ms  ${Math.round(r.requests.average).toString().padStart(6)} req/s  (${r.requests.total} requests, non-2xx ${r.non2xx}, errors ${r.errors})`,
  );
  if (r.non2xx > 0 || r.errors > 0)
    throw new Error(`${name}: ${r.non2xx} non-2xx responses, ${r.errors} errors`);
}

const db = createBenchDatabase();
let server: RunningServer | undefined;
try {
  server = await startServer(db.url);
  seedOperators(db.url, OPERATORS, KEYS_PER_OPERATOR);
  seedKeys(db.url, OPERATORS * KEYS_PER_OPERATOR, OPERATORS);
  seedReviewStates(db.url);
  const admin = insertToken(db.url, "admin");
  const dao = insertToken(db.url, "dao");
  console.log(
    `${OPERATORS} operators, ${OPERATORS * KEYS_PER_OPERATOR} keys; ${CONNECTIONS} connections, ${DURATION} s per route, loopback`,
  );
  await run(server, "GET /health/live (floor)", "/health/live");
  await run(server, "GET /v1/operators", "/v1/operators", admin);
  await run(server, "GET /v1/operators/{id}", `/v1/operators/${Math.ceil(OPERATORS / 2)}`, admin);
  await run(server, "GET /v1/review", "/v1/review", dao);
} finally {
  await server?.stop();
  db.drop();
}
