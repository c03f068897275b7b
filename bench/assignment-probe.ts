/**
 * Benchmark probe, bundled into the benchmark's workers only: after a run handles `agentAssigned`,
 * it tells the worker process through a sink, which Temporal calls once that workflow task has
 * completed. That moment is "the session is running with its agent", for the real workflow and the
 * floor alike, without waiting on visibility.
 */
import { proxySinks, workflowInfo, type Sinks, type WorkflowInterceptorsFactory } from '@temporalio/workflow';

export interface ProbeSinks extends Sinks {
  probe: { assigned(workflowId: string): void };
}

const { probe } = proxySinks<ProbeSinks>();

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      async handleSignal(input, next) {
        await next(input);
        if (input.signalName === 'agentAssigned') probe.assigned(workflowInfo().workflowId);
      },
    },
  ],
});
