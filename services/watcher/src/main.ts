/** watcher process: `node --import tsx services/watcher/src/main.ts` (configuration: see config.ts). */
import { runService } from "@poolkeeper/core";
import { WATCHER_SERVICE } from "./run.js";

await runService(WATCHER_SERVICE, process.env);
