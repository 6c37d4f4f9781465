/**
 * A small Keymanager API server (the validator client's side) for tests: POST /eth/v1/keystores
 * decrypts and keeps each keystore (answering imported or duplicate) and checks the EIP-3076
 * interchange names each key; POST /eth/v1/validator/{pubkey}/voluntary_exit signs with the kept
 * key (the validator index from `indexOf`, as a validator client asks its beacon node).
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Network } from "@poolkeeper/core";
import { decryptKeystore, signVoluntaryExit } from "@poolkeeper/keys";

export interface TestKeymanager {
  url: string;
  token: string;
  /** Pubkeys (hex, no 0x) imported, in import order. */
  imported: string[];
  exitsSigned: number;
  close(): Promise<void>;
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startKeymanager(
  network: Network,
  indexOf: (pubkey: string) => number,
): Promise<TestKeymanager> {
  const keys = new Map<string, Uint8Array>();
  const token = "api-token-0x1234567890abcdef";
  const km: TestKeymanager = { url: "", token, imported: [], exitsSigned: 0, close: async () => undefined };
  const server = createServer(async (req, res) => {
    const send = (status: number, json: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(json));
    };
    if (req.headers.authorization !== `Bearer ${token}`) return send(401, { message: "bad token" });
    const url = new URL(req.url ?? "/", "http://x");
    if (req.method === "POST" && url.pathname === "/eth/v1/keystores") {
      const body = JSON.parse(await bodyOf(req)) as {
        keystores: string[];
        passwords: string[];
        slashing_protection: string;
      };
      const interchange = JSON.parse(body.slashing_protection) as {
        metadata: { interchange_format_version: string };
        data: { pubkey: string }[];
      };
      const data = [];
      for (const [k, text] of body.keystores.entries()) {
        const ks = JSON.parse(text) as { pubkey: string };
        if (
          interchange.metadata.interchange_format_version !== "5" ||
          !interchange.data.some((e) => e.pubkey === `0x${ks.pubkey}`)
        ) {
          data.push({ status: "error", message: "no slashing protection for this key" });
          continue;
        }
        if (keys.has(ks.pubkey)) {
          data.push({ status: "duplicate" });
          continue;
        }
        keys.set(ks.pubkey, await decryptKeystore(ks, body.passwords[k]!));
        km.imported.push(ks.pubkey);
        data.push({ status: "imported" });
      }
      return send(200, { data });
    }
    const m = /^\/eth\/v1\/validator\/0x([0-9a-f]{96})\/voluntary_exit$/.exec(url.pathname);
    if (req.method === "POST" && m !== null) {
      const secretKey = keys.get(m[1]!);
      if (secretKey === undefined) return send(404, { message: "unknown key" });
      km.exitsSigned++;
      const signed = signVoluntaryExit({
        secretKey,
        validatorIndex: indexOf(m[1]!),
        epoch: Number(url.searchParams.get("epoch")),
        network,
      });
      return send(200, { data: signed });
    }
    send(404, { message: "not found" });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  km.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  km.close = () => new Promise((r) => server.close(() => r()));
  return km;
}
