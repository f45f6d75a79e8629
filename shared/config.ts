/**
 * Process configuration from the environment, shared by worker and watcher.
 * Node only.
 */
import { DEFAULT_TASK_QUEUE } from './identity.js';

function number(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
  return value;
}

export interface OperatorConfig {
  temporalAddress: string;
  temporalNamespace: string;
  taskQueue: string;
  /** Drift-check interval of a Ready resource. */
  resyncSeconds: number;
  /** How long a terminal error waits for a spec change before one more try. */
  terminalRetrySeconds: number;
  maxConcurrentActivities: number;
  maxConcurrentWorkflowTasks: number;
  watchdogSeconds: number;
  relistSeconds: number;
}

export function loadConfig(): OperatorConfig {
  return {
    temporalAddress: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    temporalNamespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: process.env.TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
    resyncSeconds: number('RESYNC_SECONDS', 300),
    terminalRetrySeconds: number('TERMINAL_RETRY_SECONDS', 3600),
    maxConcurrentActivities: number('MAX_CONCURRENT_ACTIVITIES', 50),
    maxConcurrentWorkflowTasks: number('MAX_CONCURRENT_WORKFLOW_TASKS', 50),
    watchdogSeconds: number('WATCHDOG_SECONDS', 150),
    relistSeconds: number('RELIST_SECONDS', 600),
  };
}
