import { Type, type Static } from '@sinclair/typebox';
import { defineKind, ageColumn, readyColumn, reasonColumn } from '../kind.js';
import { Name, SecretKeyRef, StringMap, commonStatusProperties } from '../schema.js';

export const AWSProviderSpec = Type.Object({
  region: Type.String({ pattern: '^[a-z]{2}(-[a-z]+)+-[0-9]+$', description: 'AWS region, e.g. us-east-1' }),
  endpoint: Type.Optional(
    Type.String({ pattern: '^https?://', description: 'custom AWS endpoint (moto, LocalStack); unset for real AWS' }),
  ),
  roleARN: Type.Optional(
    Type.String({ pattern: '^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$', description: 'role to assume with STS' }),
  ),
  externalID: Type.Optional(Name({ description: 'external ID passed to AssumeRole' })),
  accessKeyIDRef: Type.Optional(SecretKeyRef),
  secretAccessKeyRef: Type.Optional(SecretKeyRef),
  sessionTokenRef: Type.Optional(SecretKeyRef),
  credentialsSecret: Type.Optional(
    Type.Object(
      {
        name: Name(),
        namespace: Type.Optional(Name()),
      },
      {
        description:
          'a Secret holding access-key-id and secret-access-key (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); the spelling of the earlier operator',
      },
    ),
  ),
  defaultTags: Type.Optional(StringMap({ description: 'tags added to every resource that uses this provider' })),
});
export type AWSProviderSpec = Static<typeof AWSProviderSpec>;

export const AWSProviderStatus = Type.Object({
  ...commonStatusProperties,
  accountID: Type.Optional(Type.String()),
  callerIdentity: Type.Optional(Type.String()),
  region: Type.Optional(Type.String()),
});
export type AWSProviderStatus = Static<typeof AWSProviderStatus>;

export const AWSProviderKind = defineKind({
  kind: 'AWSProvider',
  plural: 'awsproviders',
  singular: 'awsprovider',
  shortNames: ['awsp'],
  description: 'AWS account, region and credentials used by the other kinds',
  spec: AWSProviderSpec,
  status: AWSProviderStatus,
  defaultDeletionPolicy: 'Orphan',
  specRules: [
    {
      rule: 'has(self.accessKeyIDRef) == has(self.secretAccessKeyRef)',
      message: 'accessKeyIDRef and secretAccessKeyRef must be set together',
    },
    {
      rule: '!(has(self.credentialsSecret) && has(self.accessKeyIDRef))',
      message: 'set either credentialsSecret or accessKeyIDRef/secretAccessKeyRef, not both',
    },
  ],
  printerColumns: [
    { name: 'Region', type: 'string', jsonPath: '.spec.region' },
    { name: 'Account', type: 'string', jsonPath: '.status.accountID' },
    readyColumn,
    reasonColumn,
    ageColumn,
  ],
  references: () => [],
});
