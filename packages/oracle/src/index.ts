export * from "./consensus.js";
export * from "./frames.js";
export * from "./report-data.js";
export * from "./sanity.js";
