import { type Env, type Logger, loadConfig } from "@poolkeeper/core";
import { openStore, type Store } from "@poolkeeper/store";
import { STORE_ENV } from "./config.js";

export {
  type ApiTokenInfo,
  createApiToken,
  listApiTokens,
  revokeApiToken,
} from "@poolkeeper/store";

/** Open (and migrate) the database named by DATABASE_URL, else PGlite in POOLKEEPER_DATA_DIR. */
export async function openStoreFromEnv(env: Env, logger?: Logger): Promise<Store> {
  const cfg = loadConfig(STORE_ENV, env);
  return openStore(
    cfg.DATABASE_URL !== undefined
      ? { databaseUrl: cfg.DATABASE_URL, ...(logger ? { logger } : {}) }
      : { dataDir: cfg.POOLKEEPER_DATA_DIR, ...(logger ? { logger } : {}) },
  );
}
