import { SFNClient } from '@aws-sdk/client-sfn';
import { StepFunctionsExecutions } from '@pitwall/adapters';
import type { AdapterFactory } from './control-plane.js';

/** The state machine's executions: started by the hand-over, probed by the sweeper. */
export const stepFunctionsExecutions: AdapterFactory<StepFunctionsExecutions | undefined> = ({ config }) =>
  config.stateMachineArn
    ? new StepFunctionsExecutions(new SFNClient({ region: config.region }), config.stateMachineArn)
    : undefined;
