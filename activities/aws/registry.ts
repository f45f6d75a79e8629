/**
 * Kind → handler. Adding a kind is one module and one line here; no
 * workflow, watcher or worker code changes.
 */
import { elasticIpHandler } from './ec2/elastic-ip.js';
import { internetGatewayHandler } from './ec2/internet-gateway.js';
import { natGatewayHandler } from './ec2/nat-gateway.js';
import { routeTableHandler } from './ec2/route-table.js';
import { securityGroupHandler } from './ec2/security-group.js';
import { subnetHandler } from './ec2/subnet.js';
import { vpcHandler } from './ec2/vpc.js';
import type { ResourceHandler } from './handler.js';
import { bucketHandler } from './s3/bucket.js';
import { queueHandler } from './sqs/queue.js';
import { providerHandler } from './sts/provider.js';

// Each handler is typed by its own spec; the registry erases that because
// specs arrive as JSON already checked against the kind's schema.
const handlers = new Map<string, ResourceHandler<never>>(
  [
    providerHandler,
    bucketHandler,
    queueHandler,
    vpcHandler,
    subnetHandler,
    internetGatewayHandler,
    natGatewayHandler,
    routeTableHandler,
    securityGroupHandler,
    elasticIpHandler,
  ].map((handler) => [handler.kind, handler as ResourceHandler<never>]),
);

export function handlerFor(kind: string): ResourceHandler<never> {
  const handler = handlers.get(kind);
  if (!handler) throw new Error(`no AWS handler for kind ${kind}`);
  return handler;
}

export function handledKinds(): string[] {
  return [...handlers.keys()];
}
