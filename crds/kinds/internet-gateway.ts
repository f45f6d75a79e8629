import { Type, type Static } from '@sinclair/typebox';
import { ageColumn, defineKind, localReference, phaseColumn, providerReference, readyColumn, reasonColumn } from '../kind.js';
import { DeletionPolicySchema, LocalRef, ProviderRef, Tags, commonStatusProperties, exactlyOne } from '../schema.js';
import { VpcID } from './vpc.js';

export const InternetGatewaySpec = Type.Object({
  providerRef: ProviderRef,
  // Not immutable: changing it moves the gateway (detach, then attach).
  vpcID: Type.Optional({ ...VpcID, description: 'ID of the VPC to attach the gateway to, e.g. vpc-0abc; or use vpcRef. Changing it moves the gateway' }),
  vpcRef: Type.Optional({ ...LocalRef, description: 'the VPC custom resource to attach the gateway to; or use vpcID. Changing it moves the gateway' }),
  tags: Type.Optional(Tags),
  deletionPolicy: Type.Optional(DeletionPolicySchema),
});
export type InternetGatewaySpec = Static<typeof InternetGatewaySpec>;

export const InternetGatewayStatus = Type.Object({
  ...commonStatusProperties,
  internetGatewayID: Type.Optional(Type.String({ description: 'AWS internet gateway ID, e.g. igw-0abc' })),
  vpcID: Type.Optional(Type.String({ description: 'VPC it is attached to; empty while detached' })),
  state: Type.Optional(Type.String({ description: 'attached, attaching, detaching or detached' })),
});
export type InternetGatewayStatus = Static<typeof InternetGatewayStatus>;

export const InternetGatewayKind = defineKind({
  kind: 'InternetGateway',
  plural: 'internetgateways',
  singular: 'internetgateway',
  shortNames: ['igw'],
  description: 'an internet gateway, attached to one VPC and detached on deletion',
  spec: InternetGatewaySpec,
  status: InternetGatewayStatus,
  specRules: [exactlyOne('vpcID', 'vpcRef')],
  printerColumns: [
    { name: 'Gateway', type: 'string', jsonPath: '.status.internetGatewayID' },
    readyColumn,
    phaseColumn,
    { name: 'VPC', type: 'string', jsonPath: '.status.vpcID', priority: 1 },
    { name: 'State', type: 'string', jsonPath: '.status.state', priority: 1 },
    reasonColumn,
    ageColumn,
  ],
  identityField: 'internetGatewayID',
  references: (spec, namespace) => [providerReference(spec, namespace), ...localReference('VPC', spec.vpcRef, namespace)],
});
