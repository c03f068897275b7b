/** Worker sizing from the environment: workflow-task polls follow the task slots and never exceed them. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config';

describe('worker tuning', () => {
  it('polls half the workflow task slots by default, as many as asked within the slots, and refuses more', () => {
    expect(loadConfig({}).worker).toMatchObject({ maxConcurrentWorkflowTaskExecutions: 100, maxConcurrentWorkflowTaskPolls: 50 });
    expect(loadConfig({ WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '20' }).worker.maxConcurrentWorkflowTaskPolls).toBe(10);
    expect(loadConfig({ WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '2' }).worker.maxConcurrentWorkflowTaskPolls).toBe(2);
    expect(loadConfig({ WORKER_MAX_CONCURRENT_WORKFLOW_TASK_POLLS: '8' }).worker.maxConcurrentWorkflowTaskPolls).toBe(8);
    expect(() => loadConfig({ WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '20', WORKER_MAX_CONCURRENT_WORKFLOW_TASK_POLLS: '30' })).toThrow(
      /must not exceed/,
    );
    expect(() => loadConfig({ WORKER_MAX_CONCURRENT_WORKFLOW_TASK_POLLS: '1' })).toThrow(/whole number ≥ 2/);
  });
});
