import { PoolkeeperError, ValidationError } from "@poolkeeper/core";
import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { errorHandler, fieldOfIssue, statusForCode } from "../src/errors.js";

describe("error mapping", () => {
  it("maps registry and core codes to statuses", () => {
    expect(statusForCode("ERR_VALIDATION")).toBe(400);
    expect(statusForCode("ERR_NOT_FOUND")).toBe(404);
    expect(statusForCode("ERR_CONFLICT")).toBe(409);
    expect(statusForCode("ERR_LIMIT_BELOW_DEPOSITED")).toBe(409);
    expect(statusForCode("ERR_INVALID_STATE_TRANSITION")).toBe(409);
    expect(statusForCode("ERR_NO_CAPACITY")).toBe(409);
    expect(statusForCode("ERR_INVALID_DEPOSIT_DATA")).toBe(422);
    expect(statusForCode("ERR_DATABASE_UNAVAILABLE")).toBe(503);
    expect(statusForCode("ERR_UNAUTHORIZED")).toBe(401);
    expect(statusForCode("ERR_FORBIDDEN")).toBe(403);
    // A code nobody defined is a bug, not a guess by its name.
    expect(statusForCode("ERR_BATCH_NOT_FOUND")).toBe(500);
  });

  it("names the field of schema issues", () => {
    expect(fieldOfIssue("body", { instancePath: "/3/pubkey", keyword: "maxLength" })).toBe("body.3.pubkey");
    expect(
      fieldOfIssue("body", { instancePath: "", keyword: "required", params: { missingProperty: "count" } }),
    ).toBe("body.count");
    expect(fieldOfIssue("querystring", { instancePath: "/state", keyword: "anyOf" })).toBe(
      "querystring.state",
    );
  });

  it("answers every error as {code, message, details} without internals", async () => {
    const app = Fastify({ logger: false });
    app.setErrorHandler(errorHandler);
    const throwers: Record<string, () => never> = {
      validation: () => {
        throw new ValidationError("vettedLimit", "must not be negative");
      },
      conflict: () => {
        throw new PoolkeeperError(
          "ERR_LIMIT_BELOW_DEPOSITED",
          "operator 1: vetted limit 0 is below its 3 deposited keys",
        );
      },
      unique: () => {
        throw Object.assign(
          new Error('duplicate key value violates unique constraint "keys_pubkey_unique"'),
          {
            code: "23505",
          },
        );
      },
      down: () => {
        throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
      },
      bug: () => {
        throw new TypeError("cannot read properties of undefined (reading 'secretKey')");
      },
    };
    for (const [name, f] of Object.entries(throwers)) app.get(`/${name}`, async () => f());
    const get = async (name: string) => {
      const r = await app.inject({ method: "GET", url: `/${name}` });
      return { status: r.statusCode, body: r.json() as { code: string; message: string; details: unknown } };
    };
    expect(await get("validation")).toEqual({
      status: 400,
      body: {
        code: "ERR_VALIDATION",
        message: "vettedLimit: must not be negative",
        details: { field: "vettedLimit", reason: "must not be negative" },
      },
    });
    expect((await get("conflict")).status).toBe(409);
    const unique = await get("unique");
    expect(unique.status).toBe(409);
    expect(unique.body.code).toBe("ERR_CONFLICT");
    const down = await get("down");
    expect(down.status).toBe(503);
    expect(down.body.message).not.toContain("127.0.0.1");
    const bug = await get("bug");
    expect(bug).toEqual({
      status: 500,
      body: { code: "ERR_INTERNAL", message: "internal error", details: {} },
    });
    await app.close();
  });
});
