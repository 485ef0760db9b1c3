import { SFNClient } from '@aws-sdk/client-sfn';
import { clientOptions, StepFunctionsExecutions } from '@pitwall/adapters';
import { ConfigurationError } from './config.js';
import type { AdapterFactory } from './control-plane.js';

/** The state machine's executions: started by the hand-over, probed by the sweeper. */
export const stepFunctionsExecutions: AdapterFactory<StepFunctionsExecutions> = ({ config }) => {
  if (!config.stateMachineArn) throw new ConfigurationError('this function needs PITWALL_STATE_MACHINE_ARN');
  return new StepFunctionsExecutions(new SFNClient(clientOptions(config.aws)), config.stateMachineArn);
};
