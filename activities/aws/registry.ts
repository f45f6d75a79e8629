/**
 * Kind → handler. Each kind is registered once, its schema beside its
 * handler, and the handler is typed by that schema's static type: a handler
 * for the wrong spec does not compile. Adding a kind is one module and one
 * line here; no workflow, watcher or worker code changes.
 *
 * Handler modules load on first use: each AWS SDK client costs 20 to 90 MiB
 * of memory (EC2's the most), and a worker that only ever serves queues and
 * buckets need not hold the rest.
 */
import type { Static, TObject } from '@sinclair/typebox';
import type { KindDefinition } from '../../crds/kind.js';
import { AWSProviderKind } from '../../crds/kinds/aws-provider.js';
import { CacheSubnetGroupKind } from '../../crds/kinds/cache-subnet-group.js';
import { ElastiCacheClusterKind } from '../../crds/kinds/elasticache-cluster.js';
import { DBSubnetGroupKind } from '../../crds/kinds/db-subnet-group.js';
import { DynamoDBTableKind } from '../../crds/kinds/dynamodb-table.js';
import { ElasticIPKind } from '../../crds/kinds/elastic-ip.js';
import { InternetGatewayKind } from '../../crds/kinds/internet-gateway.js';
import { NATGatewayKind } from '../../crds/kinds/nat-gateway.js';
import { RDSInstanceKind } from '../../crds/kinds/rds-instance.js';
import { RouteTableKind } from '../../crds/kinds/route-table.js';
import { S3BucketKind } from '../../crds/kinds/s3-bucket.js';
import { SecurityGroupKind } from '../../crds/kinds/security-group.js';
import { SQSQueueKind } from '../../crds/kinds/sqs-queue.js';
import { SNSTopicKind } from '../../crds/kinds/sns-topic.js';
import { SubnetKind } from '../../crds/kinds/subnet.js';
import { VPCKind } from '../../crds/kinds/vpc.js';
import type { JsonObject } from '../../contract/activities.js';
import type { ResourceHandler } from './handler.js';

/** A handler as the activities call it: on a spec as it arrived, plain JSON. */
export type RegisteredHandler = ResourceHandler<JsonObject>;

/**
 * Registers `handler` for `definition`. The one place a JSON spec becomes the
 * kind's type: loadResource has checked it against this same schema
 * (`specProblems`) before any activity gets it.
 */
function register<Spec extends TObject, Status extends TObject>(
  definition: KindDefinition<Spec, Status>,
  load: () => Promise<ResourceHandler<Static<Spec>>>,
): LazyHandler {
  let loaded: Promise<RegisteredHandler> | undefined;
  return {
    kind: definition.kind,
    load: () => (loaded ??= load().then((handler) => asRegistered(definition, handler))),
  };
}

/** A kind whose handler module is imported the first time it is needed. */
interface LazyHandler {
  kind: string;
  load(): Promise<RegisteredHandler>;
}

function asRegistered<Spec extends TObject, Status extends TObject>(
  definition: KindDefinition<Spec, Status>,
  handler: ResourceHandler<Static<Spec>>,
): RegisteredHandler {
  if (handler.kind !== definition.kind) throw new Error(`handler for ${handler.kind} registered as ${definition.kind}`);
  const typed = (spec: JsonObject) => spec as Static<Spec>;
  return {
    kind: definition.kind,
    ...(handler.errorCodes ? { errorCodes: handler.errorCodes } : {}),
    ...(handler.createsTagged ? { createsTagged: true } : {}),
    observe: (context, spec) => handler.observe(context, typed(spec)),
    create: (context, spec) => handler.create(context, typed(spec)),
    update: (context, spec, observed) => handler.update(context, typed(spec), observed),
    delete: (context, spec) => handler.delete(context, typed(spec)),
    ...(handler.connectionDetails
      ? { connectionDetails: (context, spec, observed) => handler.connectionDetails!(context, typed(spec), observed) }
      : {}),
    ...(handler.observeMany
      ? { observeMany: (items) => handler.observeMany!(items.map(({ context, desired }) => ({ context, desired: typed(desired) }))) }
      : {}),
  };
}

const handlers = new Map<string, LazyHandler>(
  [
    register(AWSProviderKind, async () => (await import('./sts/provider.js')).providerHandler),
    register(S3BucketKind, async () => (await import('./s3/bucket.js')).bucketHandler),
    register(SQSQueueKind, async () => (await import('./sqs/queue.js')).queueHandler),
    register(SNSTopicKind, async () => (await import('./sns/topic.js')).topicHandler),
    register(VPCKind, async () => (await import('./ec2/vpc.js')).vpcHandler),
    register(SubnetKind, async () => (await import('./ec2/subnet.js')).subnetHandler),
    register(InternetGatewayKind, async () => (await import('./ec2/internet-gateway.js')).internetGatewayHandler),
    register(NATGatewayKind, async () => (await import('./ec2/nat-gateway.js')).natGatewayHandler),
    register(RouteTableKind, async () => (await import('./ec2/route-table.js')).routeTableHandler),
    register(SecurityGroupKind, async () => (await import('./ec2/security-group.js')).securityGroupHandler),
    register(ElasticIPKind, async () => (await import('./ec2/elastic-ip.js')).elasticIpHandler),
    register(CacheSubnetGroupKind, async () => (await import('./elasticache/subnet-group.js')).cacheSubnetGroupHandler),
    register(ElastiCacheClusterKind, async () => (await import('./elasticache/cluster.js')).elastiCacheClusterHandler),
    register(DBSubnetGroupKind, async () => (await import('./rds/subnet-group.js')).subnetGroupHandler),
    register(RDSInstanceKind, async () => (await import('./rds/instance.js')).instanceHandler),
    register(DynamoDBTableKind, async () => (await import('./dynamodb/table.js')).tableHandler),
  ].map((registered) => [registered.kind, registered]),
);

/** The handler of `kind`, its module imported on first use. */
export async function handlerFor(kind: string): Promise<RegisteredHandler> {
  const handler = handlers.get(kind);
  if (!handler) throw new Error(`no AWS handler for kind ${kind}`);
  return handler.load();
}

export function handledKinds(): string[] {
  return [...handlers.keys()];
}
