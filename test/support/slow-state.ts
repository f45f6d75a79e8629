/**
 * Makes moto's slow Query/XML resources as slow as AWS's: moto reports an
 * RDS instance or a cache cluster `available` the moment it is created or
 * modified; this rewrites the create/modify answer and every describe
 * answer at the proxy so the resource reads a held state (`creating`,
 * `modifying`) for a configurable time after the call. Generic over the
 * XML shape: the caller names the item, identifier and status elements
 * (DBInstance / DBInstanceIdentifier / DBInstanceStatus for RDS,
 * CacheCluster / CacheClusterId / CacheClusterStatus for ElastiCache).
 */
import type { AwsProxy, ProxyCall } from './aws-proxy.js';

/** The element names of one resource in a Query/XML answer. */
export interface XmlItemShape {
  /** Element wrapping one resource, e.g. `DBInstance`. */
  itemTag: string;
  /** Element holding its identifier, e.g. `DBInstanceIdentifier`; also the request parameter naming it. */
  idTag: string;
  /** Element holding its state, e.g. `DBInstanceStatus`. */
  statusTag: string;
}

export interface SlowStateOptions extends XmlItemShape {
  /** Calls that start a create hold, e.g. `['CreateDBInstance']`. */
  createOperations: string[];
  /** Calls that start a modify hold, e.g. `['ModifyDBInstance', 'RebootDBInstance']`. */
  modifyOperations: string[];
  /** The describe call whose answers are rewritten, e.g. `DescribeDBInstances`. */
  describeOperation: string;
  /** State shown after a create, e.g. `creating`. */
  createState: string;
  /** State shown after a modify, e.g. `modifying`. */
  modifyState: string;
  /** How long a created resource reads `createState`; 0 turns create holds off. */
  createMs: number;
  /** How long a modified resource reads `modifyState`; 0 turns modify holds off. */
  modifyMs: number;
}

export interface SlowState {
  /** Holds one resource in `state` for `ms` from now (a test's own hold, e.g. before a modify it cannot trigger). */
  hold(id: string, state: string, ms: number): void;
  /** When the current hold of a resource ends (epoch ms), or undefined when it is not held. */
  heldUntil(id: string): number | undefined;
  /** How many describe answers were rewritten while a hold was in force. */
  readonly rewrites: number;
  /** Removes the interception; held resources read their real state again. */
  stop(): void;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Rewrites the status of the item whose identifier is `id` (case-insensitive,
 * as AWS identifiers are) to `to`; other items and answers without it are
 * returned unchanged.
 */
export function rewriteItemState(body: string, shape: XmlItemShape, id: string, to: string): string {
  const item = new RegExp(`<${shape.itemTag}>([\\s\\S]*?)</${shape.itemTag}>`, 'g');
  const idElement = new RegExp(`<${shape.idTag}>\\s*${escapeRegExp(id)}\\s*</${shape.idTag}>`, 'i');
  const status = new RegExp(`<${shape.statusTag}>[^<]*</${shape.statusTag}>`);
  return body.replace(item, (whole: string, inner: string) =>
    idElement.test(inner)
      ? `<${shape.itemTag}>${inner.replace(status, `<${shape.statusTag}>${to}</${shape.statusTag}>`)}</${shape.itemTag}>`
      : whole,
  );
}

/** The identifier a request names, from its form body or query string. */
export function requestedId(call: ProxyCall, idTag: string): string | undefined {
  const form = new URLSearchParams(call.body.toString('utf8'));
  const fromQuery = new URLSearchParams(call.path.includes('?') ? call.path.slice(call.path.indexOf('?')) : '');
  return form.get(idTag) ?? fromQuery.get(idTag) ?? undefined;
}

/** Installs the slow-state rewrite on the proxy. */
export function slowState(proxy: AwsProxy, options: SlowStateOptions): SlowState {
  const holds = new Map<string, { state: string; until: number }>();
  let rewrites = 0;
  const hold = (id: string, state: string, ms: number): void => {
    if (ms > 0) holds.set(id.toLowerCase(), { state, until: Date.now() + ms });
  };
  const applyHolds = (body: string, counted: boolean): string => {
    const now = Date.now();
    let text = body;
    for (const [id, held] of holds) {
      if (held.until <= now) continue;
      const rewritten = rewriteItemState(text, options, id, held.state);
      if (counted && rewritten !== text) rewrites += 1;
      text = rewritten;
    }
    return text;
  };
  const stop = proxy.intercept((call) => {
    const isCreate = options.createOperations.includes(call.operation);
    const isModify = options.modifyOperations.includes(call.operation);
    if (isCreate || isModify) {
      const id = requestedId(call, options.idTag);
      return {
        rewrite: (_call, status, body) => {
          // A refused call (already exists, invalid state) changes nothing at AWS, so it starts no hold.
          if (!id || status >= 300) return body;
          // A retried create of the same resource must not restart the clock AWS started the first time.
          if (isCreate && holds.has(id.toLowerCase())) return applyHolds(body, false);
          if (isCreate) hold(id, options.createState, options.createMs);
          else hold(id, options.modifyState, options.modifyMs);
          return applyHolds(body, false);
        },
      };
    }
    if (call.operation !== options.describeOperation) return undefined;
    return { rewrite: (_call, _status, body) => applyHolds(body, true) };
  });
  return {
    hold,
    heldUntil: (id) => {
      const held = holds.get(id.toLowerCase());
      return held && held.until > Date.now() ? held.until : undefined;
    },
    get rewrites() {
      return rewrites;
    },
    stop: () => {
      stop();
    },
  };
}
