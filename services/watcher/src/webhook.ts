import { safeUrl, scrubUrl } from "@poolkeeper/core";
import { getWatcherAlert, recordWebhookAttempt, type Store } from "@poolkeeper/store";

/**
 * Deliver one stored alert to the webhook: POST JSON, 2xx = delivered. Anything else throws so the
 * queue retries with backoff; the last attempt marks the alert failed. The URL carries a secret
 * (in its path for Slack and Discord, in its query for others): errors name its host only.
 */
export async function deliverAlert(
  store: Store,
  webhookUrl: string,
  alertId: number,
  attempt: { made: number; max: number },
  timeoutMs = 10_000,
): Promise<"delivered" | "already" | "missing"> {
  const alert = await getWatcherAlert(store, alertId);
  if (alert === null) return "missing";
  if (alert.webhookState === "delivered") return "already";
  const body = {
    id: alert.id,
    network: alert.network,
    kind: alert.kind,
    message: alert.message,
    operatorId: alert.operatorId,
    validatorIndex: alert.validatorIndex,
    epoch: alert.epoch,
    details: alert.details,
    createdAt: alert.createdAt.toISOString(),
  };
  let ok = false;
  let reason = "";
  try {
    const res = await fetch(webhookUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    ok = res.ok;
    reason = `HTTP ${res.status}`;
  } catch (e) {
    reason = e instanceof Error ? e.name : "error";
  }
  const final = !ok && attempt.made + 1 >= attempt.max;
  await recordWebhookAttempt(store, alertId, ok, final);
  if (!ok) throw new Error(`webhook ${safeUrl(webhookUrl)} refused alert ${alertId}: ${reason}`);
  return "delivered";
}

/**
 * The error a webhook job fails with: message and stack without the webhook URL or any part of it
 * (BullMQ stores both in Redis as the job's failedReason and stacktrace, and the worker logs them).
 */
export function webhookJobError(e: unknown, webhookUrl: string): Error {
  const err = e instanceof Error ? e : new Error(String(e));
  const stack = scrubUrl(err.stack ?? `${err.name}: ${err.message}`, webhookUrl);
  err.message = scrubUrl(err.message, webhookUrl);
  err.stack = stack;
  // a cause (fetch's) is neither stored nor logged: drop it rather than scrub its own fields
  if ("cause" in err) err.cause = undefined;
  return err;
}
