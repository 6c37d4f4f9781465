import type { Logger } from "@poolkeeper/core";
import type { Store } from "@poolkeeper/store";
import type { PoolSettings } from "./types.js";

export interface RegistryOptions {
  /** Deposit signatures verified per BLS chunk on upload (default 256; 1 = one by one). */
  verifyChunkSize?: number;
}

/** What every registry function works with: the Registry object passes itself. */
export interface RegistryContext {
  readonly store: Store;
  readonly settings: PoolSettings;
  readonly logger: Logger | undefined;
  readonly options: RegistryOptions;
}
