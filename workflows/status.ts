/**
 * Builds the status subresource from the outcome of a pass. Pure, so the
 * workflow stays deterministic and the condition rules are unit-tested.
 *
 * Condition tree (one root, as kro draws it):
 *
 *   Ready            the AWS resource exists, matches the spec and is usable
 *   └── Synced       the latest spec was applied to AWS without error
 *
 * beside them, when they apply: Adopted (the AWS resource existed before
 * this custom resource and was adopted) and Paused (no AWS call is made).
 */
import type { Condition, JsonValue, ResourceStatus } from '../contract/activities.js';
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
  /** Reason and message of a Synced=False that says something other than the Ready condition (drift seen in observe-only). */
  syncedReason?: string;
  syncedMessage?: string;
  /** Further conditions that hold after this pass (Adopted). */
  conditions?: ExtraCondition[];
}

/** A condition beside Ready and Synced. */
export interface ExtraCondition {
  type: string;
  status: Condition['status'];
  reason: string;
  message: string;
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
      outcome.synced ? 'Applied' : (outcome.syncedReason ?? outcome.reason),
      outcome.synced ? 'the spec is applied to AWS' : (outcome.syncedMessage ?? outcome.message),
      now,
      generation,
    ),
    ...(outcome.conditions ?? []).map((extra) =>
      condition(previous?.conditions, extra.type, extra.status, extra.reason, extra.message, now, generation),
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

/** `status` with `extra` added or replaced, everything else as it was: a pause changes nothing else. */
export function withCondition(status: ResourceStatus, extra: ExtraCondition, now: string): ResourceStatus {
  const others = status.conditions.filter((c) => c.type !== extra.type);
  const added = condition(status.conditions, extra.type, extra.status, extra.reason, extra.message, now, status.observedGeneration);
  return { ...status, conditions: [...others, added] };
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
