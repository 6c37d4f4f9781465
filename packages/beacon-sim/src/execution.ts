/**
 * The execution-layer side of the sim over HTTP (outside the Beacon API's /eth/ paths): EIP-6110
 * deposit requests, EIP-7002 withdrawal requests and EIP-7251 consolidation requests, each carried
 * by a coming canonical block as the chain's own requests are (Electra and later); the deposit
 * log (every deposit request given, with the slot of the block that carried it); and what an
 * address has received on the execution layer by a slot (el-balances.ts). Bad input is a 400
 * naming the field.
 */
import { isPoolkeeperError, ValidationError } from "@poolkeeper/core";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { SimChain } from "./chain.js";
import { parseAddress } from "./el-balances.js";

export const EXECUTION_ROUTES = {
  withdrawalRequests: "/poolkeeper/v1/execution/withdrawal_requests",
  /**
   * POST: a deposit request. GET ?from_slot=N: the deposit log, those carried by a block at slot N
   * or later, then those waiting for the next block (`index` and `slot` null), in deposit order.
   */
  depositRequests: "/poolkeeper/v1/execution/deposit_requests",
  consolidationRequests: "/poolkeeper/v1/execution/consolidation_requests",
  /** GET …/balances/{address}?slot=N: wei the address received up to and including slot N (default the head). */
  balances: "/poolkeeper/v1/execution/balances/:address",
} as const;

function field(body: unknown, name: string): unknown {
  if (body === null || typeof body !== "object" || Array.isArray(body))
    throw new ValidationError("body", "must be a JSON object");
  return (body as Record<string, unknown>)[name];
}

function hexField(body: unknown, name: string, bytes: number): Uint8Array {
  const v = field(body, name);
  if (typeof v !== "string" || !/^0x[0-9a-fA-F]*$/.test(v) || v.length !== 2 + 2 * bytes)
    throw new ValidationError(name, `must be 0x-prefixed hex of ${bytes} bytes`);
  return Buffer.from(v.slice(2), "hex");
}

function gweiField(body: unknown, name: string): number {
  const v = field(body, name);
  if (typeof v !== "string" || !/^(0|[1-9][0-9]*)$/.test(v) || !Number.isSafeInteger(Number(v)))
    throw new ValidationError(name, 'must be a decimal string of gwei (e.g. "32000000000")');
  return Number(v);
}

function hex(b: Uint8Array): string {
  return `0x${Buffer.from(b).toString("hex")}`;
}

function badRequest(reply: FastifyReply, e: unknown): FastifyReply {
  if (!isPoolkeeperError(e)) throw e;
  return reply.code(400).send({ statusCode: 400, error: "Bad Request", message: e.message });
}

function registryIndex(chain: SimChain, pubkey: Uint8Array, name: string): number {
  const index = chain.indexOfPubkey(pubkey);
  if (index === -1) throw new ValidationError(name, "is not in the registry");
  return index;
}

function requireElectra(chain: SimChain, what: string): void {
  if (chain.fork === "deneb")
    throw new ValidationError(what, `needs an electra or fulu chain (this one is ${chain.fork})`);
}

/**
 * One execution-layer route: `what` names the request in the Electra check; `handle` reads the
 * body, queues the request and returns the answer's `data`. Bad input: 400 naming the field.
 */
function postRoute(
  app: FastifyInstance,
  chain: SimChain,
  path: string,
  what: string,
  handle: (body: unknown) => Record<string, string | null>,
): void {
  app.post(path, async (req, reply) => {
    try {
      requireElectra(chain, what);
      return { data: handle(req.body) };
    } catch (e) {
      return badRequest(reply, e);
    }
  });
}

export function registerExecutionRoutes(app: FastifyInstance, chain: SimChain): void {
  app.get<{ Params: { address: string }; Querystring: { slot?: string } }>(
    EXECUTION_ROUTES.balances,
    async (req, reply) => {
      try {
        const address = parseAddress(req.params.address, "address");
        const q = req.query.slot;
        let slot = chain.headSlot;
        if (q !== undefined) {
          if (!/^(0|[1-9][0-9]*)$/.test(q) || !Number.isSafeInteger(Number(q)))
            throw new ValidationError("slot", "must be a slot number (decimal digits)");
          slot = Number(q);
          if (slot > chain.headSlot)
            throw new ValidationError("slot", `must not be after the head slot ${chain.headSlot}`);
        }
        return { address, slot: String(slot), receivedWei: chain.receivedWei(address, slot).toString() };
      } catch (e) {
        return badRequest(reply, e);
      }
    },
  );

  app.get<{ Querystring: { from_slot?: string } }>(EXECUTION_ROUTES.depositRequests, async (req, reply) => {
    try {
      const q = req.query.from_slot ?? "0";
      if (!/^(0|[1-9][0-9]*)$/.test(q) || !Number.isSafeInteger(Number(q)))
        throw new ValidationError("from_slot", "must be a slot number (decimal digits)");
      return {
        head_slot: String(chain.headSlot),
        data: chain.depositRequestsFrom(Number(q)).map((d) => ({
          pubkey: hex(d.pubkey),
          withdrawal_credentials: hex(d.withdrawalCredentials),
          amount: String(d.amount),
          signature: hex(d.signature),
          index: d.index === null ? null : String(d.index),
          slot: d.slot === null ? null : String(d.slot),
        })),
      };
    } catch (e) {
      return badRequest(reply, e);
    }
  });

  postRoute(app, chain, EXECUTION_ROUTES.withdrawalRequests, "withdrawal request", (body) => {
    const pubkey = hexField(body, "validator_pubkey", 48);
    const amount = gweiField(body, "amount");
    const sourceAddress = hexField(body, "source_address", 20);
    const index = registryIndex(chain, pubkey, "validator_pubkey");
    chain.requestWithdrawal(index, { amountGwei: amount, sourceAddress });
    return {
      validator_pubkey: hex(pubkey),
      validator_index: String(index),
      amount: String(amount),
      source_address: hex(sourceAddress),
    };
  });

  postRoute(app, chain, EXECUTION_ROUTES.depositRequests, "deposit request", (body) => {
    const pubkey = hexField(body, "pubkey", 48);
    const withdrawalCredentials = hexField(body, "withdrawal_credentials", 32);
    const amount = gweiField(body, "amount");
    const signature = hexField(body, "signature", 96);
    const index = chain.requestDeposit({ pubkey, withdrawalCredentials, amountGwei: amount, signature });
    return {
      pubkey: hex(pubkey),
      withdrawal_credentials: hex(withdrawalCredentials),
      amount: String(amount),
      signature: hex(signature),
      // null: a new key whose signature does not verify (the deposit will be dropped)
      validator_index: index === undefined ? null : String(index),
    };
  });

  postRoute(app, chain, EXECUTION_ROUTES.consolidationRequests, "consolidation request", (body) => {
    const sourceAddress = hexField(body, "source_address", 20);
    const sourcePubkey = hexField(body, "source_pubkey", 48);
    const targetPubkey = hexField(body, "target_pubkey", 48);
    const source = registryIndex(chain, sourcePubkey, "source_pubkey");
    const target = registryIndex(chain, targetPubkey, "target_pubkey");
    chain.requestConsolidation(source, target, { sourceAddress });
    return {
      source_address: hex(sourceAddress),
      source_pubkey: hex(sourcePubkey),
      target_pubkey: hex(targetPubkey),
      source_index: String(source),
      target_index: String(target),
    };
  });
}
