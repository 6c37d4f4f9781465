/**
 * A small HTTP client of the admin API: the devnet drives the registry the way an admin does, over
 * HTTP with a bearer token. Errors carry the API's status and message, never the token.
 */

import { PoolkeeperError } from "@poolkeeper/core";
import type { DepositDataJson } from "@poolkeeper/keys";
import { DEVNET_ERRORS } from "./errors.js";

export interface ApiOperator {
  id: number;
  name: string;
  vettedLimit: number;
  keys: Record<string, number>;
}

export interface ApiDepositBatch {
  id: number;
  keyCount: number;
  perOperator: Array<{ operatorId: number; count: number }>;
  keys: Array<{ position: number; keyId: number; operatorId: number; depositData: DepositDataJson }>;
}

export class AdminApiClient {
  readonly #token: string;

  constructor(
    readonly baseUrl: string,
    token: string,
  ) {
    this.#token = token;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.#token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text === "" ? null : JSON.parse(text);
    } catch {
      json = null;
    }
    if (!res.ok) {
      const e = (json ?? {}) as { code?: string; message?: string };
      throw new PoolkeeperError(
        DEVNET_ERRORS.API,
        `admin API ${method} ${path} answered ${res.status}: ${e.code ?? ""} ${e.message ?? res.statusText}`,
      );
    }
    return (json as { data: T }).data;
  }

  createOperator(input: { name: string; rewardAddress: string; vettedLimit: number }): Promise<ApiOperator> {
    return this.call("POST", "/v1/operators", { ...input, reason: "devnet" });
  }
  uploadKeys(operatorId: number, entries: readonly DepositDataJson[]): Promise<{ count: number }> {
    return this.call("POST", `/v1/operators/${operatorId}/keys`, entries);
  }
  vetKeys(operatorId: number): Promise<{ vetted: number }> {
    return this.call("POST", `/v1/operators/${operatorId}/keys/vet`, { reason: "devnet" });
  }
  /** A new deposit batch with its keys' deposit data (`POST /v1/deposits/batches`). */
  allocateDepositBatch(count: number): Promise<ApiDepositBatch> {
    return this.call("POST", "/v1/deposits/batches", { count });
  }
  listOperators(): Promise<ApiOperator[]> {
    return this.call("GET", "/v1/operators");
  }
}
