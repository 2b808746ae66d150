import type { FastifySchemaCompiler } from 'fastify';

/**
 * No mass assignment on any route: a request body may carry no key its schema does not name.
 * zod's `z.object` silently strips unknown keys; rather than ask every schema to be strict, the
 * validator compares what was sent with what the schema kept, and refuses the first key that
 * was dropped, naming its path. Records and loose objects keep their keys, so they pass.
 * Query strings and params are left alone (their unknown keys are harmless and common).
 */

/** The marker fastify-type-provider-zod puts on its validation errors (a global symbol). */
const ZOD_VALIDATION_ERROR = Symbol.for('ZodFastifySchemaValidationError');

type Path = Array<string | number>;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

/** Path of the first key present in `input` and absent from `output`, depth first; null when none. */
export function firstDroppedKey(input: unknown, output: unknown, path: Path = [], depth = 0): Path | null {
  // JSON bodies are bounded by the body limit; the depth cap only guards the stack.
  if (depth > 256) return null;
  if (Array.isArray(input) && Array.isArray(output)) {
    const n = Math.min(input.length, output.length);
    for (let i = 0; i < n; i++) {
      const found = firstDroppedKey(input[i], output[i], [...path, i], depth + 1);
      if (found) return found;
    }
    return null;
  }
  if (isPlainObject(input) && isPlainObject(output)) {
    for (const key of Object.keys(input)) {
      if (!Object.hasOwn(output, key)) return [...path, key];
      const found = firstDroppedKey(input[key], output[key], [...path, key], depth + 1);
      if (found) return found;
    }
  }
  return null;
}

/** A strict schema's own `unrecognized_keys` error points at the object; the field to name is the key. */
function withUnknownKeyInPath<E extends { keyword?: string; instancePath?: string; params?: Record<string, unknown> }>(e: E): E {
  const keys = e.params?.keys;
  if (e.keyword !== 'unrecognized_keys' || !Array.isArray(keys) || typeof keys[0] !== 'string') return e;
  const key = keys[0].length > 64 ? `${keys[0].slice(0, 64)}…` : keys[0];
  const base = e.instancePath === '/' || e.instancePath === undefined ? '' : e.instancePath;
  return { ...e, instancePath: `${base}/${key}`, message: `Unrecognized key: "${key}"` };
}

export function strictBodyValidatorCompiler<S>(inner: FastifySchemaCompiler<S>): FastifySchemaCompiler<S> {
  return (route) => {
    const validate = inner(route);
    if (route.httpPart !== 'body') return validate;
    return (data: unknown) => {
      const result = validate(data);
      if (typeof result !== 'object' || result === null || !('value' in result || 'error' in result)) return result;
      if (result.error) return Array.isArray(result.error) ? { error: result.error.map(withUnknownKeyInPath) } : result;
      const dropped = firstDroppedKey(data, result.value);
      if (!dropped) return result;
      // Echoed back in the error: a key of a megabyte is cut short.
      const shown = dropped.map((k) => (String(k).length > 64 ? `${String(k).slice(0, 64)}…` : String(k)));
      const key = shown[shown.length - 1]!;
      return {
        error: [
          {
            [ZOD_VALIDATION_ERROR]: true,
            keyword: 'unrecognized_keys',
            instancePath: `/${shown.join('/')}`,
            schemaPath: `#/${shown.slice(0, -1).join('/')}/unrecognized_keys`,
            message: `Unrecognized key: "${key}"`,
            params: { keys: [key] },
          },
        ],
      } as unknown as ReturnType<typeof validate>;
    };
  };
}
