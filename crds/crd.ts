import type { TSchema } from '@sinclair/typebox';
import { ageColumn, awsIDColumn, type KindDefinition, type PrinterColumn } from './kind.js';
import { API_GROUP, API_VERSION, immutablePresenceRules } from './schema.js';

/** JSON value as it appears in a CRD document. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * `kubectl get <category>` lists every kind in it. `aws` is shared with other
 * AWS operators (Crossplane's providers use it too); `infra-operator` lists
 * ours alone.
 */
export const CATEGORIES = ['aws', 'infra-operator'] as const;

/** Plain JSON of a value: symbol keys (TypeBox's bookkeeping) and undefined values dropped. */
function plainJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}

/**
 * Plain OpenAPI of a TypeBox schema, walking properties and items so that
 * every object schema holding optional `immutable` fields also gets their
 * presence rules (see `immutable` in schema.ts).
 */
function openApi(schema: TSchema): { [key: string]: JsonValue } {
  const result = plainJson(schema) as { [key: string]: JsonValue };
  if (schema.properties) {
    const properties = schema.properties as Record<string, TSchema>;
    result.properties = Object.fromEntries(Object.entries(properties).map(([key, property]) => [key, openApi(property)]));
    const presence = immutablePresenceRules(schema);
    if (presence.length) {
      const existing = (result['x-kubernetes-validations'] ?? []) as JsonValue[];
      result['x-kubernetes-validations'] = [...existing, ...presence.map((rule) => plainJson(rule))];
    }
  }
  if (schema.items) result.items = openApi(schema.items as TSchema);
  return result;
}

/**
 * The printer columns of a kind, with `AWS ID` (status.externalID, wide
 * only) before Age unless the kind shows it already. Kinds that own no AWS
 * resource (AWSProvider: default deletion policy Orphan) have no such ID.
 */
function printerColumns(definition: KindDefinition): PrinterColumn[] {
  const columns = definition.printerColumns.map((column) => ({ ...column }));
  const ownsAwsResource = definition.defaultDeletionPolicy !== 'Orphan';
  if (!ownsAwsResource || columns.some((column) => column.jsonPath === awsIDColumn.jsonPath)) return columns;
  const age = columns.findIndex((column) => column.jsonPath === ageColumn.jsonPath);
  columns.splice(age === -1 ? columns.length : age, 0, { ...awsIDColumn });
  return columns;
}

/** The CustomResourceDefinition of one kind. */
export function customResourceDefinition(definition: KindDefinition): { [key: string]: JsonValue } {
  const spec = openApi(definition.spec);
  const specRules = [...(definition.specRules ?? []).map((rule) => plainJson(rule)), ...((spec['x-kubernetes-validations'] ?? []) as JsonValue[])];
  if (specRules.length) spec['x-kubernetes-validations'] = specRules;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${definition.plural}.${API_GROUP}` },
    spec: {
      group: API_GROUP,
      scope: 'Namespaced',
      names: {
        kind: definition.kind,
        listKind: `${definition.kind}List`,
        plural: definition.plural,
        singular: definition.singular,
        shortNames: [...definition.shortNames],
        categories: [...CATEGORIES],
      },
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: printerColumns(definition).map((column) => plainJson(column)),
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: definition.description,
              required: ['spec'],
              properties: {
                apiVersion: {
                  type: 'string',
                  description: `API group and version of this object: ${API_GROUP}/${API_VERSION}`,
                },
                kind: { type: 'string', description: `kind of this object: ${definition.kind}` },
                // The API server refuses anything but `type` here: metadata's schema is its own.
                metadata: { type: 'object' },
                spec: { ...spec, description: `desired state of the ${definition.kind}, set by you` },
                status: {
                  ...openApi(definition.status),
                  description: `observed state of the ${definition.kind}, written by the operator only`,
                },
              },
            },
          },
        },
      ],
    },
  };
}

/** File name of a kind's CRD, as kubebuilder names them. */
export function crdFileName(definition: KindDefinition): string {
  return `${API_GROUP}_${definition.plural}.yaml`;
}
