export * from "./book.js";
export * from "./codec.js";
export * from "./errors.js";
export * from "./ledger.js";
export * from "./rules.js";
export * from "./shares.js";
export * from "./withdrawal-queue.js";
