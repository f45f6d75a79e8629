/**
 * What observe reports as drift, the same for every kind: one line per field
 * that differs, and the terminal error for a field only a new resource can
 * change. Kinds add what their update needs (the attributes that fix it).
 */

/** One field that differs; reads as `enableDnsHostnames: false -> true`. */
export interface Difference {
  field: string;
  detail: string;
  /** Fixed at creation: update cannot change it. */
  immutable?: boolean;
}

/** Error name of an immutable field that differs in AWS; only a new resource can fix it. */
export const IMMUTABLE_FIELD_CHANGED = 'ImmutableFieldChanged';

/** Readable form of a difference, as it appears in conditions and events. */
export function formatDifference(difference: Difference): string {
  return `${difference.field}: ${difference.detail}${difference.immutable ? ' (immutable: create a new resource to change it)' : ''}`;
}

/** The error update throws when an immutable field differs; terminal, so it waits for a spec change. */
export function immutableFieldError(resource: string, differences: Difference[]): Error | undefined {
  const fixed = differences.filter((difference) => difference.immutable);
  if (!fixed.length) return undefined;
  const list = fixed.map((difference) => `${difference.field} ${difference.detail}`).join(', ');
  return Object.assign(new Error(`${resource} differs in fields fixed at creation (${list}): create a new resource to change them`), {
    name: IMMUTABLE_FIELD_CHANGED,
  });
}
