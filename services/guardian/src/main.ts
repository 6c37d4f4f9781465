/** deposit guardian process: `node --import tsx services/guardian/src/main.ts` (configuration: see config.ts). */
import { runService } from "@poolkeeper/core";
import { GUARDIAN_SERVICE } from "./run.js";

await runService(GUARDIAN_SERVICE, process.env);
