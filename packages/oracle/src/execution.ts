/** The execution-layer adapter moved to @poolkeeper/beacon (execution.ts), where the watcher uses it too. */
export {
  beaconApiBlockSource,
  DEFAULT_EXECUTION_TIMEOUT_MS,
  type ExecutionAdapterOptions,
  type ExecutionBlockSource,
  type ExecutionLayerAdapter,
  FULL_EXIT_AMOUNT_GWEI,
  jsonRpcExecutionLayer,
  MAX_EMPTY_SLOTS,
  printableOrigin,
  simExecutionLayer,
  type VaultAddresses,
  type VaultBalances,
} from "@poolkeeper/beacon";
