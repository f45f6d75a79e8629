import type { KindDefinition } from './kind.js';
import { AWSProviderKind } from './kinds/aws-provider.js';
import { DBSubnetGroupKind } from './kinds/db-subnet-group.js';
import { CacheSubnetGroupKind } from './kinds/cache-subnet-group.js';
import { ElastiCacheClusterKind } from './kinds/elasticache-cluster.js';
import { DynamoDBTableKind } from './kinds/dynamodb-table.js';
import { ElasticIPKind } from './kinds/elastic-ip.js';
import { InternetGatewayKind } from './kinds/internet-gateway.js';
import { NATGatewayKind } from './kinds/nat-gateway.js';
import { RDSInstanceKind } from './kinds/rds-instance.js';
import { RouteTableKind } from './kinds/route-table.js';
import { S3BucketKind } from './kinds/s3-bucket.js';
import { SecurityGroupKind } from './kinds/security-group.js';
import { SQSQueueKind } from './kinds/sqs-queue.js';
import { SNSTopicKind } from './kinds/sns-topic.js';
import { SubnetKind } from './kinds/subnet.js';
import { VPCKind } from './kinds/vpc.js';

export { API_GROUP, API_VERSION, API_GROUP_VERSION } from './schema.js';
export type { KindDefinition, ObjectRef } from './kind.js';

/** Every kind the operator serves. Adding a kind here is all the watcher and CRD generator need. */
export const kinds: readonly KindDefinition[] = [
  AWSProviderKind,
  S3BucketKind,
  SQSQueueKind,
  SNSTopicKind,
  VPCKind,
  SubnetKind,
  InternetGatewayKind,
  NATGatewayKind,
  RouteTableKind,
  SecurityGroupKind,
  ElasticIPKind,
  DBSubnetGroupKind,
  RDSInstanceKind,
  CacheSubnetGroupKind,
  ElastiCacheClusterKind,
  DynamoDBTableKind,
];

const byName = new Map(kinds.map((definition) => [definition.kind, definition]));

/** The definition of `kind`, or an error naming the kinds that exist. */
export function kindDefinition(kind: string): KindDefinition {
  const definition = byName.get(kind);
  if (!definition) throw new Error(`unknown kind ${kind}; known kinds: ${[...byName.keys()].join(', ')}`);
  return definition;
}
