/**
 * Kubernetes-side activities of the reconcile workflow: load the resource,
 * manage the finalizer, write status, record Events.
 */
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import { kindDefinition, API_GROUP_VERSION } from '../../crds/index.js';
import type { DeletionPolicy } from '../../crds/schema.js';
import type { JsonObject, KubeActivities, KubeEvent, LoadedResource, ResourceStatus } from '../../shared/activities.js';
import { FINALIZER, type ObjectRef } from '../../shared/identity.js';
import { httpStatus, jsonPatchCustomResource, mergePatchStatus, readCustomResource, type KubeClients } from './client.js';

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
 * Changes the finalizer list with a JSON Patch guarded by uid and
 * resourceVersion, re-reading on conflict, so a concurrent writer's
 * finalizers are never dropped. Returns false when the object is gone.
 */
async function editFinalizers(
  clients: KubeClients,
  ref: ObjectRef,
  uid: string,
  edit: (finalizers: string[]) => string[] | undefined,
): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    const object = await readCustomResource(clients, ref);
    if (!object || object.metadata?.uid !== uid) return false;
    const next = edit(object.metadata.finalizers ?? []);
    if (!next) return true;
    try {
      await jsonPatchCustomResource(clients, ref, [
        { op: 'test', path: '/metadata/uid', value: uid },
        { op: 'test', path: '/metadata/resourceVersion', value: object.metadata.resourceVersion },
        { op: 'add', path: '/metadata/finalizers', value: next },
      ]);
      return true;
    } catch (error) {
      if (httpStatus(error) === 404) return false;
      if (!isConflict(error) || attempt >= 5) throw error;
    }
  }
}

export function kubeActivities(clients: KubeClients): KubeActivities {
  return {
    async loadResource(ref) {
      const object = await readCustomResource<JsonObject, unknown>(clients, ref);
      if (!object?.metadata?.uid) return null;
      const definition = kindDefinition(ref.kind);
      const spec = object.spec ?? {};
      const deletionPolicy = (spec.deletionPolicy as DeletionPolicy | undefined) ?? definition.defaultDeletionPolicy ?? 'Delete';
      const loaded: LoadedResource = {
        uid: object.metadata.uid,
        generation: object.metadata.generation ?? 0,
        deleting: Boolean(object.metadata.deletionTimestamp),
        hasFinalizer: (object.metadata.finalizers ?? []).includes(FINALIZER),
        deletionPolicy,
        spec,
      };
      const invalid = specProblems(ref.kind, spec);
      return invalid ? { ...loaded, invalid } : loaded;
    },

    async addFinalizer(ref, uid) {
      return editFinalizers(clients, ref, uid, (finalizers) =>
        finalizers.includes(FINALIZER) ? undefined : [...finalizers, FINALIZER],
      );
    },

    async removeFinalizer(ref, uid) {
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
        throw error;
      }
    },

    async recordEvent(ref, uid, event: KubeEvent) {
      const now = new Date();
      try {
        await clients.core.createNamespacedEvent({
          namespace: ref.namespace,
          body: {
            metadata: { name: `${ref.name}.${now.getTime().toString(16)}${randomBytes(3).toString('hex')}`, namespace: ref.namespace },
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
      } catch (error) {
        if (httpStatus(error) === 404) return; // Namespace being deleted.
        throw error;
      }
    },
  };
}
