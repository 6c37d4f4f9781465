export * from "./config.js";
export * from "./guardian.js";
export * from "./metrics.js";
export * from "./run.js";
