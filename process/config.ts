/**
 * Process configuration from the environment, shared by worker and watcher.
 * Node only.
 */
import os from 'node:os';
import { DEFAULT_TASK_QUEUE } from '../contract/identity.js';

function number(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
  return value;
}

/** A namespace name: a DNS label. */
const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * AMBIENT_CREDENTIAL_NAMESPACES: the namespaces whose AWSProviders may use
 * the operator's own AWS identity. `*` is every namespace; otherwise a
 * comma-separated list, where an empty value is no namespace at all. Unset,
 * it is the operator's own namespace (`podNamespace`, from POD_NAMESPACE),
 * or no namespace when that is unknown too: safe by default.
 */
export function parseAmbientCredentialNamespaces(raw: string | undefined, podNamespace: string | undefined): string[] | '*' {
  if (raw === undefined) return podNamespace ? [podNamespace] : [];
  if (raw.trim() === '*') return '*';
  const namespaces = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const bad = namespaces.filter((entry) => !NAMESPACE_NAME.test(entry) || entry.length > 63);
  if (bad.length > 0) {
    throw new Error(
      `AMBIENT_CREDENTIAL_NAMESPACES must be * or a comma-separated list of namespace names, got ${JSON.stringify(raw)} ` +
        `(not a namespace name: ${bad.map((entry) => JSON.stringify(entry)).join(', ')})`,
    );
  }
  return [...new Set(namespaces)];
}

/**
 * Slots per core. A workflow task that waits for a CPU overruns its timeout
 * and is done again, so workflow tasks are kept to what the cores can run at
 * once with room for their local activities; activities mostly wait on AWS,
 * so they get more.
 */
const WORKFLOW_TASKS_PER_CORE = 4;
const ACTIVITIES_PER_CORE = 8;

function cores(): number {
  return os.availableParallelism();
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
  /**
   * This cluster's identity, tagged on every AWS resource it creates
   * (CLUSTER_ID); unset, the worker uses the kube-system namespace's UID.
   */
  clusterID?: string;
  /**
   * Namespaces whose AWSProviders may use the operator's own AWS identity
   * (AMBIENT_CREDENTIAL_NAMESPACES, see parseAmbientCredentialNamespaces):
   * a list, or '*' for all. Default: the operator's own namespace only.
   */
  ambientCredentialNamespaces: string[] | '*';
}

export function loadConfig(): OperatorConfig {
  return {
    temporalAddress: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    temporalNamespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: process.env.TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
    resyncSeconds: number('RESYNC_SECONDS', 300),
    terminalRetrySeconds: number('TERMINAL_RETRY_SECONDS', 3600),
    maxConcurrentActivities: number('MAX_CONCURRENT_ACTIVITIES', ACTIVITIES_PER_CORE * cores()),
    maxConcurrentWorkflowTasks: number('MAX_CONCURRENT_WORKFLOW_TASKS', WORKFLOW_TASKS_PER_CORE * cores()),
    watchdogSeconds: number('WATCHDOG_SECONDS', 150),
    relistSeconds: number('RELIST_SECONDS', 600),
    ...(process.env.CLUSTER_ID ? { clusterID: process.env.CLUSTER_ID } : {}),
    ambientCredentialNamespaces: parseAmbientCredentialNamespaces(
      process.env.AMBIENT_CREDENTIAL_NAMESPACES,
      process.env.POD_NAMESPACE,
    ),
  };
}
