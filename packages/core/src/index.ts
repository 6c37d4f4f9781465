export * from "./config.js";
export * from "./errors.js";
export * from "./hex.js";
export * from "./ids.js";
export * from "./logger.js";
export * from "./networks.js";
export * from "./process-label.js";
export * from "./units.js";
