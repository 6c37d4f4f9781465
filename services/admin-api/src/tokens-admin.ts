import { DATABASE_ENV, databaseTarget, type Env, type Logger, loadConfig } from "@poolkeeper/core";
import { openStore, type Store } from "@poolkeeper/store";

export {
  type ApiTokenInfo,
  createApiToken,
  listApiTokens,
  revokeApiToken,
} from "@poolkeeper/store";

/** Open (and migrate) the database named by DATABASE_URL, else PGlite in POOLKEEPER_DATA_DIR. */
export async function openStoreFromEnv(env: Env, logger?: Logger): Promise<Store> {
  return openStore({ ...databaseTarget(loadConfig(DATABASE_ENV, env)), ...(logger ? { logger } : {}) });
}
