/**
 * Makes moto's NAT gateways as slow as AWS's: moto reports them available
 * the moment they are created and deleted the moment they are deleted; this
 * rewrites DescribeNatGateways answers at the proxy so each gateway reads
 * `pending` for `pendingMs` after its creation and `deleting` for
 * `deletingMs` after its deletion.
 */
import type { AwsProxy } from './aws-proxy.js';

export interface NatTimings {
  pendingMs: number;
  deletingMs: number;
}

/** Rewrites the `<state>` that follows a gateway's `<natGatewayId>` in an EC2 XML answer. */
export function rewriteNatState(body: string, natGatewayId: string, from: string, to: string): string {
  const idTag = `<natGatewayId>${natGatewayId}</natGatewayId>`;
  let result = '';
  let rest = body;
  for (let at = rest.indexOf(idTag); at !== -1; at = rest.indexOf(idTag)) {
    const stateAt = rest.indexOf(`<state>${from}</state>`, at);
    const nextItem = rest.indexOf('<natGatewayId>', at + idTag.length);
    if (stateAt === -1 || (nextItem !== -1 && stateAt > nextItem)) {
      result += rest.slice(0, at + idTag.length);
      rest = rest.slice(at + idTag.length);
      continue;
    }
    result += `${rest.slice(0, stateAt)}<state>${to}</state>`;
    rest = rest.slice(stateAt + `<state>${from}</state>`.length);
  }
  return result + rest;
}

/** Installs the slow-NAT rewrite; returns a function that removes it. */
export function slowNatGateways(proxy: AwsProxy, timings: NatTimings): () => void {
  const created = new Map<string, number>();
  const deleted = new Map<string, number>();
  return proxy.intercept((call) => {
    if (call.operation === 'CreateNatGateway') {
      return {
        rewrite: (_call, _status, body) => {
          const id = /<natGatewayId>([^<]+)<\/natGatewayId>/.exec(body)?.[1];
          if (id && !created.has(id)) created.set(id, Date.now());
          return id ? rewriteNatState(body, id, 'available', 'pending') : body;
        },
      };
    }
    if (call.operation === 'DeleteNatGateway') {
      const id = new URLSearchParams(call.body.toString('utf8')).get('NatGatewayId');
      if (id && !deleted.has(id)) deleted.set(id, Date.now());
      return undefined;
    }
    if (call.operation !== 'DescribeNatGateways') return undefined;
    return {
      rewrite: (_call, _status, body) => {
        const now = Date.now();
        let text = body;
        for (const [id, at] of created) {
          if (now - at < timings.pendingMs) text = rewriteNatState(text, id, 'available', 'pending');
        }
        for (const [id, at] of deleted) {
          if (now - at < timings.deletingMs) text = rewriteNatState(text, id, 'deleted', 'deleting');
        }
        return text;
      },
    };
  });
}
