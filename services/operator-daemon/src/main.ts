/** operator daemon process: `node --import tsx services/operator-daemon/src/main.ts` (configuration: see config.ts). */
import { runService } from "@poolkeeper/core";
import { OPERATOR_DAEMON_SERVICE } from "./run.js";

await runService(OPERATOR_DAEMON_SERVICE, process.env);
