export * from "./config.js";
export * from "./member.js";
export * from "./metrics.js";
export * from "./run.js";
