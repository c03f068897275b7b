// Entry point for the worker's workflow bundle: every workflow is exported from here.
export { conversationWorkflow } from './conversation';
export { shopWorkflow } from './shop';
export { webhookEndpointWorkflow } from './webhook';
