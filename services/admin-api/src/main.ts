/** admin-api process: `node --import tsx services/admin-api/src/main.ts [--port 3000]`. */
import { runService } from "@poolkeeper/core";
import { ADMIN_API_SERVICE } from "./server.js";

await runService(ADMIN_API_SERVICE, process.env, { argv: process.argv.slice(2) });
