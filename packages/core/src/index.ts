export * from "./config.js";
export * from "./errors.js";
export * from "./hex.js";
export * from "./logger.js";
export * from "./networks.js";
export * from "./process.js";
export * from "./units.js";
