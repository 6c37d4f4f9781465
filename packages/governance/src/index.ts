export * from "./canonical.js";
export * from "./catalogue.js";
export * from "./errors.js";
export * from "./governance.js";
export * from "./settings.js";
export * from "./signing.js";
