/** Workflows registered by the worker. */
export { reconcileWorkflow } from './reconcile.js';
