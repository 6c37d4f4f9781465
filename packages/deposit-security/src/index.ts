export * from "./deposit-log.js";
export * from "./errors.js";
export * from "./front-run.js";
export * from "./guardians.js";
export * from "./release.js";
export * from "./settings.js";
