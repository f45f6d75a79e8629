/**
 * The two small caches credential resolution needs: a bounded LRU map, and
 * a credential provider that shares one answer between its callers until
 * that answer nears its expiry.
 */
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

/** A Map that keeps at most `capacity` entries, dropping the least recently used. */
export class LruCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`an LRU cache needs a capacity of at least 1, got ${capacity}`);
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    if (!this.entries.has(key)) return undefined;
    const value = this.entries.get(key) as V;
    // Map keeps insertion order: re-inserting makes this the newest.
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

/**
 * How long before its expiry a temporary identity is fetched again: the
 * SDK's own margin (five minutes), so no call is signed with credentials
 * that expire while it is in flight.
 */
export const EXPIRY_MARGIN_MS = 5 * 60_000;

/**
 * `provider`, answering every caller with one identity until it is within
 * EXPIRY_MARGIN_MS of its expiration (an identity without one is kept for
 * good). Callers that arrive while a fetch is in flight wait for that one
 * fetch, so many concurrent activities make one STS AssumeRole. A failed
 * fetch is not kept: the next caller tries again.
 */
export function sharedIdentity(
  provider: AwsCredentialIdentityProvider,
  now: () => number = Date.now,
): AwsCredentialIdentityProvider {
  let identity: AwsCredentialIdentity | undefined;
  let pending: Promise<AwsCredentialIdentity> | undefined;
  const fresh = (candidate: AwsCredentialIdentity): boolean =>
    candidate.expiration === undefined || candidate.expiration.getTime() - now() > EXPIRY_MARGIN_MS;
  return () => {
    if (identity && fresh(identity)) return Promise.resolve(identity);
    pending ??= provider()
      .then((answer) => {
        identity = answer;
        return answer;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}
