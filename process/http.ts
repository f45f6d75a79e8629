/**
 * The health and metrics endpoint of each process (OPERATOR_HTTP_PORT):
 * - `/healthz`: liveness. Answering at all proves the event loop runs; the
 *   process adds what else must hold (the worker: its Worker has not failed).
 * - `/readyz`: readiness, false until the process is connected to Temporal
 *   and the API server and doing its work.
 * - `/metrics`: the Prometheus text of `registry` (process/metrics.ts).
 * Each check answers 200 or 503 with a JSON body saying why.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { registry } from './metrics.js';

/** The result of one check: `detail` says why, for a person reading the probe. */
export interface Check {
  ok: boolean;
  detail: string;
}

export interface Probes {
  live(): Check;
  ready(): Check;
}

export interface OperatorHttp {
  port: number;
  close(): Promise<void>;
}

function answerCheck(response: http.ServerResponse, check: Check): void {
  response.writeHead(check.ok ? 200 : 503, { 'content-type': 'application/json' });
  response.end(JSON.stringify(check));
}

async function answer(request: http.IncomingMessage, response: http.ServerResponse, probes: Probes): Promise<void> {
  const path = (request.url ?? '/').split('?')[0];
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  switch (path) {
    case '/healthz':
      answerCheck(response, probes.live());
      return;
    case '/readyz':
      answerCheck(response, probes.ready());
      return;
    case '/metrics':
      response.writeHead(200, { 'content-type': registry.contentType });
      response.end(await registry.metrics());
      return;
    default:
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz, /readyz or /metrics\n');
  }
}

/** Serves the probes and metrics on `port` (all interfaces: kubelet and Prometheus reach the pod's IP). */
export async function startOperatorHttp(port: number, probes: Probes): Promise<OperatorHttp> {
  const server = http.createServer((request, response) => {
    answer(request, response, probes).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(`${error instanceof Error ? error.message : String(error)}\n`);
    });
  });
  // A probe must never keep the process from exiting.
  server.unref();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
