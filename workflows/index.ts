/** Workflows registered by the worker. */
export { reconcileWorkflow } from './reconcile.js';
export { driftSweepWorkflow } from './drift-sweep.js';
