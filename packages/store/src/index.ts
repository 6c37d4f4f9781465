export * from "./migrate.js";
export * from "./store.js";
export * from "./testing.js";
