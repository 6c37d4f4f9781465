/** watcher process: `node --import tsx services/watcher/src/main.ts` (configuration: see config.ts). */
import { runWatcherProcess } from "./run.js";

await runWatcherProcess(process.env);
