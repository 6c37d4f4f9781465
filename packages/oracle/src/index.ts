export * from "./cl-figures.js";
export * from "./consensus.js";
export * from "./errors.js";
export * from "./frames.js";
export * from "./oracle-consensus.js";
export * from "./report-data.js";
export * from "./sanity.js";
export * from "./settings.js";
