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

/** A TCP port from the environment: an integer from 1 to 65535, or the fallback when unset. */
function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw new Error(`${name} must be a port number from 1 to 65535, got ${raw}`);
  return value;
}

/**
 * Which process reads the configuration: they differ only in default ports.
 * `operator` is both parts in one process (operator/main.ts), on the worker's ports.
 */
export type OperatorProcessName = 'worker' | 'watcher' | 'operator';

/** Default OPERATOR_HTTP_PORT of each process, so worker and watcher can run on one host. */
export const DEFAULT_HTTP_PORTS: Record<OperatorProcessName, number> = { worker: 9090, watcher: 9091, operator: 9090 };
/** Default TEMPORAL_METRICS_PORT: the Temporal SDK's exporter (the worker's only: the watcher has no SDK core). */
export const DEFAULT_TEMPORAL_METRICS_PORT = 9464;

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

/**
 * How the processes authenticate to Temporal, from TEMPORAL_TLS* and
 * TEMPORAL_API_KEY*. Only file paths and the API key's source are kept here;
 * process/temporal-connection.ts reads the files when it connects, so a
 * key or certificate never sits in the config object that is logged about.
 */
export interface TemporalSecurity {
  /** TLS to the frontend: TEMPORAL_TLS=true, or implied by any TLS path or an API key. */
  tls: boolean;
  /** TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH: the client certificate pair for mTLS (both or neither). */
  clientCertPath?: string;
  clientKeyPath?: string;
  /** TEMPORAL_TLS_CA_PATH: the CA that signed the server's certificate, when the system's CAs do not. */
  serverCAPath?: string;
  /** TEMPORAL_TLS_SERVER_NAME: the name checked against the server's certificate, when it is not the address's host. */
  serverName?: string;
  /** TEMPORAL_API_KEY_FILE (preferred: a mounted Secret) or TEMPORAL_API_KEY: a bearer API key (Temporal Cloud). */
  apiKey?: { file: string } | { value: string };
}

/** TEMPORAL_TLS*, TEMPORAL_API_KEY*; throws on a half-given client certificate or two API key sources. */
export function parseTemporalSecurity(env: Record<string, string | undefined> = process.env): TemporalSecurity {
  const get = (name: string) => env[name]?.trim() || undefined;
  const clientCertPath = get('TEMPORAL_TLS_CERT_PATH');
  const clientKeyPath = get('TEMPORAL_TLS_KEY_PATH');
  if ((clientCertPath === undefined) !== (clientKeyPath === undefined)) {
    throw new Error(
      `TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH must be set together, got only ${clientCertPath ? 'TEMPORAL_TLS_CERT_PATH' : 'TEMPORAL_TLS_KEY_PATH'}`,
    );
  }
  const apiKeyFile = get('TEMPORAL_API_KEY_FILE');
  const apiKeyValue = get('TEMPORAL_API_KEY');
  if (apiKeyFile && apiKeyValue) throw new Error('set TEMPORAL_API_KEY_FILE or TEMPORAL_API_KEY, not both');
  const rawTls = get('TEMPORAL_TLS')?.toLowerCase();
  if (rawTls !== undefined && rawTls !== 'true' && rawTls !== 'false') {
    throw new Error(`TEMPORAL_TLS must be true or false, got ${JSON.stringify(env.TEMPORAL_TLS)}`);
  }
  const serverCAPath = get('TEMPORAL_TLS_CA_PATH');
  const serverName = get('TEMPORAL_TLS_SERVER_NAME');
  const apiKey = apiKeyFile ? { file: apiKeyFile } : apiKeyValue ? { value: apiKeyValue } : undefined;
  const impliedTls = Boolean(clientCertPath || serverCAPath || serverName || apiKey);
  if (rawTls === 'false' && impliedTls) {
    throw new Error('TEMPORAL_TLS=false contradicts TEMPORAL_TLS_* or TEMPORAL_API_KEY*: an API key or certificate is never sent in clear text');
  }
  return {
    tls: rawTls === 'true' || impliedTls,
    ...(clientCertPath && clientKeyPath ? { clientCertPath, clientKeyPath } : {}),
    ...(serverCAPath ? { serverCAPath } : {}),
    ...(serverName ? { serverName } : {}),
    ...(apiKey ? { apiKey } : {}),
  };
}

/**
 * The drift sweep's interval for each kind: SWEEP_SECONDS_<Kind>
 * (SWEEP_SECONDS_S3Bucket=900, say) where set, else `sweepSeconds`.
 */
export function sweepIntervals(
  kinds: readonly string[],
  sweepSeconds: number,
  env: Record<string, string | undefined> = process.env,
): Array<{ kind: string; seconds: number }> {
  return kinds.map((kind) => {
    const name = `SWEEP_SECONDS_${kind}`;
    const raw = env[name];
    if (raw === undefined || raw === '') return { kind, seconds: sweepSeconds };
    const seconds = Number(raw);
    if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
    return { kind, seconds };
  });
}

