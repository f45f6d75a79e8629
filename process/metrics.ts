/**
 * The Prometheus metrics of both processes, in one registry served at
 * /metrics (process/http.ts). Every name starts with `infra_operator_`.
 * Node only: never imported by workflow code, so every metric is counted
 * where the work happens (watcher, activities), never on workflow replay.
 *
 * Labels are bounded: kinds, verbs, AWS service and operation names, and
 * reasons, which are CamelCase codes; never a resource's name.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { KubeClients } from '../kube/client.js';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'infra_operator_' });

/** Watcher: what the watches delivered. `type`: changed (ADDED/MODIFIED through a watch), deleted, listed (one per object per list). */
export const watchEvents = new Counter({
  name: 'infra_operator_watch_events_total',
  help: 'Objects the watcher received, by kind and type (changed, deleted, listed)',
  labelNames: ['kind', 'type'] as const,
  registers: [registry],
});

/**
 * Watcher: calls to Temporal. `signal`: signalWithStart, resourceChanged,
 * dependencyChanged; `outcome`: sent, not_running (the workflow had ended),
 * failed (kept and retried).
 */
export const signalsSent = new Counter({
  name: 'infra_operator_signals_total',
  help: 'Signals the watcher sent to reconcile workflows, by kind, signal and outcome',
  labelNames: ['kind', 'signal', 'outcome'] as const,
  registers: [registry],
});

/** Watcher: 1 while this replica holds the Lease (or leader election is off), else 0. */
export const leader = new Gauge({
  name: 'infra_operator_leader',
  help: '1 while this watcher is the one that dispatches signals, 0 while it stands by',
  registers: [registry],
});

/** Watcher: times this replica became the leader. */
export const leaderTransitions = new Counter({
  name: 'infra_operator_leader_acquired_total',
  help: 'Times this watcher acquired the leader Lease',
  registers: [registry],
});

/**
 * Worker: the AWS steps of reconcile passes over live resources, by kind
 * and outcome: what an observation found (in_sync, out_of_sync,
 * provisioning, absent, not_ours), what a change did (created, updated),
 * or why a step failed (waiting for a provider or dependency, terminal,
 * retryable). A pass that changes nothing is one observation.
 */
export const reconciles = new Counter({
  name: 'infra_operator_reconciles_total',
  help: 'AWS steps of reconcile passes over live resources, by kind and outcome (in_sync, out_of_sync, provisioning, absent, not_ours, created, updated, waiting, terminal, retryable)',
  labelNames: ['kind', 'outcome'] as const,
  registers: [registry],
});

/**
 * Worker: AWS SDK calls (one per command sent, its retries inside it), by
 * service (S3, EC2…), operation (CreateBucket…) and outcome: success,
 * throttled (apart from other errors, whatever the retries made of it),
 * error.
 */
export const awsCalls = new Counter({
  name: 'infra_operator_aws_calls_total',
  help: 'AWS SDK calls, by service, operation and outcome (success, throttled, error)',
  labelNames: ['service', 'operation', 'outcome'] as const,
  registers: [registry],
});

/** Worker: from the apply of a generation (creation, or the spec change) to its first Ready status. */
export const applyToReady = new Histogram({
  name: 'infra_operator_apply_to_ready_seconds',
  help: 'Seconds from a spec being applied (creationTimestamp or the spec change) to the first Ready status for it, by kind',
  labelNames: ['kind'] as const,
  buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600],
  registers: [registry],
});

/**
 * Worker: how long a resource stayed in one waiting state, by kind, phase
 * (Waiting, Provisioning, Deleting) and reason (ProviderNotReady,
 * DependencyNotReady, Provisioning, Converging, Deleting, InUse…), observed
 * when it leaves that state.
 */
export const waitSeconds = new Histogram({
  name: 'infra_operator_wait_seconds',
  help: 'Seconds a resource spent in one waiting phase and reason, by kind, phase and reason',
  labelNames: ['kind', 'phase', 'reason'] as const,
  buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600],
  registers: [registry],
});

/** Worker: updates that put back what was changed outside the operator. */
export const driftRepairs = new Counter({
  name: 'infra_operator_drift_repairs_total',
  help: 'Changes made outside the operator that it repaired, by kind',
  labelNames: ['kind'] as const,
  registers: [registry],
});

/** Worker: resources entering a terminal error (one that needs a spec change), by kind and reason. */
export const terminalErrors = new Counter({
  name: 'infra_operator_terminal_errors_total',
  help: 'Terminal errors (needing a change to the spec) reported in status, by kind and reason',
  labelNames: ['kind', 'reason'] as const,
  registers: [registry],
});

/** Both: Kubernetes API requests (watches aside), by verb and code (ok, or the HTTP status of a refusal, or error). */
export const kubeRequests = new Counter({
  name: 'infra_operator_kube_requests_total',
  help: 'Kubernetes API requests, by verb (get, list, create, patch, update, delete) and code',
  labelNames: ['verb', 'code'] as const,
  registers: [registry],
});

const VERB_PREFIXES: ReadonlyArray<[prefix: string, verb: string]> = [
  ['deleteCollection', 'deletecollection'],
  ['read', 'get'],
  ['get', 'get'],
  ['list', 'list'],
  ['create', 'create'],
  ['patch', 'patch'],
  ['replace', 'update'],
  ['delete', 'delete'],
];

/** The Kubernetes verb of a kube/client.ts API method (`readNamespacedSecret` → get); undefined for what is not a request. */
export function kubeVerb(method: string): string | undefined {
  return VERB_PREFIXES.find(([prefix]) => method.startsWith(prefix))?.[1];
}

function statusCode(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'number') return String(error.code);
  return 'error';
}

/** `api` with every request method counted in kubeRequests. */
function countRequests<T extends object>(api: T): T {
  return new Proxy(api, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      const verb = typeof property === 'string' ? kubeVerb(property) : undefined;
      if (typeof value !== 'function' || verb === undefined) return value;
      return async (...args: unknown[]): Promise<unknown> => {
        try {
          const result: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          kubeRequests.inc({ verb, code: 'ok' });
          return result;
        } catch (error) {
          kubeRequests.inc({ verb, code: statusCode(error) });
          throw error;
        }
      };
    },
  });
}

/** The same clients, every API request counted by verb (kube/client.ts stays free of metrics). */
export function instrumentKubeClients(clients: KubeClients): KubeClients {
  return { config: clients.config, core: countRequests(clients.core), custom: countRequests(clients.custom) };
}

/** A counter's value, or a histogram's observation count, summed over the samples whose labels include `labels`; for tests. */
export async function sampleValue(name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values
    .filter((sample) => Object.entries(labels).every(([key, value]) => String(sample.labels[key]) === value))
    // A histogram counts its observations in `_count`; its buckets and sum are other numbers.
    .filter((sample) => {
      const sampleName = (sample as { metricName?: string }).metricName;
      return sampleName === undefined || !/_(bucket|sum)$/.test(sampleName);
    })
    .reduce((sum, sample) => sum + sample.value, 0);
}
