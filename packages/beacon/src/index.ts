export * from "./duties.js";
export * from "./errors.js";
export * from "./follower.js";
export * from "./lodestar.js";
export * from "./node-pool.js";
export * from "./scores.js";
export * from "./shuffling.js";
export * from "./validators.js";
