// A JSON Schema checker for the keywords docs/results.schema.json uses (type, const, enum,
// properties, required, additionalProperties: false, items, minimum, oneOf, $ref into $defs),
// so that a test can hold every results.json to the schema. A keyword it does not know is an
// error, not a silent pass. About sixty lines instead of a validator package (ajv and its four
// dependencies) for one schema that this project writes itself.

export type Schema = { [keyword: string]: unknown };

const KNOWN = new Set([
  '$schema', '$id', '$defs', 'title', 'description', 'type', 'const', 'enum', 'properties',
  'required', 'additionalProperties', 'items', 'minimum', 'oneOf', '$ref',
]);

function type_of(v: unknown): string[] {
  if (v === null) return ['null'];
  if (Array.isArray(v)) return ['array'];
  if (typeof v === 'number') return Number.isInteger(v) ? ['integer', 'number'] : ['number'];
  return [typeof v];
}

/** The places where `value` breaks `schema`, as "path: what"; empty when it conforms. */
export function schema_errors(schema: Schema, value: unknown, root: Schema = schema, path = '$'): string[] {
  const unknown = Object.keys(schema).filter((k) => !KNOWN.has(k));
  if (unknown.length > 0) throw new Error(`${path}: schema keyword(s) not supported: ${unknown.join(', ')}`);
  if (typeof schema.$ref === 'string') {
    const name = /^#\/\$defs\/(.+)$/.exec(schema.$ref)?.[1];
    const target = name === undefined ? undefined : (root.$defs as Record<string, Schema> | undefined)?.[name];
    if (!target) throw new Error(`${path}: cannot resolve ${schema.$ref}`);
    return schema_errors(target, value, root, path);
  }
  const out: string[] = [];
  if (schema.type !== undefined) {
    const allowed = Array.isArray(schema.type) ? schema.type as string[] : [schema.type as string];
    if (!type_of(value).some((t) => allowed.includes(t))) return [`${path}: ${JSON.stringify(value)?.slice(0, 40)} is not ${allowed.join(' or ')}`];
  }
  if ('const' in schema && value !== schema.const) out.push(`${path}: must be ${JSON.stringify(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) out.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if (typeof schema.minimum === 'number' && typeof value === 'number' && value < schema.minimum) out.push(`${path}: ${value} is below ${schema.minimum}`);
  if (Array.isArray(schema.oneOf)) {
    const matching = (schema.oneOf as Schema[]).filter((s) => schema_errors(s, value, root, path).length === 0).length;
    if (matching !== 1) out.push(`${path}: matches ${matching} of the oneOf schemas, not exactly one`);
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    for (const k of (schema.required ?? []) as string[]) if (!(k in obj)) out.push(`${path}: missing ${k}`);
    for (const [k, v] of Object.entries(obj)) {
      if (props[k]) out.push(...schema_errors(props[k], v, root, `${path}.${k}`));
      else if (schema.additionalProperties === false) out.push(`${path}: unexpected field ${k}`);
    }
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((v, i) => out.push(...schema_errors(schema.items as Schema, v, root, `${path}[${i}]`)));
  }
  return out;
}
