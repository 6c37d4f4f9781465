/** admin-api process: `node --import tsx services/admin-api/src/main.ts [--port 3000]`. */
import { runAdminApiProcess } from "./server.js";

await runAdminApiProcess(process.env, process.argv.slice(2));
