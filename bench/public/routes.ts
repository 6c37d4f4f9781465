/**
 * The public routes (GET /v1/public/..., no token) under load: autocannon on loopback against two
 * real admin-api processes on the same PostgreSQL database, one with the public cache (its
 * default TTL, 5 s) and one without (PUBLIC_CACHE_TTL_MS=0: every request reads the database),
 * route by route in the same run; /health/live is the floor fastify sets on this machine.
 * Bounded: DURATION seconds per route and process. The rate limit is raised out of the way here
 * (the test suite checks it answers 429).
 *
 *   node --import tsx bench/public/routes.ts [operators=200] [keysPerOperator=100] [seconds=3]
 */
import {
  autocannon,
  createBenchDatabase,
  type RunningServer,
  seedKeys,
  seedOperators,
  seedReviewStates,
  startServer,
} from "../registry/api-support.js";

const OPERATORS = Number(process.argv[2] ?? 200);
const KEYS_PER_OPERATOR = Number(process.argv[3] ?? 100);
const DURATION = Number(process.argv[4] ?? 3);
const CONNECTIONS = 10;
const ROUTES = ["operators", "concentration", "token", "fees", "withdrawals", "risk", "control"];

async function run(server: RunningServer, path: string) {
  const r = await autocannon({ url: `${server.url}${path}`, connections: CONNECTIONS, duration: DURATION });
  if (r.non2xx > 0 || r.errors > 0)
    throw new Error(`${path}: ${r.non2xx} non-2xx responses, ${r.errors} errors`);
  return r;
}

const db = createBenchDatabase();
const servers: RunningServer[] = [];
try {
  const env = { PUBLIC_RATE_LIMIT_PER_MINUTE: "100000000" };
  const cached = await startServer(db.url, env); // migrates the database
  servers.push(cached);
  const uncached = await startServer(db.url, { ...env, PUBLIC_CACHE_TTL_MS: "0" });
  servers.push(uncached);
  seedOperators(db.url, OPERATORS, KEYS_PER_OPERATOR);
  seedKeys(db.url, OPERATORS * KEYS_PER_OPERATOR, OPERATORS);
  seedReviewStates(db.url);
  console.log(
    `${OPERATORS} operators, ${OPERATORS * KEYS_PER_OPERATOR} keys; ${CONNECTIONS} connections, ${DURATION} s per route and process, loopback`,
  );
  const floor = await run(cached, "/health/live");
  console.log(
    `GET /health/live (floor)            p99 ${String(floor.latency.p99).padStart(4)} ms  ${Math.round(floor.requests.average).toString().padStart(6)} req/s`,
  );
  console.log("route                          cached: p99   req/s   | uncached: p99   req/s  | speed-up");
  for (const name of ROUTES) {
    const path = `/v1/public/${name}`;
    const c = await run(cached, path);
    const u = await run(uncached, path);
    console.log(
      `GET ${path.padEnd(26)} ${String(c.latency.p99).padStart(6)} ms ${Math.round(c.requests.average).toString().padStart(7)} | ${String(u.latency.p99).padStart(8)} ms ${Math.round(u.requests.average).toString().padStart(6)} | ${(c.requests.average / Math.max(1, u.requests.average)).toFixed(1)}×`,
    );
  }
} finally {
  for (const s of servers) await s.stop();
  db.drop();
}
