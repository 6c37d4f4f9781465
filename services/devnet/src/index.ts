/**
 * @poolkeeper/devnet: the whole main job on one machine (beacon-sim, admin API, key generation,
 * deposits, watcher on Redis). `poolkeeper devnet` is its command; tests start it programmatically.
 */
import "./preset.js";

export type { DepositBatchAnswer } from "./context.js";
export {
  type BatchSummary,
  checkRedis,
  DEVNET_NETWORK_NAME,
  DEVNET_STEPS,
  type Devnet,
  DevnetContext,
  type DevnetDaoMember,
  type DevnetGuardian,
  type DevnetOffline,
  type DevnetOperator,
  type DevnetOptions,
  type DevnetParts,
  type DevnetStep,
  type DevnetSummary,
  type ExecutedProposal,
  type FeeSummary,
  type OperatorSummary,
  startDevnet,
} from "./devnet.js";
export {
  DEFAULT_SCENARIO_FILE,
  type DevnetFlags,
  type DevnetScenario,
  type DevnetSettings,
  devnetScenarioSchema,
  loadDevnetScenario,
  parseDevnetFlags,
  parseDevnetScenario,
} from "./options.js";
export { runDevnet } from "./run.js";