export interface OperatorConfig {
  temporalAddress: string;
  temporalNamespace: string;
  temporalSecurity: TemporalSecurity;
  taskQueue: string;
  /** Drift-check interval of a Ready resource. */
  resyncSeconds: number;
  /** How long a terminal error waits for a spec change before one more try. */
  terminalRetrySeconds: number;
  maxConcurrentActivities: number;
  maxConcurrentWorkflowTasks: number;
  watchdogSeconds: number;
  relistSeconds: number;
  /** SWEEP_SECONDS (300): how often the drift sweep judges each kind; SWEEP_SECONDS_<Kind> overrides it per kind (see sweepIntervals). */
  sweepSeconds: number;
  /**
   * SAFETY_RESYNC_SECONDS (86400): how long a Ready, in-sync resource waits
   * for its own next look when the drift sweep covers its kind (a safety
   * net); RESYNC_SECONDS stays the cap of its backoffs while not in sync.
   */
  safetyResyncSeconds: number;
  /** SWEEP_CONCURRENCY (8): per-resource observes, and signals, a sweep of one kind has in flight at once. */
  sweepConcurrency: number;
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
  /** OPERATOR_HTTP_PORT: /healthz, /readyz and /metrics (worker 9090, watcher 9091). */
  httpPort: number;
  /** TEMPORAL_METRICS_PORT: the Temporal SDK's own Prometheus metrics, worker only (9464). */
  temporalMetricsPort: number;
  /** LEADER_ELECTION (true): watchers take a Lease, and only its holder signals; `false` for a single watcher. */
  leaderElection: boolean;
  /** LEASE_NAME (infra-operator-watcher): the watchers' Lease, in `podNamespace`. */
  leaseName: string;
  /** POD_NAMESPACE (default): where the operator runs. */
  podNamespace: string;
  /**
   * STICKY_SCHEDULE_TO_START_SECONDS (30): how long a workflow task waits for
   * the worker that holds its workflow in cache before any worker may take
   * it with a full replay. The SDK's 10 s let a burst's queued tasks time
   * out and be redone; longer only delays moving off a worker that died.
   */
  stickyScheduleToStartSeconds: number;
  /** WORKFLOW_BUNDLE_PATH: workflow code bundled ahead; unset, the worker bundles it at start in a child process. */
  workflowBundlePath?: string;
  /**
   * MAX_CACHED_WORKFLOWS: runs kept in the worker's memory between their
   * workflow tasks (about 0.2 MiB each, measured at 1,000 SQSQueues). A run
   * not kept replays its history when it next wakes, which for a resource
   * at rest is once a day or on drift, and a create's history is some 20
   * events: the cache is sized for the runs busy at once, not for every
   * resource. The SDK's default, from the heap limit, is thousands.
   */
  maxCachedWorkflows: number;
}

/** Cached runs per workflow-task slot: a burst's busy runs stay in memory between their tasks. */
const CACHED_WORKFLOWS_PER_WORKFLOW_TASK = 8;

export function loadConfig(processName: OperatorProcessName = 'worker'): OperatorConfig {
  const leaderElection = process.env.LEADER_ELECTION?.trim().toLowerCase() ?? 'true';
  if (leaderElection !== 'true' && leaderElection !== 'false') {
    throw new Error(`LEADER_ELECTION must be true or false, got ${JSON.stringify(process.env.LEADER_ELECTION)}`);
  }
  return {
    temporalAddress: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    temporalNamespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    temporalSecurity: parseTemporalSecurity(),
    taskQueue: process.env.TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
    resyncSeconds: number('RESYNC_SECONDS', 300),
    terminalRetrySeconds: number('TERMINAL_RETRY_SECONDS', 3600),
    maxConcurrentActivities: number('MAX_CONCURRENT_ACTIVITIES', ACTIVITIES_PER_CORE * cores()),
    maxConcurrentWorkflowTasks: number('MAX_CONCURRENT_WORKFLOW_TASKS', WORKFLOW_TASKS_PER_CORE * cores()),
    watchdogSeconds: number('WATCHDOG_SECONDS', 150),
    relistSeconds: number('RELIST_SECONDS', 600),
    sweepSeconds: number('SWEEP_SECONDS', 300),
    safetyResyncSeconds: number('SAFETY_RESYNC_SECONDS', 86400),
    sweepConcurrency: number('SWEEP_CONCURRENCY', 8),
    stickyScheduleToStartSeconds: number('STICKY_SCHEDULE_TO_START_SECONDS', 30),
    maxCachedWorkflows: number('MAX_CACHED_WORKFLOWS', CACHED_WORKFLOWS_PER_WORKFLOW_TASK * WORKFLOW_TASKS_PER_CORE * cores()),
    ...(process.env.CLUSTER_ID ? { clusterID: process.env.CLUSTER_ID } : {}),
    ambientCredentialNamespaces: parseAmbientCredentialNamespaces(
      process.env.AMBIENT_CREDENTIAL_NAMESPACES,
      process.env.POD_NAMESPACE,
    ),
    httpPort: port('OPERATOR_HTTP_PORT', DEFAULT_HTTP_PORTS[processName]),
    temporalMetricsPort: port('TEMPORAL_METRICS_PORT', DEFAULT_TEMPORAL_METRICS_PORT),
    leaderElection: leaderElection === 'true',
    leaseName: process.env.LEASE_NAME?.trim() || 'infra-operator-watcher',
    podNamespace: process.env.POD_NAMESPACE?.trim() || 'default',
    ...(process.env.WORKFLOW_BUNDLE_PATH?.trim() ? { workflowBundlePath: process.env.WORKFLOW_BUNDLE_PATH.trim() } : {}),
  };
}
