/**
 * Kubernetes-side activities of the reconcile workflow: load the resource,
 * manage the finalizer, write status, record Events.
 */
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import { kindDefinition, kinds, API_GROUP, API_GROUP_VERSION, API_VERSION, type KindDefinition } from '../../crds/index.js';
import type { DeletionPolicy } from '../../crds/schema.js';
import type { JsonObject, KubeActivities, KubeEvent, LoadedResource, Management, ResourceStatus } from '../../contract/activities.js';
import {
  ADOPTION_POLICIES,
  Annotations,
  FINALIZER,
  MANAGEMENT_POLICIES,
  SECRET_IN_USE_FINALIZER,
  workflowIdFor,
  type AdoptionPolicy,
  type ManagementPolicy,
  type ObjectRef,
} from '../../contract/identity.js';
import { log, resourceFields } from '../../process/log.js';
import { driftRepairs } from '../../process/metrics.js';
import {
  httpStatus,
  jsonPatchCustomResource,
  mergePatchStatus,
  PatchType,
  readCustomResource,
  type CustomResource,
  type KubeClients,
} from '../../kube/client.js';
import { deleteConnectionSecret, inlineSecretFieldsSet, withoutSecretFields } from './secrets.js';
import { LruCache } from '../aws/cache.js';

/** Conflicts worth re-reading for: 409 (resourceVersion) and 422 (a failed JSON Patch test). */
function isConflict(error: unknown): boolean {
  const status = httpStatus(error);
  return status === 409 || status === 422;
}

/** Schema errors of a spec, as one readable line; undefined when valid. */
export function specProblems(kind: string, spec: unknown): string | undefined {
  const schema = kindDefinition(kind).spec;
  if (Value.Check(schema, spec)) return undefined;
  const problems = [...Value.Errors(schema, spec)].slice(0, 3).map((e) => `${e.path || '/'}: ${e.message}`);
  return `spec does not match the ${kind} schema: ${problems.join('; ')}`;
}

/**
 * What the annotations of ours ask, with the problems of any bad value. A
 * bad value fails safe: an unreadable pause still pauses, an unreadable
 * management policy only observes.
 */
export function managementFrom(annotations: Record<string, string> | undefined): { management: Management; problems: string[] } {
  const problems: string[] = [];
  const adoption = annotations?.[Annotations.adoptionPolicy];
  const policy = annotations?.[Annotations.managementPolicy];
  const paused = annotations?.[Annotations.paused];
  const adoptionID = annotations?.[Annotations.adoptionID];
  if (adoption !== undefined && !(ADOPTION_POLICIES as readonly string[]).includes(adoption)) {
    problems.push(`annotation ${Annotations.adoptionPolicy} must be one of ${ADOPTION_POLICIES.join(', ')}, got "${adoption}"`);
  }
  if (policy !== undefined && !(MANAGEMENT_POLICIES as readonly string[]).includes(policy)) {
    problems.push(`annotation ${Annotations.managementPolicy} must be one of ${MANAGEMENT_POLICIES.join(', ')}, got "${policy}"`);
  }
  if (paused !== undefined && paused !== 'true' && paused !== 'false') {
    problems.push(`annotation ${Annotations.paused} must be "true" or "false", got "${paused}"`);
  }
  if (adoptionID !== undefined && adoption === undefined && policy !== 'Observe') {
    problems.push(`annotation ${Annotations.adoptionID} needs ${Annotations.adoptionPolicy} (adopt or adopt-or-create) beside it`);
  }
  const management: Management = {
    policy: policy === undefined || policy === 'Full' ? 'Full' : ('Observe' satisfies ManagementPolicy),
    paused: paused !== undefined && paused !== 'false',
    ...(adoption && problems.length === 0 ? { adoption: adoption as AdoptionPolicy } : {}),
    ...(adoptionID ? { adoptionID } : {}),
  };
  return { management, problems };
}

