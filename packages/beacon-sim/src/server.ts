/**
 * One sim node: fastify 5 + @lodestar/api's own route definitions (`registerRoutes`), so paths,
 * JSON/SSZ encodings, meta headers and error shapes are those real clients speak. Faults are
 * switched at runtime per node. Large validator lists are streamed as JSON (never one string).
 */
import { Readable } from "node:stream";
import { HttpHeader, routes } from "@lodestar/api";
import { registerRoutes } from "@lodestar/api/beacon/server";
import { addSszContentTypeParser } from "@lodestar/api/server";
import { ValidationError } from "@poolkeeper/core";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { NodeApi, type NodeView } from "./api.js";
import { newValidatorFields, type SimChain, type ValidatorFields } from "./chain.js";
import { registerExecutionRoutes } from "./execution.js";
import { type FaultSpec, parseFault } from "./scenario.js";
import { writeU64 } from "./ssz-state.js";

/** Above this many entries, validator and balance lists are written by the sim's own streaming writer (same JSON, faster, no V8 string limit). */
export const STREAM_THRESHOLD = 500;

const NAMESPACES = ["beacon", "config", "debug", "events", "node", "validator"] as const;

export class SimNode implements NodeView {
  readonly chain: SimChain;
  private faults: FaultSpec[] = [];
  private stuckAt: number | undefined;

  constructor(chain: SimChain, faults: FaultSpec[] = []) {
    this.chain = chain;
    for (const f of faults) this.addFault(f);
  }

  headSlot(): number {
    return this.stuckAt === undefined ? this.chain.headSlot : Math.min(this.stuckAt, this.chain.headSlot);
  }
  isSyncing(): boolean {
    return this.faults.some((f) => f.kind === "syncing");
  }

  /** Adds a fault: error (5xx), timeout (never answers), slow (delayMs), syncing, stuck (head frozen at atSlot or now). */
  addFault(input: FaultSpec | Record<string, unknown>): void {
    const f = parseFault(input);
    if (f.kind === "stuck") this.stuckAt = f.atSlot ?? this.chain.headSlot;
    this.faults.push(f);
  }
  /** Removes all faults (or those of one kind). */
  clearFaults(kind?: FaultSpec["kind"]): void {
    this.faults = kind === undefined ? [] : this.faults.filter((f) => f.kind !== kind);
    if (!this.faults.some((f) => f.kind === "stuck")) this.stuckAt = undefined;
  }
  activeFaults(): readonly FaultSpec[] {
    return this.faults;
  }
}

export interface BuildAppOptions {
  /** Log requests (pino options for fastify); off by default. */
  logger?: boolean;
  /** Lists longer than this are streamed (default STREAM_THRESHOLD; Infinity: never, as plain Lodestar). */
  streamThreshold?: number;
}

export async function buildApp(
  node: SimNode,
  opts: BuildAppOptions = {},
): Promise<{ app: FastifyInstance; api: NodeApi; hung: Set<() => void> }> {
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: 512 * 1024 * 1024,
    forceCloseConnections: true,
    // Lodestar's query parsing: repeated and comma-separated arrays (?id=1,2&id=3).
    routerOptions: { querystringParser: (str: string) => parseQuery(str) },
  });
  addSszContentTypeParser(app);
  const api = new NodeApi(node);
  const hung = new Set<() => void>();

  app.addHook("onRequest", async (req, reply) => {
    for (const f of node.activeFaults()) {
      if (f.pathContains !== undefined && !req.url.includes(f.pathContains)) continue;
      if (f.kind === "error") {
        const status = f.status ?? 503;
        return reply
          .code(status)
          .send({ statusCode: status, error: "Service Unavailable", message: "beacon-sim: injected fault" });
      }
      if (f.kind === "timeout") {
        await new Promise<void>((resolve) => {
          hung.add(resolve);
        });
      }
      if (f.kind === "slow") await new Promise((r) => setTimeout(r, f.delayMs ?? 1000));
      if (f.kind === "syncing" && req.url.startsWith("/eth/v1/validator/duties")) {
        return reply
          .code(503)
          .send({ statusCode: 503, error: "Service Unavailable", message: "Node is syncing" });
      }
    }
    return undefined;
  });

  const threshold = opts.streamThreshold ?? STREAM_THRESHOLD;
  app.addHook("preHandler", async (req, reply) => streamLargeLists(api, req, reply, threshold));

  registerRoutes(app, node.chain.config, api.methods(), [...NAMESPACES]);
  registerExecutionRoutes(app, node.chain);
  return { app, api, hung };
}

