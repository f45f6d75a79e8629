import { test } from 'node:test';
import assert from 'node:assert/strict';
import { customResourceDefinition, type JsonValue } from './crd.js';
import { kinds } from './index.js';

type Schema = { [key: string]: JsonValue };

/**
 * Paths of every property under `schema` without a description, e.g.
 * `spec.lifecycleRules[].transitions[].days`. List items and map values are
 * walked but need none of their own: `kubectl explain` shows the list's or
 * map's description for them.
 */
function undescribed(schema: Schema, path: string): string[] {
  const missing: string[] = [];
  const properties = (schema.properties ?? {}) as { [name: string]: Schema };
  for (const [name, property] of Object.entries(properties)) {
    const at = path ? `${path}.${name}` : name;
    if (typeof property.description !== 'string' || property.description.trim() === '') missing.push(at);
    missing.push(...undescribed(property, at));
  }
  if (schema.items) missing.push(...undescribed(schema.items as Schema, `${path}[]`));
  if (typeof schema.additionalProperties === 'object') missing.push(...undescribed(schema.additionalProperties as Schema, `${path}{}`));
  return missing;
}

test('every property of every kind, spec and status, nested too, has a description for kubectl explain', () => {
  const missing = kinds.flatMap((definition) => {
    const crd = customResourceDefinition(definition) as {
      spec: { versions: Array<{ schema: { openAPIV3Schema: Schema } }> };
    };
    const root = crd.spec.versions[0].schema.openAPIV3Schema;
    const properties = root.properties as { [name: string]: Schema };
    // metadata is the one exception: the API server refuses anything but its type.
    const { metadata: _metadata, ...described } = properties;
    return undescribed({ properties: described }, '').map((path) => `${definition.kind} ${path}`);
  });
  assert.deepEqual(missing, [], `properties without a description:\n${missing.join('\n')}`);
});

test('the walk finds a property without a description, nested in a list', () => {
  const schema: Schema = {
    properties: {
      spec: {
        description: 'x',
        properties: { rules: { description: 'x', items: { properties: { id: { type: 'string' } } } } },
      },
    },
  };
  assert.deepEqual(undescribed(schema, ''), ['spec.rules[].id']);
});
