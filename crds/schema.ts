/**
 * Building blocks for kind schemas. A schema written with these is at once a
 * TypeBox type (so `Static<>` gives the TypeScript type and `Value.Check`
 * validates) and a structural OpenAPI v3 schema that a CRD accepts as is.
 * TypeBox's own `Union`/`Record` emit `anyOf`/`patternProperties`, which
 * structural CRD schemas reject, hence the `Unsafe` wrappers below.
 */
import { DELETION_POLICIES, type DeletionPolicy } from '../contract/identity.js';
import { Kind, Type, TypeRegistry, type TSchema, type SchemaOptions, type StringOptions } from '@sinclair/typebox';

export const API_GROUP = 'aws-infra-operator.runner.codes';
export const API_VERSION = 'v1alpha1';
export const API_GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;

// Custom TypeBox kinds so `Value.Check` can validate the two shapes that
// are emitted as plain OpenAPI; the Kind symbol vanishes from the CRD JSON.
TypeRegistry.Set<{ enum: string[] }>('StringEnum', (schema, value) => typeof value === 'string' && schema.enum.includes(value));
TypeRegistry.Set('JsonDocument', (_schema, value) => typeof value === 'string' && isJsonObject(value));
TypeRegistry.Set('StringMap', (_schema, value) =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string'),
);

/** A string limited to `values`, emitted as a plain `enum`. */
export function StringEnum<const T extends readonly string[]>(values: T, options: SchemaOptions = {}) {
  return Type.Unsafe<T[number]>({ ...options, [Kind]: 'StringEnum', type: 'string', enum: [...values] });
}

function isJsonObject(text: string): boolean {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
  } catch {
    return false;
  }
}

/**
 * A JSON document such as an IAM policy, as a string. The API server cannot
 * parse JSON, so it sees a plain string; the worker's schema check refuses
 * one that is not a JSON object before any AWS call (InvalidSpec).
 */
export function JsonDocument(options: StringOptions = {}) {
  return Type.Unsafe<string>({ ...options, [Kind]: 'JsonDocument', type: 'string' });
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

/**
 * A CEL rule checked by the API server at apply time. `message` names the
 * field; `messageExpression`, when given, builds a message that also shows
 * the value received (the API server falls back to `message` if it fails).
 * Only bounded strings fit a messageExpression's cost budget: `string()` of
 * a number, or `join`, makes the API server refuse the CRD.
 * `fieldPath` (e.g. `.fromPort`) reports the error at that child field.
 */
export interface ValidationRule {
  rule: string;
  message: string;
  messageExpression?: string;
  fieldPath?: string;
}

/** Attaches CEL rules to a schema (`x-kubernetes-validations`), after any it already has. */
export function withRules<T extends TSchema>(schema: T, rules: ValidationRule[]): T {
  const existing = (schema['x-kubernetes-validations'] ?? []) as ValidationRule[];
  return { ...schema, 'x-kubernetes-validations': [...existing, ...rules] };
}

/**
 * Marks a property made with `immutable`; the value is the field's name. A
 * symbol, so it vanishes from the CRD JSON; `customResourceDefinition` reads
 * it to add the parent's presence rule.
 */
export const ImmutableField = Symbol.for('infra-operator/immutable-field');

/**
 * A field that may be set on create and never changed afterwards.
 *
 * The field's own rule, `self == oldSelf`, runs only when the field is there
 * both before and after an update; the API server skips it when the field is
 * added or removed. So the CRD also gets, on the object holding the field, the
 * transition rule `has(self.<field>) == has(oldSelf.<field>)` for every
 * optional immutable field (see `immutablePresenceRules`). That parent rule
 * runs only when the parent itself exists before and after, which `spec`,
 * being required, always does.
 */
export function immutable<T extends TSchema>(schema: T, field: string): T {
  return {
    ...withRules(schema, [{ rule: 'self == oldSelf', message: `${field} is immutable: create a new resource to change it` }]),
    [ImmutableField]: field,
  };
}

/**
 * The presence rules for the optional immutable properties of an object
 * schema: one per field, reported at the field, so adding or removing it
 * after creation is refused with its name.
 */
export function immutablePresenceRules(schema: TSchema): ValidationRule[] {
  const properties = (schema.properties ?? {}) as Record<string, TSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).flatMap(([key, property]) => {
    const field = (property as { [ImmutableField]?: string })[ImmutableField];
    if (field === undefined || required.has(key)) return [];
    return [
      {
        rule: `has(self.${key}) == has(oldSelf.${key})`,
        message: `${field} is immutable: it can be neither added nor removed after creation; create a new resource to change it`,
        fieldPath: `.${key}`,
      },
    ];
  });
}

/**
 * CEL rules for a CIDR block string `field` of IP `family` (4 or 6): it must
 * parse as a CIDR of that family (Kubernetes' CIDR library, from 1.31), and
 * its host bits must be zero, as AWS requires (`10.7.0.0/16`, not
 * `10.7.3.5/16`). The first rule guards the second, which would otherwise
 * fail to parse a bad value.
 */
