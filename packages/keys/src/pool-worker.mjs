// piscina worker entry for pool.ts. Plain JavaScript on purpose: Node 20 does not apply the
// parent's (or an execArgv `--import tsx`) loader hooks in worker threads, so the worker registers
// tsx itself, then loads the TypeScript task function.
import { register } from "tsx/esm/api";

register();
const { runKeyTask } = await import("./key-task.ts");

export { runKeyTask };
