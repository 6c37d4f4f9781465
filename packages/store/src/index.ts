/*
 * The store, by domain: the database itself (store.ts, data-dir-lock.ts, migrate.ts, errors.ts);
 * registry/ (operators, keys and their lifecycle, deposit batches, audit, pool identity); tokens/
 * (API tokens); watcher/ (epochs, validators, alerts, and the performance read back from them).
 * Test helpers: the subpath @poolkeeper/store/testing.
 */
export * from "./data-dir-lock.js";
export * from "./errors.js";
export * from "./exits/repo.js";
export * from "./governance/repo.js";
export * from "./ledger/repo.js";
export * from "./migrate.js";
export * from "./oracle/repo.js";
export * from "./registry/deposit-security.js";
export * from "./registry/key-list.js";
export * from "./registry/lifecycle.js";
export * from "./registry/pool-identity.js";
export * from "./registry/repo.js";
export * from "./store.js";
export * from "./tokens/tokens.js";
export * from "./watcher/performance.js";
export * from "./watcher/reads.js";
export * from "./watcher/repo.js";