export function cidrRules(field: string, family: 4 | 6): ValidationRule[] {
  const example = family === 4 ? '10.0.0.0/16' : '2001:db8::/56';
  const hostBits = family === 4 ? '10.7.0.0/16 rather than 10.7.3.5/16' : '2001:db8::/56 rather than 2001:db8::1/56';
  return [
    {
      rule: `isCIDR(self) && cidr(self).ip().family() == ${family}`,
      message: `${field} must be an IPv${family} CIDR block such as ${example}`,
      messageExpression: `'${field} ' + self + ' is not an IPv${family} CIDR block such as ${example}'`,
    },
    {
      rule: '!isCIDR(self) || cidr(self).masked() == cidr(self)',
      message: `${field} has host bits set: give the network address of the block, e.g. ${hostBits}`,
      messageExpression: `'${field} ' + self + ' has host bits set: give the network address of the block (every bit after the prefix length zero), e.g. ${hostBits}'`,
    },
  ];
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

/**
 * Crossplane's `writeConnectionSecretToRef`: a Secret in the resource's own
 * namespace that the operator writes connection details into, owned by the
 * resource and removed with it.
 */
export const ConnectionSecretRef = Type.Object(
  { name: Name({ maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$', description: 'name of the Secret to write, in this resource namespace' }) },
  {
    description:
      'a Secret the operator creates in this namespace and keeps current with what an application needs to connect (endpoint, port, ARN or URL, region, and credentials where the kind has them); owned by this resource and deleted with it',
  },
);

/** Reference to an AWSProvider. */
export const ProviderRef = Type.Object(
  {
    name: Name({ description: 'name of the AWSProvider' }),
    namespace: Type.Optional(Name({ description: 'defaults to the resource namespace' })),
  },
  { description: 'the AWSProvider whose account, region and credentials this resource uses' },
);

export { DELETION_POLICIES, type DeletionPolicy };

export const DeletionPolicySchema = StringEnum(DELETION_POLICIES, {
  description:
    'what happens to the AWS resource when this object is deleted: Delete (the default) removes it; Retain and Orphan keep it in AWS. The custom resource goes either way',
  default: 'Delete',
});

/**
 * Most user tags a map may hold: AWS allows 50 per resource, and the
 * operator adds two of its own (owner and cluster) to everything it creates.
 */
export const MAX_USER_TAGS = 48;

/**
 * A map of AWS tags, with AWS's limits checked at apply: keys of 1 to 128
 * characters, not starting with `aws:` in any case (AWS reserves it), values
 * of up to 256 characters, at most MAX_USER_TAGS entries. The bound on the
 * map also keeps the CEL cost estimate within the API server's budget.
 * `field` names the map in the messages.
 */
export function tagMap(field: string, description: string) {
  const map = StringMap({ description, maxProperties: MAX_USER_TAGS });
  return withRules(
    { ...map, additionalProperties: { type: 'string', maxLength: 256 } },
    [
      {
        rule: "self.all(k, !k.lowerAscii().startsWith('aws:'))",
        message: `${field}: keys starting with aws: (in any case) are reserved by AWS`,
        messageExpression: `'${field}: key ' + self.filter(k, k.lowerAscii().startsWith('aws:'))[0] + ' starts with aws:, which AWS reserves for its own tags (in any case)'`,
      },
      {
        rule: 'self.all(k, size(k) >= 1 && size(k) <= 128)',
        message: `${field}: AWS tag keys are 1 to 128 characters long`,
      },
    ],
  );
}

export const Tags = tagMap(
  'tags',
  `tags for the AWS resource, merged over the provider's defaultTags (a key set here wins); the operator owns the full tag set, so a tag added in AWS by hand is removed. At most ${MAX_USER_TAGS} (AWS's 50 less the operator's owner and cluster tags); keys 1-128 characters, not starting with aws:; values up to 256 characters`,
);

/** Kubernetes condition, as in metav1.Condition. */
export const Condition = Type.Object(
  {
    type: Type.String({ description: 'Ready, with Synced under it; Adopted and Paused when they apply' }),
    status: StringEnum(['True', 'False', 'Unknown'] as const, { description: 'True, False or Unknown' }),
    reason: Type.String({
      description: 'one CamelCase word for why, e.g. Available, Waiting, AlreadyExists, BucketNotEmpty, DriftDetected',
    }),
    message: Type.String({ description: "what happened, in words; for an AWS error, AWS's own message" }),
    lastTransitionTime: Type.String({ format: 'date-time', description: 'when status last changed (RFC 3339)' }),
    observedGeneration: Type.Optional(
      Type.Integer({ description: 'metadata.generation of the spec this condition was computed from' }),
    ),
  },
  { description: 'one condition of the resource, as in metav1.Condition' },
);

/** Status fields every kind has; kinds add their own beside these. */
export const commonStatusProperties = {
  ready: Type.Optional(
    Type.Boolean({ description: 'true when the AWS resource exists and matches the current spec (condition Ready=True)' }),
  ),
  phase: Type.Optional(
    Type.String({
      description:
        'Pending, Waiting (held by something outside the resource: its AWSProvider or a referenced resource), Provisioning (AWS is still creating or changing it), Ready, Error (see the Ready condition for why), Deleting, or NotFound (observe-only and the AWS resource does not exist)',
    }),
  ),
  externalID: Type.Optional(
    Type.String({
      description:
        'AWS identifier (ID, name or URL) of the resource this operator created or adopted for this object; every later look-up starts from it',
    }),
  ),
  observedGeneration: Type.Optional(
    Type.Integer({ description: 'metadata.generation of the spec the operator last reconciled; behind generation while an edit is being applied' }),
  ),
  lastSyncTime: Type.Optional(
    Type.String({ format: 'date-time', description: 'when the operator last compared AWS with the spec (RFC 3339)' }),
  ),
  conditions: Type.Optional(
    Type.Array(Condition, {
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
      description: 'Ready, with Synced under it; Adopted and Paused when they apply. One per type',
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
