/**
 * One-line JSON logs for the watcher and worker processes (Node only: never
 * imported by workflow code). Callers pass
 * identifiers and error names only; no spec or Secret value is logged.
 *
 * A line about one resource carries `kind`, `namespace`, `name` and
 * `workflowId` (`resourceFields`), so `jq 'select(.name == "x")'` finds
 * every line about it, from either process and from the Temporal SDK.
 */
import type { ObjectRef } from '../contract/identity.js';
import { workflowIdFor } from '../contract/identity.js';

export type Fields = Record<string, string | number | boolean | undefined>;

/** The fields that name a resource on every line about it. */
export function resourceFields(ref: ObjectRef): { kind: string; namespace: string; name: string; workflowId: string } {
  return { kind: ref.kind, namespace: ref.namespace, name: ref.name, workflowId: workflowIdFor(ref) };
}

/** The resource a workflow ID (`Kind/namespace/name`) names; undefined for any other ID. */
export function refOfWorkflowId(workflowId: string): ObjectRef | undefined {
  const parts = workflowId.split('/');
  if (parts.length !== 3 || parts.some((part) => part === '')) return undefined;
  const [kind, namespace, name] = parts;
  return { kind, namespace, name };
}

/** `error` as one short field value: its name and message, never its properties (which may hold a request). */
export function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function write(level: string, message: string, fields: Fields = {}): void {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`);
}

export const log = {
  info: (message: string, fields?: Fields) => write('info', message, fields),
  warn: (message: string, fields?: Fields) => write('warn', message, fields),
  error: (message: string, fields?: Fields) => write('error', message, fields),
  /** A line at a level given by name (the Temporal SDK's: TRACE, DEBUG, INFO, WARN, ERROR). */
  at: (level: string, message: string, fields?: Fields) => write(level.toLowerCase(), message, fields),
};

/**
 * A log entry's metadata from the Temporal SDK (activity and workflow
 * context, an error) as flat fields, with the resource's fields added when
 * it names a reconcile workflow. Objects become their JSON, errors their
 * name and message.
 */
export function sdkFields(meta: Record<string, unknown> | undefined): Fields {
  const fields: Fields = {};
  for (const [name, value] of Object.entries(meta ?? {})) {
    if (value === undefined || value === null) continue;
    // The SDK's `namespace` is Temporal's; ours is the resource's.
    const key = name === 'namespace' ? 'temporalNamespace' : name;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') fields[key] = value;
    else if (typeof value === 'bigint') fields[key] = value.toString();
    else if (value instanceof Error) fields[key] = errorText(value);
    else fields[key] = JSON.stringify(value);
  }
  const ref = typeof fields.workflowId === 'string' ? refOfWorkflowId(fields.workflowId) : undefined;
  return ref ? { ...fields, ...resourceFields(ref) } : fields;
}
