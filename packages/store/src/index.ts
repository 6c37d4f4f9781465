export * from "./migrate.js";
export * from "./registry-repo.js";
export * from "./store.js";
export * from "./testing.js";
