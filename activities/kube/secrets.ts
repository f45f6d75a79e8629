/**
 * Secret values inside activities: read where AWS needs them, written where
 * an application needs them, and never returned to a workflow. Everything
 * here runs inside an activity; only versions and names leave it.
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { JsonObject } from '../../contract/activities.js';
import { FailureType, type FailureDetails } from '../../contract/failures.js';
import { API_GROUP_VERSION } from '../../crds/index.js';
import { httpStatus, readCustomResource, type KubeClients, type Secret } from '../../kube/client.js';
import type { ObjectRef } from '../../contract/identity.js';
import type { SecretKeyReference, SecretValue } from '../aws/handler.js';

/** Label on every connection Secret, so a person (and a test) can list them. */
export const CONNECTION_SECRET_LABEL = 'aws-infra-operator.runner.codes/connection-secret-of';
/** Annotation holding a digest of what the operator last wrote, so an unchanged write is skipped. */
const DETAILS_DIGEST_ANNOTATION = 'aws-infra-operator.runner.codes/details-digest';

function secretMissing(message: string): ApplicationFailure {
  const details: FailureDetails = { reason: 'SecretNotFound' };
  // A wait, not an error: creating the Secret fixes it, and the resource
  // looks again on its next pass.
  return ApplicationFailure.create({ type: FailureType.DependencyNotReady, message, nonRetryable: true, details: [details] });
}

/** One key of a Secret in `namespace`, decoded; a missing Secret or key is a wait naming it. */
export async function readSecretKey(clients: KubeClients, namespace: string, ref: SecretKeyReference): Promise<SecretValue> {
  let secret: Secret;
  try {
    secret = await clients.core.readNamespacedSecret({ name: ref.name, namespace });
  } catch (error) {
    if (httpStatus(error) === 404) throw secretMissing(`waiting for Secret ${namespace}/${ref.name}: it does not exist`);
    throw error;
  }
  const encoded = secret.data?.[ref.key];
  const plain = secret.stringData?.[ref.key];
  if (encoded === undefined && plain === undefined) {
    throw secretMissing(`waiting for key "${ref.key}" in Secret ${namespace}/${ref.name}: the Secret has no such key`);
  }
  const value = plain ?? Buffer.from(encoded ?? '', 'base64').toString('utf8');
  return { value, version: `secret:${secret.metadata?.uid ?? ''}:${secret.metadata?.resourceVersion ?? ''}` };
}

/**
 * A secret spec field written inline, from the live object `ref` with
 * `uid`. The workflow's copy of the spec has these fields removed
 * (withoutSecretFields), so they are read here, where they are used.
 */
export async function readInlineSecret(clients: KubeClients, ref: ObjectRef, uid: string, field: string): Promise<SecretValue | undefined> {
  const object = await readCustomResource<JsonObject, unknown>(clients, ref);
  if (!object || object.metadata?.uid !== uid) return undefined;
  const value = object.spec?.[field];
  if (typeof value !== 'string') return undefined;
  return { value, version: `inline:${object.metadata?.generation ?? 0}` };
}

/** The spec without the kind's inline secret fields, as it may enter a workflow history. */
export function withoutSecretFields(spec: JsonObject, secretFields: readonly string[] | undefined): JsonObject {
  if (!secretFields?.length) return spec;
  return Object.fromEntries(Object.entries(spec).filter(([field]) => !secretFields.includes(field)));
}

/** The inline secret fields `spec` sets, for the Warning Event that recommends a Secret reference. */
export function inlineSecretFieldsSet(spec: JsonObject, secretFields: readonly string[] | undefined): string[] {
  return (secretFields ?? []).filter((field) => spec[field] !== undefined);
}

function digestOf(details: Record<string, string>): string {
  const sorted = Object.keys(details)
    .sort()
    .map((key) => [key, details[key]]);
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}

/** The owner of a connection Secret: the custom resource it describes. */
export interface ConnectionSecretOwner extends ObjectRef {
  uid: string;
}

/**
 * Creates or updates the connection Secret `name` of `owner` with exactly
 * `details`. One read per call; a write only when the details changed. A
 * Secret of that name that is not this object's is left alone and reported.
 */
export async function writeConnectionSecret(
  clients: KubeClients,
  owner: ConnectionSecretOwner,
  name: string,
  details: Record<string, string>,
): Promise<void> {
  const digest = digestOf(details);
  const body: Secret = {
    metadata: {
      name,
      namespace: owner.namespace,
      labels: { [CONNECTION_SECRET_LABEL]: `${owner.kind}.${owner.name}`.slice(0, 63).replace(/[^A-Za-z0-9]+$/, '') },
      annotations: { [DETAILS_DIGEST_ANNOTATION]: digest },
      // Garbage collection removes it with its owner on a real cluster; the
      // delete path removes it itself too, for clusters without one.
      ownerReferences: [{ apiVersion: API_GROUP_VERSION, kind: owner.kind, name: owner.name, uid: owner.uid, controller: true, blockOwnerDeletion: false }],
    },
    type: 'Opaque',
    stringData: details,
  };
  let existing: Secret | undefined;
  try {
    existing = await clients.core.readNamespacedSecret({ name, namespace: owner.namespace });
  } catch (error) {
    if (httpStatus(error) !== 404) throw error;
  }
  if (!existing) {
    try {
      await clients.core.createNamespacedSecret({ namespace: owner.namespace, body });
      return;
    } catch (error) {
      // Created meanwhile (a retried activity): fall through to the update.
      if (httpStatus(error) !== 409) throw error;
      existing = await clients.core.readNamespacedSecret({ name, namespace: owner.namespace });
    }
  }
  const ownedByUs = existing.metadata?.ownerReferences?.some((reference) => reference.uid === owner.uid) === true;
  if (!ownedByUs) {
    const details: FailureDetails = { reason: 'ConnectionSecretConflict' };
    throw ApplicationFailure.create({
      type: FailureType.Terminal,
      message: `Secret ${owner.namespace}/${name} already exists and is not this ${owner.kind}'s: choose another writeConnectionSecretToRef.name, or delete that Secret`,
      nonRetryable: true,
      details: [details],
    });
  }
  if (existing.metadata?.annotations?.[DETAILS_DIGEST_ANNOTATION] === digest) return;
  await clients.core.replaceNamespacedSecret({
    name,
    namespace: owner.namespace,
    body: { ...body, metadata: { ...body.metadata, resourceVersion: existing.metadata?.resourceVersion } },
  });
}

/** Removes the connection Secret `name` of `owner`, when it is that object's. */
export async function deleteConnectionSecret(clients: KubeClients, owner: ConnectionSecretOwner, name: string): Promise<void> {
  let existing: Secret;
  try {
    existing = await clients.core.readNamespacedSecret({ name, namespace: owner.namespace });
  } catch (error) {
    if (httpStatus(error) === 404) return;
    throw error;
  }
  if (!existing.metadata?.ownerReferences?.some((reference) => reference.uid === owner.uid)) return;
  try {
    await clients.core.deleteNamespacedSecret({
      name,
      namespace: owner.namespace,
      body: { preconditions: { uid: existing.metadata?.uid } },
    });
  } catch (error) {
    const code = httpStatus(error);
    // Gone already, or its namespace is going and takes it along.
    if (code === 404 || code === 409 || code === 403) return;
    throw error;
  }
}
