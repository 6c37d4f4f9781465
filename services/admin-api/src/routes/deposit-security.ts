import { API_ROUTES } from "@poolkeeper/contract";
import type { DepositSecurity } from "@poolkeeper/deposit-security";
import type { App } from "../app.js";
import { actorOf, principalOf } from "../auth.js";
import { routeOptions } from "../contract-routes.js";

/** The pool's identity as guardians check batches against it. */
export interface GuardianPoolView {
  withdrawalCredentials: string;
  genesisForkVersion: string;
}

/**
 * Deposit security (issue 13): guardians read batches awaiting release and post their signed
 * messages (each checked by its BLS signature against the configured guardian set; the token only
 * admits the process); the DAO unpauses with a reason.
 */
export function depositSecurityRoutes(app: App, security: DepositSecurity, pool: GuardianPoolView): void {
  app.route({
    ...routeOptions(API_ROUTES.getDepositSecurity),
    handler: async () => ({ data: await security.status(), meta: {} }),
  });

  app.route({
    ...routeOptions(API_ROUTES.listPendingBatches),
    handler: async () => {
      const status = await security.status();
      return {
        data: {
          ...pool,
          currentSlot: status.currentSlot,
          maxAgeSlots: status.maxAgeSlots ?? 0,
          batches: await security.pendingBatches(),
        },
        meta: {},
      };
    },
  });

  app.route({
    ...routeOptions(API_ROUTES.releaseDepositBatch),
    handler: async (request) => {
      const body = request.body;
      const data = await security.submitSignatures(
        Number(request.params.id),
        body.signatures,
        body.checks ?? {},
      );
      return { data, meta: {} };
    },
  });

  app.route({
    ...routeOptions(API_ROUTES.refuseDepositBatch),
    handler: async (request) => {
      const body = request.body;
      const data = await security.refuseBatch(Number(request.params.id), body.refusal, body.keys);
      return { data, meta: {} };
    },
  });

  app.route({
    ...routeOptions(API_ROUTES.pauseDeposits),
    handler: async (request) => ({ data: await security.pause(request.body), meta: {} }),
  });

  app.route({
    ...routeOptions(API_ROUTES.unpauseDeposits),
    handler: async (request) => ({
      data: await security.unpause(actorOf(principalOf(request)), request.body.reason),
      meta: {},
    }),
  });

  app.route({
    ...routeOptions(API_ROUTES.guardianHeartbeat),
    handler: async (request) => ({ data: await security.heartbeat(request.body), meta: {} }),
  });
}
