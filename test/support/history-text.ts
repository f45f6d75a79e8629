/**
 * Every string and payload of a workflow history as one text to search,
 * payload bytes decoded as UTF-8 (as the JSON converter wrote them).
 * JSON.stringify would show them as byte maps, where a search for a plain
 * value can never match: a secret scan built on it could not fail.
 */
export function historyText(value: unknown, out: string[] = []): string {
  if (value instanceof Uint8Array) out.push(Buffer.from(value).toString('utf8'));
  else if (typeof value === 'string') out.push(value);
  else if (value !== null && typeof value === 'object') for (const inner of Object.values(value)) historyText(inner, out);
  return out.join('\n');
}
