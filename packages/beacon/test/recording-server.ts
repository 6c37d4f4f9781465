/**
 * Replays the Lodestar v1.22.0 recordings in test/fixtures/beacon-recordings over HTTP, route by route,
 * exactly as recorded (bodies and status codes); anything not recorded answers 404. POST routes are
 * answered from the recorded "all validators" bodies, filtered to the ids asked for, as a node would.
 */
import { existsSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

export const RECORDINGS =
  process.env.POOLKEEPER_RECORDINGS ??
  join(
    import.meta.dirname,
    "../../../test/fixtures/beacon-recordings/lodestar-v1.22.0-minimal-64-validators-48-online",
  );

export interface RecordingServer {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

function file(name: string): string | null {
  const p = join(RECORDINGS, name);
  return existsSync(p) ? readFileSync(p, "utf8") : null;
}

async function body(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const s = Buffer.concat(chunks).toString("utf8");
  return s === "" ? undefined : JSON.parse(s);
}

function sendRecorded(res: ServerResponse, text: string | null): void {
  if (text === null) {
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ statusCode: 404, error: "Not Found", message: "not recorded" }));
    return;
  }
  const parsed = JSON.parse(text) as { statusCode?: number; version?: string };
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (parsed.version !== undefined) headers["eth-consensus-version"] = parsed.version;
  res.writeHead(parsed.statusCode ?? 200, headers);
  res.end(text);
}

function filtered(
  text: string | null,
  ids: Set<string>,
  key: (x: Record<string, unknown>) => string[],
): string | null {
  if (text === null) return null;
  const j = JSON.parse(text) as { data: Array<Record<string, unknown>> };
  j.data = j.data.filter((x) => key(x).some((k) => ids.has(k)));
  return JSON.stringify(j);
}

export async function startRecordingServer(): Promise<RecordingServer> {
  const requests: string[] = [];
  const server: Server = createServer(async (req, res) => {
    try {
      const u = new URL(req.url ?? "/", "http://x");
      const path = u.pathname;
      requests.push(`${req.method} ${path}${u.search}`);
      let m: RegExpMatchArray | null;
      if (path === "/eth/v1/config/spec") return sendRecorded(res, file("spec.json"));
      if (path === "/eth/v1/beacon/genesis") return sendRecorded(res, file("genesis.json"));
      if (path === "/eth/v1/node/version") return sendRecorded(res, file("node_version.json"));
      if (path === "/eth/v1/node/syncing") return sendRecorded(res, file("node_syncing.json"));
      if (path === "/eth/v1/beacon/states/head/finality_checkpoints")
        return sendRecorded(res, file("finality_checkpoints.json"));
      m = path.match(/^\/eth\/v2\/beacon\/blocks\/(\d+)$/);
      if (m) return sendRecorded(res, file(`block_${m[1]}.json`));
      m = path.match(/^\/eth\/v1\/beacon\/headers\/(\d+)$/);
      if (m) return sendRecorded(res, file(`header_${m[1]}.json`));
      m = path.match(/^\/eth\/v2\/debug\/beacon\/states\/(\w+)$/);
      if (m) {
        const name = m[1] === "finalized" ? "state_finalized" : `state_slot_${m[1]}`;
        if (!existsSync(join(RECORDINGS, `${name}.ssz`))) return sendRecorded(res, null);
        res.writeHead(200, {
          "content-type": "application/octet-stream",
          "eth-consensus-version": "deneb",
          "eth-execution-optimistic": "false",
          "eth-consensus-finalized": "true",
        });
        return res.end(readFileSync(join(RECORDINGS, `${name}.ssz`)));
      }
      if (path === "/eth/v1/beacon/states/finalized/committees" && u.search === "") {
        return sendRecorded(res, file("committees_finalized.json"));
      }
      m = path.match(/^\/eth\/v1\/validator\/duties\/proposer\/(\d+)$/);
      if (m) {
        return sendRecorded(res, file(`proposer_duties_epoch_${m[1]}.json`));
      }
      if (req.method === "POST") {
        const b = (await body(req)) as string[] | { ids?: string[] } | undefined;
        const list = Array.isArray(b) ? b : (b?.ids ?? []);
        const ids = new Set(list.map(String));
        m = path.match(/^\/eth\/v1\/beacon\/rewards\/attestations\/(\d+)$/);
        if (m) {
          const text = file(`attestation_rewards_epoch_${m[1]}.json`);
          if (text === null) return sendRecorded(res, null);
          const j = JSON.parse(text) as { data: { total_rewards: Array<{ validator_index: string }> } };
          j.data.total_rewards = j.data.total_rewards.filter(
            (r) => ids.size === 0 || ids.has(r.validator_index),
          );
          return sendRecorded(res, JSON.stringify(j));
        }
        m = path.match(/^\/eth\/v1\/validator\/liveness\/(\d+)$/);
        if (m) {
          return sendRecorded(
            res,
            filtered(file(`liveness_epoch_${m[1]}.json`), ids, (x) => [String(x.index)]),
          );
        }
        if (path === "/eth/v1/beacon/states/finalized/validators") {
          const b = [...ids];
          return sendRecorded(
            res,
            filtered(file("validators_finalized.json"), new Set(b), (x) => [
              String(x.index),
              String((x.validator as { pubkey: string }).pubkey),
            ]),
          );
        }
        if (path === "/eth/v1/beacon/states/finalized/validator_balances") {
          return sendRecorded(
            res,
            filtered(file("balances_finalized.json"), ids, (x) => [String(x.index)]),
          );
        }
      }
      return sendRecorded(res, null);
    } catch (e) {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ statusCode: 500, message: String(e) }));
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
