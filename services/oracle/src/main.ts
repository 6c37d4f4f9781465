/** oracle member process: `node --import tsx services/oracle/src/main.ts` (configuration: see config.ts). */
import { runService } from "@poolkeeper/core";
import { ORACLE_MEMBER_SERVICE } from "./run.js";

await runService(ORACLE_MEMBER_SERVICE, process.env);
