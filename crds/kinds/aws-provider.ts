import { Type, type Static } from '@sinclair/typebox';
import { defineKind, ageColumn, readyColumn, reasonColumn } from '../kind.js';
import { MAX_USER_TAGS, Name, SecretKeyRef, commonStatusProperties, tagMap } from '../schema.js';

/**
 * A SecretKeyRef whose namespace may only be the provider's own. The field
 * stays (the earlier operator's manifests set it), but credentials never
 * cross a namespace boundary: the worker refuses any other value
 * (SecretNamespaceNotAllowed).
 */
function ownSecretKeyRef(what: string) {
  return Type.Object(
    {
      ...SecretKeyRef.properties,
      namespace: Type.Optional(
        Name({ description: "must be this AWSProvider's own namespace, the default; a Secret in any other namespace is refused" }),
      ),
    },
    {
      description: `${what}: a key of a Secret in this AWSProvider's namespace; the value never leaves the activity that reads it`,
    },
  );
}

/** A namespace name (DNS label), or `*` for every namespace. */
const AllowedNamespace = Type.String({
  pattern: '^(\\*|[a-z0-9]([-a-z0-9]*[a-z0-9])?)$',
  maxLength: 63,
  description: 'a namespace name, or * for every namespace',
});

export const AWSProviderSpec = Type.Object({
  region: Type.String({ pattern: '^[a-z]{2}(-[a-z]+)+-[0-9]+$', description: 'AWS region every resource using this provider lives in, e.g. us-east-1' }),
  endpoint: Type.Optional(
    Type.String({
      pattern: '^https?://',
      description: 'custom AWS endpoint URL for every service (moto, LocalStack), e.g. http://localhost:4566; unset for real AWS',
    }),
  ),
  roleARN: Type.Optional(
    Type.String({
      pattern: '^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$',
      description:
        'IAM role to assume with STS AssumeRole, e.g. arn:aws:iam::123456789012:role/infra-operator-role; the base credentials are the static keys if given, else the operator\'s own identity (IRSA, environment)',
    }),
  ),
  externalID: Type.Optional(Name({ description: 'external ID passed to AssumeRole with roleARN, if the role demands one' })),
  accessKeyIDRef: Type.Optional(ownSecretKeyRef('the AWS access key ID')),
  secretAccessKeyRef: Type.Optional(ownSecretKeyRef('the AWS secret access key')),
  sessionTokenRef: Type.Optional(ownSecretKeyRef('an AWS session token, for temporary keys')),
  credentialsSecret: Type.Optional(
    Type.Object(
      {
        name: Name({ description: 'name of the Secret' }),
        namespace: Type.Optional(
          Name({ description: "must be this AWSProvider's own namespace, the default; a Secret in any other namespace is refused" }),
        ),
      },
      {
        description:
          "a Secret in this AWSProvider's namespace holding access-key-id and secret-access-key (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), and optionally session-token (AWS_SESSION_TOKEN); the spelling of the earlier operator",
      },
    ),
  ),
  allowedNamespaces: Type.Optional(
    Type.Array(AllowedNamespace, {
      'x-kubernetes-list-type': 'set',
      description:
        'namespaces other than this AWSProvider\'s own whose resources may use it through providerRef; ["*"] allows every namespace. Unset: only resources in its own namespace may use it',
    }),
  ),
  defaultTags: Type.Optional(
    tagMap(
      'defaultTags',
      `tags added to every AWS resource that uses this provider; a resource's own tags win for the same key. At most ${MAX_USER_TAGS}; keys 1-128 characters, not starting with aws:; values up to 256 characters`,
    ),
  ),
});
export type AWSProviderSpec = Static<typeof AWSProviderSpec>;

export const AWSProviderStatus = Type.Object({
  ...commonStatusProperties,
  accountID: Type.Optional(Type.String({ description: 'AWS account ID the credentials belong to, from STS GetCallerIdentity' })),
  callerIdentity: Type.Optional(Type.String({ description: 'ARN of the identity the credentials resolve to, from STS GetCallerIdentity' })),
  region: Type.Optional(Type.String({ description: 'region the provider was validated in' })),
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
  deletionWaitsForUsers: true,
  secretNames: (spec, namespace) =>
    [spec.accessKeyIDRef, spec.secretAccessKeyRef, spec.sessionTokenRef, spec.credentialsSecret]
      .flatMap((ref) => (ref && (ref.namespace ?? namespace) === namespace ? [ref.name] : []))
      .filter((name, index, names) => names.indexOf(name) === index),
});