/** The custom resources of every kind that refer to `ref`, as `Kind namespace/name`. */
async function usersOf(clients: KubeClients, ref: ObjectRef): Promise<string[]> {
  const target = workflowIdFor(ref);
  const users: string[] = [];
  for (const kind of kinds) {
    const list = (await clients.custom.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: kind.plural })) as {
      items?: CustomResource[];
    };
    for (const item of list.items ?? []) {
      const namespace = item.metadata?.namespace ?? 'default';
      let references: ObjectRef[] = [];
      try {
        references = kind.references(item.spec, namespace);
      } catch {
        // A spec too broken to read references from refers to nothing.
      }
      if (references.some((reference) => workflowIdFor(reference) === target)) {
        users.push(`${kind.kind} ${namespace}/${item.metadata?.name ?? ''}`);
      }
    }
  }
  return users.sort();
}

/**
 * Adds or removes the in-use finalizer on one Secret, guarded by its
 * resourceVersion. A Secret that does not exist is nothing to protect.
 */
async function editSecretFinalizer(clients: KubeClients, namespace: string, name: string, present: boolean): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    let secret;
    try {
      secret = await clients.core.readNamespacedSecret({ name, namespace });
    } catch (error) {
      if (httpStatus(error) === 404) return;
      throw error;
    }
    const finalizers = secret.metadata?.finalizers ?? [];
    if (finalizers.includes(SECRET_IN_USE_FINALIZER) === present) return;
    const next = present ? [...finalizers, SECRET_IN_USE_FINALIZER] : finalizers.filter((f) => f !== SECRET_IN_USE_FINALIZER);
    try {
      await clients.core.patchNamespacedSecret(
        {
          name,
          namespace,
          body: [
            { op: 'test', path: '/metadata/resourceVersion', value: secret.metadata?.resourceVersion },
            { op: 'add', path: '/metadata/finalizers', value: next },
          ],
        },
        PatchType.JsonPatch,
      );
      return;
    } catch (error) {
      if (httpStatus(error) === 404) return;
      if (!isConflict(error) || attempt >= 5) throw error;
    }
  }
}

/** Secrets `object` reads that no other live object of its kind in its namespace reads too. */
async function secretsOnlyItReads(clients: KubeClients, ref: ObjectRef, secrets: string[]): Promise<string[]> {
  const definition = kindDefinition(ref.kind);
  const list = (await clients.custom.listNamespacedCustomObject({
    group: API_GROUP,
    version: API_VERSION,
    namespace: ref.namespace,
    plural: definition.plural,
  })) as { items?: CustomResource[] };
  const stillRead = new Set(
    (list.items ?? [])
      .filter((item) => item.metadata?.name !== ref.name && !item.metadata?.deletionTimestamp)
      .flatMap((item) => definition.secretNames?.(item.spec as never, ref.namespace) ?? []),
  );
  return secrets.filter((name) => !stillRead.has(name));
}

/**
 * The AWS identifier a status records as ours: `externalID`, or, in a status
 * written before it existed, the kind's identity field of a resource that
 * was Ready as the operator's own (`Available`, never written for one it
 * only observes or refused).
 */
export function recordedID(definition: KindDefinition, status: Record<string, unknown> | undefined): string | undefined {
  const recorded = status?.externalID;
  if (typeof recorded === 'string' && recorded !== '') return recorded;
  if (!definition.identityField || status?.ready !== true) return undefined;
  const conditions = status.conditions as Array<{ type?: string; reason?: string }> | undefined;
  if (conditions?.find((c) => c.type === 'Ready')?.reason !== 'Available') return undefined;
  const legacy = status[definition.identityField];
  return typeof legacy === 'string' && legacy !== '' ? legacy : undefined;
}

/**
 * An Event's name: the object's, then the workflow's key for it when there
 * is one (a repeat of the same Event gets the same name), else a unique one.
 * Names are DNS subdomains: at most 253 characters, lower case.
 */
export function eventName(ref: ObjectRef, event: KubeEvent): string {
  const suffix = event.key ? event.key.toLowerCase().replace(/[^a-z0-9.-]/g, '-') : `${Date.now().toString(16)}${randomBytes(3).toString('hex')}`;
  return `${ref.name}.${suffix}`.slice(0, 253).replace(/[^a-z0-9]+$/, '');
}

/**
 * Changes the finalizer list with a JSON Patch guarded by uid and
 * resourceVersion, re-reading on conflict, so a concurrent writer's
 * finalizers are never dropped. Returns false when the object is gone.
 */
