/**
 * The execution-layer side of the sim over HTTP (outside the Beacon API's /eth/ paths): EIP-6110
 * deposit requests and EIP-7002 withdrawal requests, each carried by the next canonical block as
 * the chain's own requests are. Electra and later; bad input is a 400 naming the field.
 */
import { isPoolkeeperError, ValidationError } from "@poolkeeper/core";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { SimChain } from "./chain.js";

export const EXECUTION_ROUTES = {
  withdrawalRequests: "/poolkeeper/v1/execution/withdrawal_requests",
  depositRequests: "/poolkeeper/v1/execution/deposit_requests",
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

function requireElectra(chain: SimChain, what: string): void {
  if (chain.fork === "deneb")
    throw new ValidationError(what, `needs an electra or fulu chain (this one is ${chain.fork})`);
}

export function registerExecutionRoutes(app: FastifyInstance, chain: SimChain): void {
  app.post(EXECUTION_ROUTES.withdrawalRequests, async (req, reply) => {
    try {
      requireElectra(chain, "withdrawal request");
      const pubkey = hexField(req.body, "validator_pubkey", 48);
      const amount = gweiField(req.body, "amount");
      const sourceAddress = hexField(req.body, "source_address", 20);
      const index = chain.indexOfPubkey(pubkey);
      if (index === -1) throw new ValidationError("validator_pubkey", "is not in the registry");
      chain.requestWithdrawal(index, { amountGwei: amount, sourceAddress });
      return {
        data: {
          validator_pubkey: hex(pubkey),
          validator_index: String(index),
          amount: String(amount),
          source_address: hex(sourceAddress),
        },
      };
    } catch (e) {
      return badRequest(reply, e);
    }
  });

  app.post(EXECUTION_ROUTES.depositRequests, async (req, reply) => {
    try {
      requireElectra(chain, "deposit request");
      const pubkey = hexField(req.body, "pubkey", 48);
      const withdrawalCredentials = hexField(req.body, "withdrawal_credentials", 32);
      const amount = gweiField(req.body, "amount");
      const signature = hexField(req.body, "signature", 96);
      const index = chain.requestDeposit({ pubkey, withdrawalCredentials, amountGwei: amount, signature });
      return {
        data: {
          pubkey: hex(pubkey),
          withdrawal_credentials: hex(withdrawalCredentials),
          amount: String(amount),
          signature: hex(signature),
          // null: a new key whose signature does not verify (the deposit will be dropped)
          validator_index: index === undefined ? null : String(index),
        },
      };
    } catch (e) {
      return badRequest(reply, e);
    }
  });
}
