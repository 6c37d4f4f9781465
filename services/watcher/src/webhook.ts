import { safeUrl } from "@poolkeeper/core";
import { getWatcherAlert, recordWebhookAttempt, type Store } from "@poolkeeper/store";

/**
 * Deliver one stored alert to the webhook: POST JSON, 2xx = delivered. Anything else throws so the
 * queue retries with backoff; the last attempt marks the alert failed. The URL (it may carry a
 * token) is printed only through safeUrl.
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