function parseQuery(str: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(str)) {
    const prev = out[k];
    const parts = v.split(",").filter((p) => p !== "");
    if (prev === undefined) out[k] = parts.length > 1 ? parts : v;
    else out[k] = [...(Array.isArray(prev) ? prev : [prev]), ...parts];
  }
  return out;
}

function asList(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  if (Array.isArray(v)) return v.map(String);
  return String(v)
    .split(",")
    .filter((s) => s !== "");
}

/**
 * Whether an Accept header prefers SSZ to JSON (RFC 9110 quality values, `*\/*` counting as JSON,
 * as Lodestar's server negotiates).
 */
export function prefersSsz(accept: string | undefined): boolean {
  let ssz = 0;
  let json = accept === undefined ? 1 : 0;
  for (const part of (accept ?? "").toLowerCase().split(",")) {
    const [type = "", ...params] = part.split(";").map((x) => x.trim());
    const qp = params.find((p) => p.startsWith("q="));
    const q = qp === undefined ? 1 : Number(qp.slice(2));
    if (!(q > 0 && q <= 1)) continue;
    if (type === "application/octet-stream") ssz = Math.max(ssz, q);
    else if (type === "application/json" || type === "*/*") json = Math.max(json, q);
  }
  return ssz > json;
}

/** One validator_balances record of Lodestar's SSZ answer: its size and where index and balance sit. */
const BALANCE_RECORD = (() => {
  const t = routes.beacon.state.ValidatorBalanceListType.elementType as unknown as {
    fixedSize: number;
    fieldsEntries: Array<{ fieldName: string }>;
    getFieldRanges(dv: DataView, start: number, end: number): Array<{ start: number }>;
  };
  const r = t.getFieldRanges(new DataView(new ArrayBuffer(t.fixedSize)), 0, t.fixedSize);
  const at = (name: string) => r[t.fieldsEntries.findIndex((f) => f.fieldName === name)]?.start ?? 0;
  return { size: t.fixedSize, index: at("index"), balance: at("balance") };
})();

/**
 * GET/POST .../validators and .../validator_balances with more than STREAM_THRESHOLD entries:
 * the same JSON Lodestar's route would write, produced in chunks; balances asked for as SSZ are
 * written straight from the chain's arrays (Lodestar's handler would build an object per entry).
 * Smaller answers go through the Lodestar handler unchanged.
 */