/** The metadata a finalizer edit is guarded by, as a read found it. */
interface FinalizerState {
  uid: string;
  resourceVersion: string;
  finalizers: string[];
}

async function editFinalizers(
  clients: KubeClients,
  ref: ObjectRef,
  uid: string,
  edit: (finalizers: string[]) => string[] | undefined,
  known?: FinalizerState,
): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    let current = attempt === 0 ? known : undefined;
    if (!current) {
      const object = await readCustomResource(clients, ref);
      if (!object?.metadata?.uid) return false;
      current = { uid: object.metadata.uid, resourceVersion: object.metadata.resourceVersion ?? '', finalizers: object.metadata.finalizers ?? [] };
    }
    if (current.uid !== uid) return false;
    const next = edit(current.finalizers);
    if (!next) return true;
    try {
      await jsonPatchCustomResource(clients, ref, [
        { op: 'test', path: '/metadata/uid', value: uid },
        { op: 'test', path: '/metadata/resourceVersion', value: current.resourceVersion },
        { op: 'add', path: '/metadata/finalizers', value: next },
      ]);
      return true;
    } catch (error) {
      if (httpStatus(error) === 404) return false;
      if (!isConflict(error) || attempt >= 5) throw error;
    }
  }
}

/** Kinds whose schema has writeConnectionSecretToRef. */
export function writesConnectionSecret(definition: KindDefinition): boolean {
  return Object.hasOwn(definition.spec.properties, 'writeConnectionSecretToRef');
}

