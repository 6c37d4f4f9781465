export * from "./config.js";
export * from "./metrics.js";
export * from "./pool-source.js";
export * from "./processor.js";
export * from "./run.js";
export * from "./watcher.js";
export * from "./webhook.js";
