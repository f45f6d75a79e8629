/**
 * The drift sweep of one cluster: one long-running workflow (ID
 * `DriftSweep/<clusterID>`, driftSweepWorkflowId) that, for each kind, every
 * `seconds` of its settings, runs one activity judging all the kind's Ready
 * resources against AWS at once: for kinds AWS lists in bulk, one list per
 * provider. It wakes (driftDetected) only the reconcile workflows whose
 * resource differs, so those can sleep on a long safety-net timer instead
 * of each looking at AWS every resync.
 *
 * Its cost does not grow with the resources: per pass, one timer and one
 * activity, which sweeps every kind due (concurrently). Every worker signals its settings at start
 * (sweepSettings, signalWithStart), so the newest worker's intervals apply.
 */
import { condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { SweepActivities } from '../contract/activities.js';
import { sweepSettingsSignal, type SweepSettings } from './messages.js';

export interface DriftSweepInput {
  settings: SweepSettings;
  /** When each kind is next due (epoch ms); carried across continue-as-new. */
  due?: Record<string, number>;
  /** History length that triggers continue-as-new, besides the server's own suggestion. */
  maxHistoryEvents?: number;
}

/**
 * A pass over every resource of a kind can take a while (per-resource kinds
 * observe each one); the activity heartbeats, so a dead worker is noticed
 * in a minute. It is not retried: the next interval is the retry, and a
 * retry would be a second pass's cost at once.
 */
const sweep = proxyActivities<SweepActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { maximumAttempts: 1 },
});

/** About 11 events a pass: a fresh run every couple of hundred passes. */
const DEFAULT_MAX_HISTORY_EVENTS = 2000;
/** The least time between two passes, however late the last one ended. */
const MIN_GAP_MS = 1000;

/** Kinds due at `now`. */
export function dueKinds(settings: SweepSettings, due: Record<string, number>, now: number): string[] {
  return settings.kinds.filter(({ kind }) => (due[kind] ?? 0) <= now).map(({ kind }) => kind);
}

/** Sweeps drift for every kind of the settings, each at its own interval, for as long as the cluster runs. */
export async function driftSweepWorkflow(input: DriftSweepInput): Promise<void> {
  let settings = input.settings;
  const due: Record<string, number> = { ...input.due };
  let changed = false;
  setHandler(sweepSettingsSignal, (next) => {
    settings = next;
    // A kind's new interval counts from now, not from its last pass.
    for (const { kind, seconds } of next.kinds) {
      if (due[kind] !== undefined) due[kind] = Math.min(due[kind], Date.now() + seconds * 1000);
    }
    changed = true;
  });

  for (;;) {
    const started = Date.now();
    const kinds = dueKinds(settings, due, started);
    if (kinds.length) {
      try {
        await sweep.sweepDrift(kinds);
      } catch {
        // Logged by the activity; the next interval is the retry, and the
        // resources' own safety-net timers still run.
      }
      const ended = Date.now();
      for (const { kind, seconds } of settings.kinds) {
        if (kinds.includes(kind)) due[kind] = Math.max(started + seconds * 1000, ended + MIN_GAP_MS);
      }
    }
    const next = Math.min(...settings.kinds.map(({ kind }) => due[kind] ?? Date.now()));
    changed = false;
    if (Number.isFinite(next)) await condition(() => changed, Math.max(next - Date.now(), MIN_GAP_MS));
    else await condition(() => changed);
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > (input.maxHistoryEvents ?? DEFAULT_MAX_HISTORY_EVENTS)) {
      // Kinds no longer in the settings are dropped with their due times.
      const kept = Object.fromEntries(settings.kinds.filter(({ kind }) => due[kind] !== undefined).map(({ kind }) => [kind, due[kind] ?? 0]));
      await continueAsNew<typeof driftSweepWorkflow>({ ...input, settings, due: kept });
    }
  }
}
