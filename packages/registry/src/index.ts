export * from "./concentration.js";
export * from "./deposit-data.js";
export * from "./errors.js";
export { KEYS_PAGE_SIZE } from "./keys.js";
export * from "./min-first.js";
export * from "./registry.js";
export * from "./review.js";
export * from "./types.js";
export * from "./validate.js";
