/**
 * Signals and queries of the reconcile workflow, shared by the watcher
 * (which sends them) and the workflow (which handles them).
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ReconcileState } from './state.js';
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';

/** The custom resource changed: new generation, deletion requested, or re-listed. */
export interface ResourceChange {
  uid: string;
  generation: number;
  deleting: boolean;
}

/** A resource this one refers to (its AWSProvider, say) changed its status. */
export interface DependencyChange {
  kind: string;
  namespace: string;
  name: string;
}

export const resourceChangedSignal = defineSignal<[ResourceChange]>('resourceChanged');
export const dependencyChangedSignal = defineSignal<[DependencyChange]>('dependencyChanged');

/** The drift sweep found AWS differing from the spec, or the resource not where it was. */
export interface DriftFound {
  /** What differs, readable (at most a few); empty when the resource is not where it was. */
  differences: string[];
  /** The sweep's bulk read no longer shows it (gone, or its cluster tag removed). */
  unlisted: boolean;
}

export const driftDetectedSignal = defineSignal<[DriftFound]>('driftDetected');

/** How often the drift sweep looks at each kind. */
export interface SweepSettings {
  kinds: Array<{ kind: string; seconds: number }>;
}

/** New settings for the running drift sweep: each worker sends its own at start. */
export const sweepSettingsSignal = defineSignal<[SweepSettings]>('sweepSettings');

/** The one drift sweep of a cluster: a fixed ID, so every worker of the cluster starts the same one. */
export function driftSweepWorkflowId(clusterID: string): string {
  return `DriftSweep/${clusterID}`;
}

/**
 * Search attributes that let the Temporal UI filter runs by resource. All
 * keywords: the worker (worker/search-attributes.ts), the local stack
 * (stack/start.sh) and the Helm chart register exactly these names.
 */
export const searchAttributes = {
  kind: defineSearchAttributeKey('ResourceKind', SearchAttributeType.KEYWORD),
  namespace: defineSearchAttributeKey('ResourceNamespace', SearchAttributeType.KEYWORD),
  name: defineSearchAttributeKey('ResourceName', SearchAttributeType.KEYWORD),
  phase: defineSearchAttributeKey('ResourcePhase', SearchAttributeType.KEYWORD),
  /** The AWS account the resource lives in: its provider's status.accountID, once the provider has observed it. */
  account: defineSearchAttributeKey('AwsAccount', SearchAttributeType.KEYWORD),
  /** The AWS region the resource lives in: its provider's spec.region. */
  region: defineSearchAttributeKey('AwsRegion', SearchAttributeType.KEYWORD),
} as const;

export const reconcileStateQuery = defineQuery<ReconcileState>('reconcileState');
