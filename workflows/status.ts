/**
 * Builds the status subresource from the outcome of a pass. Pure, so the
 * workflow stays deterministic and the condition rules are unit-tested.
 *
 * Condition tree (one root, as kro draws it):
 *
 *   Ready            the AWS resource exists, matches the spec and is usable
 *   └── Synced       the latest spec was applied to AWS without error
 */
import type { Condition, JsonValue, ResourceStatus } from '../shared/activities.js';
import { Phase } from './state.js';

export interface PassOutcome {
  phase: Phase;
  /** CamelCase reason for the Ready condition. */
  reason: string;
  message: string;
  /** True / false / unknown: whether the spec was applied to AWS. */
  synced: boolean | undefined;
  /** Generation this outcome speaks for; absent while nothing was tried for it yet. */
  observedGeneration?: number;
  /** Kind-specific fields from observe (bucketName, arn…). */
  fields?: { [key: string]: JsonValue };
}

function condition(
  previous: Condition[] | undefined,
  type: string,
  status: Condition['status'],
  reason: string,
  message: string,
  now: string,
  observedGeneration: number | undefined,
): Condition {
  const before = previous?.find((existing) => existing.type === type);
  const lastTransitionTime = before && before.status === status ? before.lastTransitionTime : now;
  return {
    type,
    status,
    reason,
    message,
    lastTransitionTime,
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
  };
}

/** The status to write after a pass, keeping transition times of unchanged conditions. */
export function buildStatus(previous: ResourceStatus | undefined, outcome: PassOutcome, now: string): ResourceStatus {
  const ready = outcome.phase === Phase.Ready;
  const generation = outcome.observedGeneration ?? previous?.observedGeneration;
  const syncedStatus = outcome.synced === undefined ? 'Unknown' : outcome.synced ? 'True' : 'False';
  const conditions = [
    condition(previous?.conditions, 'Ready', ready ? 'True' : 'False', outcome.reason, outcome.message, now, generation),
    condition(
      previous?.conditions,
      'Synced',
      syncedStatus,
      outcome.synced ? 'Applied' : outcome.reason,
      outcome.synced ? 'the spec is applied to AWS' : outcome.message,
      now,
      generation,
    ),
  ];
  return {
    ...(previous ? pickFields(previous) : {}),
    ...outcome.fields,
    ready,
    phase: outcome.phase,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    lastSyncTime: now,
    conditions,
  };
}

const COMMON = new Set(['ready', 'phase', 'observedGeneration', 'lastSyncTime', 'conditions']);

/** Kind-specific fields of an earlier status, kept when a pass observed nothing new. */
function pickFields(status: ResourceStatus): { [key: string]: JsonValue } {
  const fields: { [key: string]: JsonValue } = {};
  for (const [key, value] of Object.entries(status)) {
    if (!COMMON.has(key) && value !== undefined) fields[key] = value as JsonValue;
  }
  return fields;
}

/** True when two statuses differ in anything but lastSyncTime. */
export function statusChanged(before: ResourceStatus | undefined, after: ResourceStatus): boolean {
  if (!before) return true;
  const strip = (status: ResourceStatus) => JSON.stringify({ ...status, lastSyncTime: undefined });
  return strip(before) !== strip(after);
}
