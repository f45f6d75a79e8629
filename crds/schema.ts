/**
 * Building blocks for kind schemas. A schema written with these is at once a
 * TypeBox type (so `Static<>` gives the TypeScript type and `Value.Check`
 * validates) and a structural OpenAPI v3 schema that a CRD accepts as is.
 * TypeBox's own `Union`/`Record` emit `anyOf`/`patternProperties`, which
 * structural CRD schemas reject, hence the `Unsafe` wrappers below.
 */
import { Kind, Type, TypeRegistry, type TSchema, type SchemaOptions, type StringOptions } from '@sinclair/typebox';

export const API_GROUP = 'aws-infra-operator.runner.codes';
export const API_VERSION = 'v1alpha1';
export const API_GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;

// Custom TypeBox kinds so `Value.Check` can validate the two shapes that
// are emitted as plain OpenAPI; the Kind symbol vanishes from the CRD JSON.
TypeRegistry.Set<{ enum: string[] }>('StringEnum', (schema, value) => typeof value === 'string' && schema.enum.includes(value));
TypeRegistry.Set('StringMap', (_schema, value) =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string'),
);

/** A string limited to `values`, emitted as a plain `enum`. */
export function StringEnum<const T extends readonly string[]>(values: T, options: SchemaOptions = {}) {
  return Type.Unsafe<T[number]>({ ...options, [Kind]: 'StringEnum', type: 'string', enum: [...values] });
}

/** A string-to-string map such as tags, emitted with `additionalProperties`. */
export function StringMap(options: SchemaOptions = {}) {
  return Type.Unsafe<Record<string, string>>({
    ...options,
    [Kind]: 'StringMap',
    type: 'object',
    additionalProperties: { type: 'string' },
  });
}

/** A CEL rule checked by the API server at apply time. */
export interface ValidationRule {
  rule: string;
  message: string;
  fieldPath?: string;
}

/** Attaches CEL rules to a schema (`x-kubernetes-validations`). */
export function withRules<T extends TSchema>(schema: T, rules: ValidationRule[]): T {
  return { ...schema, 'x-kubernetes-validations': rules };
}

/** A field that may be set on create and never changed afterwards. */
export function immutable<T extends TSchema>(schema: T, field: string): T {
  return withRules(schema, [{ rule: 'self == oldSelf', message: `${field} is immutable: create a new resource to change it` }]);
}

/** A non-empty string. */
export function Name(options: StringOptions = {}) {
  return Type.String({ minLength: 1, ...options });
}

/** A key of a Kubernetes Secret in the resource's namespace. */
export const SecretKeyRef = Type.Object(
  {
    name: Name({ description: 'name of the Secret' }),
    key: Name({ description: 'key inside the Secret' }),
    namespace: Type.Optional(Name({ description: 'defaults to the resource namespace' })),
  },
  { description: 'a key of a Kubernetes Secret; the value never leaves the activity that reads it' },
);

/** Reference to an AWSProvider. */
export const ProviderRef = Type.Object(
  {
    name: Name({ description: 'name of the AWSProvider' }),
    namespace: Type.Optional(Name({ description: 'defaults to the resource namespace' })),
  },
  { description: 'the AWSProvider whose account, region and credentials this resource uses' },
);

export const DELETION_POLICIES = ['Delete', 'Retain', 'Orphan'] as const;
export type DeletionPolicy = (typeof DELETION_POLICIES)[number];

export const DeletionPolicySchema = StringEnum(DELETION_POLICIES, {
  description: 'what happens to the AWS resource when this object is deleted: Delete removes it, Retain and Orphan keep it',
  default: 'Delete',
});

export const Tags = StringMap({ description: 'tags for the AWS resource, merged over the provider defaultTags' });

/** Kubernetes condition, as in metav1.Condition. */
export const Condition = Type.Object({
  type: Type.String(),
  status: StringEnum(['True', 'False', 'Unknown'] as const),
  reason: Type.String(),
  message: Type.String(),
  lastTransitionTime: Type.String({ format: 'date-time' }),
  observedGeneration: Type.Optional(Type.Integer()),
});

/** Status fields every kind has; kinds add their own beside these. */
export const commonStatusProperties = {
  ready: Type.Optional(Type.Boolean()),
  phase: Type.Optional(Type.String({ description: 'Pending, Waiting, Provisioning, Ready, Error, Deleting' })),
  externalID: Type.Optional(
    Type.String({
      description:
        'AWS identifier (ID, name or URL) of the resource this operator created or adopted for this object; every later look-up starts from it',
    }),
  ),
  observedGeneration: Type.Optional(Type.Integer()),
  lastSyncTime: Type.Optional(Type.String({ format: 'date-time' })),
  conditions: Type.Optional(
    Type.Array(Condition, {
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    }),
  ),
};

/** Reference to another custom resource of ours, by name (same namespace unless given). */
export const LocalRef = Type.Object(
  {
    name: Name({ description: 'name of the custom resource' }),
    namespace: Type.Optional(Name({ description: 'defaults to this resource namespace' })),
  },
  { description: 'a custom resource managed by this operator; its AWS ID is used once it is Ready' },
);

/**
 * CEL rule: exactly one of an AWS ID field and its reference field, e.g.
 * `vpcID` or `vpcRef`. `path` prefixes both for nested objects.
 */
export function exactlyOne(idField: string, refField: string): ValidationRule {
  return {
    rule: `has(self.${idField}) != has(self.${refField})`,
    message: `set exactly one of ${idField} or ${refField}`,
  };
}
