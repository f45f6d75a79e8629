/**
 * An HTTP proxy in front of the local AWS endpoint for tests: it names and
 * counts every AWS call, and lets a test intercept one (answer it itself,
 * or forward it and then act, e.g. kill the worker before AWS's answer gets
 * back). Point an AWSProvider's endpoint at `url` to use it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxyCall {
  /** Signing name from the Authorization header: s3, sqs, sts… */
  service: string;
  /** AWS operation, e.g. CreateBucket, PutBucketVersioning, CreateQueue. */
  operation: string;
  method: string;
  path: string;
  body: Buffer;
}

export type Interception =
  /** Answer without asking AWS. */
  | { respond: { status: number; body?: string; headers?: Record<string, string> } }
  /** Let AWS do it, then decide whether the caller ever hears back. */
  | { afterForward: (call: ProxyCall, status: number) => Promise<'pass' | 'drop'> }
  /** Let AWS do it, then change what the caller hears (e.g. a state AWS has not reached yet). */
  | { rewrite: (call: ProxyCall, status: number, body: string) => string }
  /** Close the connection without answering and without asking AWS: a connection reset the call never got past. */
  | { reset: true };

export type Interceptor = (call: ProxyCall) => Interception | undefined;

const S3_VERBS: Record<string, string> = { GET: 'Get', PUT: 'Put', DELETE: 'Delete', HEAD: 'Head', POST: 'Post' };
const S3_PLAIN: Record<string, string> = {
  'PUT 1': 'CreateBucket',
  'HEAD 1': 'HeadBucket',
  'DELETE 1': 'DeleteBucket',
  'GET 1': 'ListObjects',
  'GET 0': 'ListBuckets',
  'PUT 2': 'PutObject',
  'GET 2': 'GetObject',
  'HEAD 2': 'HeadObject',
  'DELETE 2': 'DeleteObject',
};

/** Names the AWS operation of a request, for the three protocols our kinds use. */
export function operationOf(method: string, url: URL, headers: http.IncomingHttpHeaders, body: Buffer): string {
  const target = headers['x-amz-target'];
  if (typeof target === 'string') return target.slice(target.lastIndexOf('.') + 1);
  const form = new URLSearchParams(body.toString('utf8'));
  const action = url.searchParams.get('Action') ?? form.get('Action');
  if (action) return action;
  const depth = url.pathname.split('/').filter(Boolean).length;
  const subresource = [...url.searchParams.keys()].find((key) => key !== 'x-id' && key !== 'list-type' && key !== 'versionId');
  if (!subresource) return S3_PLAIN[`${method} ${Math.min(depth, 2)}`] ?? `${method} ${url.pathname}`;
  const name = subresource.replace(/(^|-)([a-z])/g, (_m, _dash: string, letter: string) => letter.toUpperCase());
  return `${S3_VERBS[method] ?? method}Bucket${name}`;
}

function serviceOf(headers: http.IncomingHttpHeaders): string {
  const match = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(headers.authorization ?? '');
  return match?.[1] ?? 'unknown';
}

export class AwsProxy {
  readonly calls: ProxyCall[] = [];
  private readonly interceptors = new Set<Interceptor>();
  private server: http.Server | undefined;
  url = '';

  constructor(private readonly target: string) {}

  async start(): Promise<void> {
    this.server = http.createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Adds an interceptor, consulted before those added earlier; returns a function that removes it. */
  intercept(interceptor: Interceptor): () => void {
    this.interceptors.add(interceptor);
    return () => this.interceptors.delete(interceptor);
  }

  count(operation: string, since = 0): number {
    return this.calls.slice(since).filter((call) => call.operation === operation).length;
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(request.url ?? '/', 'http://proxy');
    const call: ProxyCall = {
      service: serviceOf(request.headers),
      operation: operationOf(request.method ?? 'GET', url, request.headers, body),
      method: request.method ?? 'GET',
      path: url.pathname,
      body,
    };
    this.calls.push(call);
    if (process.env.DEBUG_PROXY) process.stderr.write(`[proxy] ${call.service} ${call.operation} ${call.method} ${call.path}\n`);
    let interception: Interception | undefined;
    // Newest first, so a test's one-off interception overrides a standing one (slow NAT gateways, say).
    for (const interceptor of [...this.interceptors].reverse()) {
      interception = interceptor(call);
      if (interception) break;
    }
    if (interception && 'respond' in interception) {
      response.writeHead(interception.respond.status, interception.respond.headers ?? {});
      response.end(interception.respond.body ?? '');
      return;
    }
    if (interception && 'reset' in interception) {
      response.socket?.destroy();
      return;
    }
    try {
      const upstream = await fetch(new URL(request.url ?? '/', this.target), {
        method: call.method,
        headers: Object.entries(request.headers).flatMap(([key, value]) =>
          value === undefined || key === 'host' || key === 'connection' ? [] : [[key, String(value)] as [string, string]],
        ),
        ...(body.length && call.method !== 'GET' && call.method !== 'HEAD' ? { body } : {}),
      });
      let answer = Buffer.from(await upstream.arrayBuffer());
      if (interception && 'rewrite' in interception) {
        answer = Buffer.from(interception.rewrite(call, upstream.status, answer.toString('utf8')));
      } else if (interception && (await interception.afterForward(call, upstream.status)) === 'drop') {
        response.socket?.destroy();
        return;
      }
      const headers: Record<string, string> = {};
      upstream.headers.forEach((value, key) => {
        if (key !== 'content-encoding' && key !== 'transfer-encoding' && key !== 'connection') headers[key] = value;
      });
      headers['content-length'] = String(answer.length);
      response.writeHead(upstream.status, headers);
      response.end(answer);
    } catch {
      response.socket?.destroy();
    }
  }
}
