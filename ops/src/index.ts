/** gm-ops as a library: the CLI runner and the context it needs (tests, benchmarks, other tools). */
export { runCli, createCli } from './cli';
export type { OpsContext, OpsServices, Clock, Sleep, TerminalInfo } from './context';
export { createAwsClients, type AwsClients, type AwsClientFactory, type AwsClientOptions } from './aws/clients';
export { ExitCode, OpsError, UsageProblem } from './errors';
export { createRealServices, realSleep } from './main';