async function streamLargeLists(
  api: NodeApi,
  req: FastifyRequest,
  reply: FastifyReply,
  threshold: number,
): Promise<FastifyReply | undefined> {
  const m = /^\/eth\/v1\/beacon\/states\/([^/]+)\/(validators|validator_balances)(\?.*)?$/.exec(req.url);
  if (m === null) return undefined;
  const stateId = decodeURIComponent(m[1] ?? "");
  const balancesOnly = m[2] === "validator_balances";
  const ssz = prefersSsz(req.headers.accept);
  if (ssz && !balancesOnly) return undefined; // validators: JSON only, Lodestar's handler says so
  let ids: string[] | undefined;
  let statuses: string[] | undefined;
  const q = (req.query ?? {}) as Record<string, unknown>;
  if (req.method === "GET") {
    ids = asList(q.id);
    statuses = asList(q.status);
  } else if (req.method === "POST") {
    const body = req.body as unknown;
    if (balancesOnly) ids = Array.isArray(body) ? body.map(String) : undefined;
    else if (body !== null && typeof body === "object") {
      const b = body as { ids?: unknown; statuses?: unknown };
      ids = asList(b.ids);
      statuses = asList(b.statuses);
    }
  } else return undefined;
  let state: ReturnType<NodeApi["resolveState"]>;
  let sel: number[];
  try {
    state = api.resolveState(stateId);
    sel = api.selectValidators(state.epoch, ids, statuses as Parameters<NodeApi["selectValidators"]>[2]);
  } catch {
    return undefined; // let the Lodestar handler produce the error response
  }
  // a long list of ids filtered by status to a short answer is written here too: the Lodestar
  // handler would select again (a status for each of hundreds of thousands of validators, twice)
  if (sel.length <= threshold && (ids?.length ?? 0) <= threshold) return undefined;
  const chain = api.chain;
  const epoch = state.epoch;
  const finalized = state.finalized;
  void reply.header("Eth-Execution-Optimistic", "false");
  void reply.header("Eth-Consensus-Finalized", String(finalized));
  if (ssz) {
    const { size, index, balance } = BALANCE_RECORD;
    const out = new Uint8Array(sel.length * size);
    const dv = new DataView(out.buffer);
    sel.forEach((i, k) => {
      writeU64(dv, k * size + index, i);
      writeU64(dv, k * size + balance, chain.balanceAt(i, epoch));
    });
    void reply.header(HttpHeader.ContentType, "application/octet-stream");
    return reply.send(Buffer.from(out.buffer));
  }
  function* chunks(): Generator<string> {
    yield '{"data":[';
    const CHUNK = 2000;
    const scratch = newValidatorFields();
    for (let k = 0; k < sel.length; k += CHUNK) {
      const parts: string[] = [];
      for (let j = k; j < Math.min(sel.length, k + CHUNK); j++) {
        const i = sel[j] ?? 0;
        parts.push(
          balancesOnly
            ? `{"index":"${i}","balance":"${chain.balanceAt(i, epoch)}"}`
            : validatorJson(chain, i, epoch, scratch),
        );
      }
      yield (k === 0 ? "" : ",") + parts.join(",");
    }
    yield `],"execution_optimistic":false,"finalized":${finalized}}`;
  }
  void reply.header(HttpHeader.ContentType, "application/json");
  return reply.send(Readable.from(chunks()));
}

const FAR_STR = "18446744073709551615";
function epochStr(e: number): string {
  return e === Number.POSITIVE_INFINITY ? FAR_STR : String(e);
}

export function validatorJson(
  chain: SimChain,
  i: number,
  epoch: number,
  scratch: ValidatorFields = newValidatorFields(),
): string {
  const snap = chain.snapshot(epoch);
  const v = chain.readValidator(i, epoch, scratch, snap);
  const status = chain.statusAt(i, epoch, v, snap);
  const pk = Buffer.from(v.pubkey.buffer, v.pubkey.byteOffset, 48).toString("hex");
  const wc = Buffer.from(v.withdrawalCredentials.buffer, v.withdrawalCredentials.byteOffset, 32).toString(
    "hex",
  );
  return (
    `{"index":"${i}","balance":"${snap?.balances[i] ?? 0}","status":"${status}","validator":{` +
    `"pubkey":"0x${pk}","withdrawal_credentials":"0x${wc}",` +
    `"effective_balance":"${v.effectiveBalance}","slashed":${v.slashed},"activation_eligibility_epoch":"${epochStr(v.activationEligibilityEpoch)}",` +
    `"activation_epoch":"${epochStr(v.activationEpoch)}","exit_epoch":"${epochStr(v.exitEpoch)}","withdrawable_epoch":"${epochStr(v.withdrawableEpoch)}"}}`
  );
}

export function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ValidationError("port", "must be an integer in 0..65535");
}