/** Records an Event; never throws (see recordEvent). */
async function postEvent(clients: KubeClients, ref: ObjectRef, uid: string, event: KubeEvent): Promise<void> {
  const now = new Date();
  try {
    await clients.core.createNamespacedEvent({
      namespace: ref.namespace,
      body: {
        metadata: { name: eventName(ref, event), namespace: ref.namespace },
        involvedObject: { apiVersion: API_GROUP_VERSION, kind: ref.kind, name: ref.name, namespace: ref.namespace, uid },
        type: event.type,
        reason: event.reason,
        message: event.message.slice(0, 1024),
        source: { component: 'infra-operator' },
        reportingComponent: 'infra-operator',
        reportingInstance: os.hostname(),
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    });
    if (event.reason === 'DriftRepaired') driftRepairs.inc({ kind: ref.kind });
  } catch (error) {
    // 409: this very Event was recorded already (a retried workflow task).
    if (httpStatus(error) === 409) return;
    // Events are best effort, as client-go's recorder makes them: a
    // namespace being deleted refuses them (403), and nothing may wait
    // for one, least of all a deletion.
    log.warn('event not recorded', { ...resourceFields(ref), reason: event.reason, status: httpStatus(error) ?? String(error) });
  }
}

/**
 * Once per generation (the Event's name makes a repeat a no-op): the value
 * works, but anyone who can read the object can read it.
 */
async function warnInlineSecret(clients: KubeClients, ref: ObjectRef, uid: string, generation: number, fields: string[]): Promise<void> {
  const names = fields.map((field) => `spec.${field}`).join(', ');
  const instead = fields.map((field) => `spec.${field}SecretRef`).join(', ');
  await postEvent(clients, ref, uid, {
    type: 'Warning',
    reason: 'InlineSecret',
    key: `inline-secret-${generation}`,
    message: `${names} holds a secret in the object itself, readable by anyone who can read the object; put it in a Secret and set ${instead} instead`,
  });
}

/** Loads remembered for the finalizer edit after them: as many as the workflows in flight, many times over. */
const LOADS_KEPT = 1024;

export function kubeActivities(clients: KubeClients): KubeActivities {
  // What the last load of each object saw, so adding the finalizer right
  // after it patches without reading the object again. Only a guess: the
  // patch tests the resourceVersion, and a stale one is read afresh.
  const lastLoads = new LruCache<string, FinalizerState>(LOADS_KEPT);
  const keyOf = (ref: ObjectRef) => `${ref.kind}/${ref.namespace}/${ref.name}`;
  return {
    async loadResource(ref) {
      const object = await readCustomResource<JsonObject, Record<string, unknown>>(clients, ref);
      if (!object?.metadata?.uid) {
        lastLoads.delete(keyOf(ref));
        return null;
      }
      lastLoads.set(keyOf(ref), {
        uid: object.metadata.uid,
        resourceVersion: object.metadata.resourceVersion ?? '',
        finalizers: object.metadata.finalizers ?? [],
      });
      const definition = kindDefinition(ref.kind);
      const fullSpec = object.spec ?? {};
      // What enters the workflow, and so its history: no inline secret.
      const spec = withoutSecretFields(fullSpec, definition.secretFields);
      const deletionPolicy = (spec.deletionPolicy as DeletionPolicy | undefined) ?? definition.defaultDeletionPolicy ?? 'Delete';
      const deleting = Boolean(object.metadata.deletionTimestamp);
      const { management, problems } = managementFrom(object.metadata.annotations);
      const externalID = recordedID(definition, object.status);
      const loaded: LoadedResource = {
        uid: object.metadata.uid,
        generation: object.metadata.generation ?? 0,
        deleting,
        hasFinalizer: (object.metadata.finalizers ?? []).includes(FINALIZER),
        deletionPolicy,
        spec,
        management,
        ...(externalID ? { externalID } : {}),
      };
      if (deleting && definition.deletionWaitsForUsers) {
        const usedBy = await usersOf(clients, ref);
        if (usedBy.length) loaded.usedBy = usedBy;
      }
      if (!deleting && definition.secretNames) {
        for (const name of definition.secretNames(spec, ref.namespace)) {
          await editSecretFinalizer(clients, ref.namespace, name, true);
        }
      }
      const inline = inlineSecretFieldsSet(fullSpec, definition.secretFields);
      if (inline.length && !deleting) await warnInlineSecret(clients, ref, object.metadata.uid, object.metadata.generation ?? 0, inline);
      const invalid = [specProblems(ref.kind, fullSpec), ...problems].filter(Boolean).join('; ');
      return invalid ? { ...loaded, invalid } : loaded;
    },

    async addFinalizer(ref, uid) {
      const known = lastLoads.get(keyOf(ref));
      lastLoads.delete(keyOf(ref));
      return editFinalizers(
        clients,
        ref,
        uid,
        (finalizers) => (finalizers.includes(FINALIZER) ? undefined : [...finalizers, FINALIZER]),
        known,
      );
    },

    async removeFinalizer(ref, uid) {
      const definition = kindDefinition(ref.kind);
      const object = definition.secretNames || writesConnectionSecret(definition) ? await readCustomResource<JsonObject, unknown>(clients, ref) : null;
      const connectionSecret = (object?.spec?.writeConnectionSecretToRef as { name?: string } | undefined)?.name;
      if (object?.metadata?.uid === uid && connectionSecret) {
        // Every deletion policy: the Secret describes this object, which goes.
        await deleteConnectionSecret(clients, { ...ref, uid }, connectionSecret);
      }
      if (object?.metadata?.uid === uid && definition.secretNames) {
        // Last: the Secrets it read can go once nothing needs them.
        const secrets = definition.secretNames(object.spec, ref.namespace);
        for (const name of await secretsOnlyItReads(clients, ref, secrets)) {
          await editSecretFinalizer(clients, ref.namespace, name, false);
        }
      }
      await editFinalizers(clients, ref, uid, (finalizers) =>
        finalizers.includes(FINALIZER) ? finalizers.filter((f) => f !== FINALIZER) : undefined,
      );
    },

    async patchStatus(ref, uid, status: ResourceStatus) {
      try {
        // metadata.uid in the patch makes the API server refuse it for a
        // different object that took the same name.
        await mergePatchStatus(clients, ref, { metadata: { uid }, status });
      } catch (error) {
        const code = httpStatus(error);
        if (code === 404 || code === 409 || code === 422) return; // Gone or replaced: nothing to report on.
        // 403: its namespace is being deleted. A status is never worth blocking a deletion for.
        if (code === 403) return;
        throw error;
      }
    },

    recordEvent: (ref, uid, event: KubeEvent) => postEvent(clients, ref, uid, event),
  };
}
