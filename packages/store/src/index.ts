export * from "./api-keys.js";
export * from "./migrate.js";
export * from "./performance.js";
export * from "./registry-repo.js";
export * from "./store.js";
export * from "./testing.js";
export * from "./tokens.js";
export * from "./watcher-repo.js";
