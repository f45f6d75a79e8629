import type { Static, TObject } from '@sinclair/typebox';
import type { DeletionPolicy, ObjectRef } from '../contract/identity.js';
import type { ValidationRule } from './schema.js';

export type { ObjectRef };

/** A column of `kubectl get`. */
export interface PrinterColumn {
  name: string;
  type: 'string' | 'boolean' | 'date' | 'integer' | 'number';
  jsonPath: string;
  description?: string;
  /** 0 shows in `kubectl get`, 1 only with `-o wide`. */
  priority?: number;
}


/**
 * Everything Kubernetes-facing about one kind: its schemas (the single source
 * of its TypeScript types and its CRD), how `kubectl get` shows it, and which
 * other custom resources its spec points at.
 */
export interface KindDefinition<Spec extends TObject = TObject, Status extends TObject = TObject> {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  spec: Spec;
  status: Status;
  /**
   * Policy when the spec has no deletionPolicy. Kinds that own no AWS
   * resource (AWSProvider) use Orphan, so their deletion never calls AWS.
   */
  defaultDeletionPolicy?: DeletionPolicy;
  /** Cross-field rules on the spec, checked by the API server at apply time. */
  specRules?: ValidationRule[];
  printerColumns: PrinterColumn[];
  /** The custom resources this spec refers to; the watcher wakes this resource when one of them changes. */
  references(spec: Static<Spec>, namespace: string): ObjectRef[];
  /**
   * The status field that holds the AWS identifier (`vpcID`, `queueURL`…).
   * A status written before `externalID` existed names its resource here,
   * so an upgraded operator still finds what it made before.
   */
  identityField?: string;
  /**
   * Others need this object to delete their own AWS resources (an
   * AWSProvider): its deletion waits until no custom resource refers to it.
   */
  deletionWaitsForUsers?: boolean;
  /**
   * Secrets in the object's own namespace that the operator reads for it.
   * They carry the in-use finalizer while the object exists, so that its
   * users can still authenticate while they are deleted.
   */
  secretNames?(spec: Static<Spec>, namespace: string): string[];
  /**
   * Top-level spec fields that may hold a secret value inline (an older
   * manifest's `masterUserPassword`). loadResource removes them from the
   * spec it hands to the workflow, so they never reach a history; the
   * activity reads them from the live object (`AwsContext.inlineSecret`),
   * and a Warning Event recommends a Secret reference instead.
   */
  secretFields?: string[];
}

/** Identity function that keeps the literal types of a kind definition. */
export function defineKind<Spec extends TObject, Status extends TObject>(
  definition: KindDefinition<Spec, Status>,
): KindDefinition<Spec, Status> {
  return definition;
}

/** The `providerRef` every AWS kind has, resolved against the resource's namespace. */
export function providerReference(spec: { providerRef: { name: string; namespace?: string } }, namespace: string): ObjectRef {
  return { kind: 'AWSProvider', namespace: spec.providerRef.namespace ?? namespace, name: spec.providerRef.name };
}

/** A `…Ref` field's value: name, and namespace when it is not the resource's own. */
export interface LocalReference {
  name: string;
  namespace?: string;
}

/** The ObjectRef of a `…Ref` field, or nothing when the field is unset. */
export function localReference(kind: string, ref: LocalReference | undefined, namespace: string): ObjectRef[] {
  return ref ? [{ kind, namespace: ref.namespace ?? namespace, name: ref.name }] : [];
}

/** Printer columns shared by every kind. */
export const readyColumn: PrinterColumn = { name: 'Ready', type: 'boolean', jsonPath: '.status.ready' };
export const phaseColumn: PrinterColumn = { name: 'Phase', type: 'string', jsonPath: '.status.phase' };
export const reasonColumn: PrinterColumn = {
  name: 'Reason',
  type: 'string',
  jsonPath: `.status.conditions[?(@.type=="Ready")].reason`,
  priority: 1,
};
/**
 * status.externalID, the AWS identifier recorded for the object; the CRD
 * adds it (wide only) to every kind that owns an AWS resource.
 */
export const awsIDColumn: PrinterColumn = {
  name: 'AWS ID',
  type: 'string',
  jsonPath: '.status.externalID',
  description: 'AWS identifier of the resource created or adopted for this object',
  priority: 1,
};
export const ageColumn: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };
