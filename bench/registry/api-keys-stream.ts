/**
 * GET /v1/keys with 1,000,000 keys stored: the whole list streamed in one response (target ≤ 10 s,
 * flat memory), against the peer way of reading it: pages of 10,000 with a cursor.
 * Real PostgreSQL (BENCH_DATABASE_URL or TEST_DATABASE_URL); the server is the real admin-api
 * process, and its peak RSS (VmHWM) is read from /proc.
 *
 *   node --import tsx bench/registry/api-keys-stream.ts [keys=1000000]
 */
import {
  createBenchDatabase,
  insertToken,
  type RunningServer,
  seedKeys,
  seedOperators,
  startServer,
} from "./api-support.js";

const KEYS = Number(process.argv[2] ?? 1_000_000);
const OPERATORS = 100;
const PAGE = 10_000;

interface Read {
  seconds: number;
  cpuSeconds: number;
  keys: number;
  bytes: number;
  peakSampledRssMiB: number;
}

/** Read a response body chunk by chunk, counting keys without holding the body. */
/** Server RSS when the client had read 25%, 50%, 75% and 100% of the keys: flat means no growth. */
const rssAtQuarter: number[] = [];

async function readCounting(
  res: Response,
  server: RunningServer,
  onTail?: (tail: string) => void,
): Promise<{ keys: number; bytes: number; peak: number }> {
  if (res.status !== 200 || res.body === null) throw new Error(`GET /v1/keys: HTTP ${res.status}`);
  const decoder = new TextDecoder();
  let keys = 0;
  let bytes = 0;
  let carry = "";
  let peak = server.rssMiB();
  let lastSample = Date.now();
  for await (const chunk of res.body) {
    bytes += chunk.byteLength;
    const text = carry + decoder.decode(chunk, { stream: true });
    // Each key object starts with {"id": ; count across chunk boundaries with a carry.
    let at = text.indexOf('{"id":');
    while (at !== -1) {
      keys++;
      at = text.indexOf('{"id":', at + 6);
    }
    while (rssAtQuarter.length < 4 && keys >= ((rssAtQuarter.length + 1) * KEYS) / 4) {
      rssAtQuarter.push(Math.round(server.rssMiB()));
    }
    carry = text.slice(-5); // shorter than the pattern: a match is never counted twice
    if (Date.now() - lastSample > 100) {
      peak = Math.max(peak, server.rssMiB());
      lastSample = Date.now();
    }
    onTail?.(text.slice(-300));
  }
  return { keys, bytes, peak };
}

async function streamAll(server: RunningServer, token: string): Promise<Read & { metaCount: number }> {
  const t0 = performance.now();
  const cpu0 = server.cpuSeconds();
  const res = await fetch(`${server.url}/v1/keys`, { headers: { authorization: `Bearer ${token}` } });
  let tail = "";
  const r = await readCounting(res, server, (t) => {
    tail = t;
  });
  const seconds = (performance.now() - t0) / 1000;
  const m = /"meta":\{"count":(\d+)/.exec(tail);
  return {
    seconds,
    cpuSeconds: server.cpuSeconds() - cpu0,
    keys: r.keys,
    bytes: r.bytes,
    peakSampledRssMiB: r.peak,
    metaCount: m === null ? -1 : Number(m[1]),
  };
}

async function paged(server: RunningServer, token: string): Promise<Read> {
  const t0 = performance.now();
  const cpu0 = server.cpuSeconds();
  let cursor: string | null = null;
  let keys = 0;
  let bytes = 0;
  let peak = server.rssMiB();
  do {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (cursor !== null) q.set("cursor", cursor);
    const res = await fetch(`${server.url}/v1/keys?${q}`, { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 200) throw new Error(`GET /v1/keys page: HTTP ${res.status}`);
    const text = await res.text();
    bytes += text.length;
    const body = JSON.parse(text) as { data: unknown[]; meta: { nextCursor: string | null } };
    keys += body.data.length;
    cursor = body.meta.nextCursor;
    peak = Math.max(peak, server.rssMiB());
  } while (cursor !== null);
  return {
    seconds: (performance.now() - t0) / 1000,
    cpuSeconds: server.cpuSeconds() - cpu0,
    keys,
    bytes,
    peakSampledRssMiB: peak,
  };
}

const db = createBenchDatabase();
let server: RunningServer | undefined;
try {
  // The server migrates the empty database on start; then the rows go in with plain SQL.
  server = await startServer(db.url);
  const seed0 = performance.now();
  seedOperators(db.url, OPERATORS, KEYS);
  seedKeys(db.url, KEYS, OPERATORS);
  const token = insertToken(db.url, "admin");
  console.log(
    `seeded ${KEYS} keys over ${OPERATORS} operators in ${((performance.now() - seed0) / 1000).toFixed(1)} s`,
  );
  const idleRss = server.rssMiB();

  const s = await streamAll(server, token);
  const peakAfterStream = server.peakRssMiB();
  console.log(
    `stream  GET /v1/keys          : ${s.keys} keys (meta.count ${s.metaCount}), ${(s.bytes / 2 ** 20).toFixed(0)} MiB in ${s.seconds.toFixed(2)} s = ${Math.round(s.keys / s.seconds)} keys/s; server CPU ${s.cpuSeconds.toFixed(1)} s; server RSS idle ${idleRss.toFixed(0)} MiB, at 25/50/75/100% ${rssAtQuarter.join("/")} MiB, peak ${peakAfterStream.toFixed(0)} MiB (VmHWM)  [target <= 10 s]`,
  );
  if (s.keys !== KEYS || s.metaCount !== KEYS)
    throw new Error(`expected ${KEYS} keys, got ${s.keys} / ${s.metaCount}`);

  const p = await paged(server, token);
  console.log(
    `peer    pages of ${PAGE} + cursor: ${p.keys} keys in ${p.seconds.toFixed(2)} s = ${Math.round(p.keys / p.seconds)} keys/s (${Math.ceil(p.keys / PAGE)} requests); server CPU ${p.cpuSeconds.toFixed(1)} s; server RSS peak ${server.peakRssMiB().toFixed(0)} MiB`,
  );
  if (p.keys !== KEYS) throw new Error(`paged read returned ${p.keys} keys, expected ${KEYS}`);
  console.log(`ratio stream / paged time: ${(s.seconds / p.seconds).toFixed(2)}`);
  const [load1] = (await import("node:os")).loadavg();
  console.log(
    `machine: ${(await import("node:os")).cpus().length} cores, load average ${load1?.toFixed(1)} (shared)`,
  );
} finally {
  await server?.stop();
  db.drop();
}
