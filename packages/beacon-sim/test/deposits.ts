/** Deposits signed as a depositor signs them: now in the package (src/signed-deposit.ts). */
export { signedDeposit } from "../src/index.js";
