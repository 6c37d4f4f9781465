export * from "./bull.js";
export * from "./catalogue.js";
