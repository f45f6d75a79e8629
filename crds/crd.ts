import type { TSchema } from '@sinclair/typebox';
import type { KindDefinition } from './kind.js';
import { API_GROUP, API_VERSION } from './schema.js';

/** JSON value as it appears in a CRD document. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * Plain JSON of a TypeBox schema: TypeBox keeps its bookkeeping under symbol
 * keys, which a JSON round trip drops, leaving pure OpenAPI.
 */
function openApi(schema: TSchema): JsonValue {
  return JSON.parse(JSON.stringify(schema)) as JsonValue;
}

/** The CustomResourceDefinition of one kind. */
export function customResourceDefinition(definition: KindDefinition): { [key: string]: JsonValue } {
  const spec = openApi(definition.spec) as { [key: string]: JsonValue };
  if (definition.specRules?.length) {
    spec['x-kubernetes-validations'] = definition.specRules.map((rule) => ({ ...rule }));
  }
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
        categories: ['aws'],
      },
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: definition.printerColumns.map((column) => ({ ...column })),
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: definition.description,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec,
                status: openApi(definition.status),
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
