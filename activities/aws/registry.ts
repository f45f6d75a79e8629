/**
 * Kind → handler. Each kind is registered once, its schema beside its
 * handler, and the handler is typed by that schema's static type: a handler
 * for the wrong spec does not compile. Adding a kind is one module and one
 * line here; no workflow, watcher or worker code changes.
 */
import type { Static, TObject } from '@sinclair/typebox';
import type { KindDefinition } from '../../crds/kind.js';
import { AWSProviderKind } from '../../crds/kinds/aws-provider.js';
import { DBSubnetGroupKind } from '../../crds/kinds/db-subnet-group.js';
import { CacheSubnetGroupKind } from '../../crds/kinds/cache-subnet-group.js';
import { ElastiCacheClusterKind } from '../../crds/kinds/elasticache-cluster.js';
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
import { tableHandler } from './dynamodb/table.js';
import { elasticIpHandler } from './ec2/elastic-ip.js';
import { internetGatewayHandler } from './ec2/internet-gateway.js';
import { natGatewayHandler } from './ec2/nat-gateway.js';
import { routeTableHandler } from './ec2/route-table.js';
import { securityGroupHandler } from './ec2/security-group.js';
import { subnetHandler } from './ec2/subnet.js';
import { vpcHandler } from './ec2/vpc.js';
import { elastiCacheClusterHandler } from './elasticache/cluster.js';
import { cacheSubnetGroupHandler } from './elasticache/subnet-group.js';
import type { ResourceHandler } from './handler.js';
import { instanceHandler } from './rds/instance.js';
import { subnetGroupHandler } from './rds/subnet-group.js';
import { bucketHandler } from './s3/bucket.js';
import { topicHandler } from './sns/topic.js';
import { queueHandler } from './sqs/queue.js';
import { providerHandler } from './sts/provider.js';

/** A handler as the activities call it: on a spec as it arrived, plain JSON. */
export type RegisteredHandler = ResourceHandler<JsonObject>;

/**
 * Registers `handler` for `definition`. The one place a JSON spec becomes the
 * kind's type: loadResource has checked it against this same schema
 * (`specProblems`) before any activity gets it.
 */
function register<Spec extends TObject, Status extends TObject>(
  definition: KindDefinition<Spec, Status>,
  handler: ResourceHandler<Static<Spec>>,
): RegisteredHandler {
  if (handler.kind !== definition.kind) throw new Error(`handler for ${handler.kind} registered as ${definition.kind}`);
  const typed = (spec: JsonObject) => spec as Static<Spec>;
  return {
    kind: definition.kind,
    ...(handler.errorCodes ? { errorCodes: handler.errorCodes } : {}),
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

const handlers = new Map<string, RegisteredHandler>(
  [
    register(AWSProviderKind, providerHandler),
    register(S3BucketKind, bucketHandler),
    register(SQSQueueKind, queueHandler),
    register(SNSTopicKind, topicHandler),
    register(VPCKind, vpcHandler),
    register(SubnetKind, subnetHandler),
    register(InternetGatewayKind, internetGatewayHandler),
    register(NATGatewayKind, natGatewayHandler),
    register(RouteTableKind, routeTableHandler),
    register(SecurityGroupKind, securityGroupHandler),
    register(ElasticIPKind, elasticIpHandler),
    register(DBSubnetGroupKind, subnetGroupHandler),
    register(RDSInstanceKind, instanceHandler),
    register(CacheSubnetGroupKind, cacheSubnetGroupHandler),
    register(ElastiCacheClusterKind, elastiCacheClusterHandler),
    register(DynamoDBTableKind, tableHandler),
  ].map((registered) => [registered.kind, registered]),
);

export function handlerFor(kind: string): RegisteredHandler {
  const handler = handlers.get(kind);
  if (!handler) throw new Error(`no AWS handler for kind ${kind}`);
  return handler;
}

export function handledKinds(): string[] {
  return [...handlers.keys()];
}
