/**
 * The job catalogue: every job's name, its queue and the zod schema of its payload. Payloads carry
 * ids and numbers only, never a secret (jobs sit in Redis in clear text): `assertNoSecrets` refuses
 * any payload with a field named like one, on top of each schema being strict.
 */
import { ValidationError } from "@poolkeeper/core";
import { z } from "zod";

const networkName = z.string().regex(/^[a-z0-9-]{1,64}$/, "expected a network name like hoodi");

export const JOBS = {
  /** Process one finalized epoch for the pool's validators. Job id: the epoch (idempotent). */
  "watcher.epoch": {
    queue: "watcher-epochs",
    schema: z.object({ network: networkName, epoch: z.number().int().nonnegative() }).strict(),
    jobId: (p: { network: string; epoch: number }) => `${p.network}-epoch-${p.epoch}`,
  },
  /** Deliver one stored alert to the configured webhook. Job id: the alert id. */
  "watcher.webhook": {
    queue: "watcher-webhooks",
    schema: z.object({ alertId: z.number().int().positive() }).strict(),
    jobId: (p: { alertId: number }) => `alert-${p.alertId}`,
  },
} as const;

export type JobName = keyof typeof JOBS;
export type JobPayload<N extends JobName> = z.output<(typeof JOBS)[N]["schema"]>;
export type QueueName = (typeof JOBS)[JobName]["queue"];

export const JOB_NAMES = Object.keys(JOBS) as JobName[];

const SECRET_KEY =
  /mnemonic|password|secret|private|keystore|token|authorization|signature|signedexit|exitmessage/i;

/** Throws a ValidationError naming the field when a payload has a field named like a secret. */
export function assertNoSecrets(payload: unknown, path = "payload"): void {
  if (payload === null || typeof payload !== "object") return;
  for (const [k, v] of Object.entries(payload as Record<string, unknown>)) {
    if (SECRET_KEY.test(k)) throw new ValidationError(`${path}.${k}`, "job payloads never carry secrets");
    assertNoSecrets(v, `${path}.${k}`);
  }
}

/** Validate a payload for `name`; the error names the field and the reason. */
export function parsePayload<N extends JobName>(name: N, payload: unknown): JobPayload<N> {
  assertNoSecrets(payload);
  const r = JOBS[name].schema.safeParse(payload);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field =
      issue === undefined || issue.path.length === 0 ? "payload" : `payload.${issue.path.join(".")}`;
    throw new ValidationError(field, issue?.message ?? "invalid");
  }
  return r.data as JobPayload<N>;
}
