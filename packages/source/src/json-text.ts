// JSON text of parsed source data without recursion. JSON.parse accepts
// nesting that JSON.stringify cannot walk (it overflows the stack at a few
// thousand levels), so a hostile element must still get its bytes, and a
// depth cap lets a normaliser keep what it stores for queries shallow.

export interface StringifyOptions {
  /**
   * Levels of containers written (the top object or array is level 1); a
   * deeper container is written as `tooDeep(level)`. Default: no limit.
   */
  maxDepth?: number;
  /** JSON text written in place of a container beyond maxDepth. */
  tooDeep?: (level: number) => string;
}

type Frame =
  | { kind: 'array'; value: readonly unknown[]; i: number }
  | { kind: 'object'; value: Record<string, unknown>; keys: string[]; i: number; wrote: boolean };

/**
 * The same text JSON.stringify gives for JSON data (key order, escapes,
 * `undefined` and functions skipped in objects and `null` in arrays,
 * non-finite numbers as null, toJSON honoured), at any depth. Undefined for
 * a top value JSON cannot represent. Throws TypeError on a cycle or a BigInt,
 * as JSON.stringify does.
 */
export function stringifyJson(value: unknown, options: StringifyOptions = {}): string | undefined {
  const maxDepth = options.maxDepth ?? Number.POSITIVE_INFINITY;
  const tooDeep = options.tooDeep ?? (() => 'null');
  const out: string[] = [];
  const stack: Frame[] = [];
  const open = new Set<object>();

  /** Writes a primitive, or opens a container; false when the value is not representable. */
  const write = (raw: unknown, key: string): boolean => {
    let v = raw;
    if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      v = (v as { toJSON(key: string): unknown }).toJSON(key);
    }
    switch (typeof v) {
      case 'string':
        out.push(JSON.stringify(v));
        return true;
      case 'number':
        out.push(Number.isFinite(v) ? String(v) : 'null');
        return true;
      case 'boolean':
        out.push(v ? 'true' : 'false');
        return true;
      case 'bigint':
        throw new TypeError('Do not know how to serialize a BigInt');
      case 'object': {
        if (v === null) {
          out.push('null');
          return true;
        }
        if (stack.length >= maxDepth) {
          out.push(tooDeep(stack.length + 1));
          return true;
        }
        if (open.has(v)) throw new TypeError('Converting circular structure to JSON');
        open.add(v);
        if (Array.isArray(v)) {
          out.push('[');
          stack.push({ kind: 'array', value: v, i: 0 });
        } else {
          out.push('{');
          stack.push({ kind: 'object', value: v as Record<string, unknown>, keys: Object.keys(v), i: 0, wrote: false });
        }
        return true;
      }
      default:
        return false;
    }
  };

  if (!write(value, '')) return undefined;
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.kind === 'array') {
      if (frame.i >= frame.value.length) {
        out.push(']');
        open.delete(frame.value);
        stack.pop();
        continue;
      }
      const i = frame.i++;
      if (i > 0) out.push(',');
      if (!write(frame.value[i], String(i))) out.push('null');
    } else {
      if (frame.i >= frame.keys.length) {
        out.push('}');
        open.delete(frame.value);
        stack.pop();
        continue;
      }
      const key = frame.keys[frame.i++]!;
      const at = out.length;
      out.push(frame.wrote ? ',' : '', JSON.stringify(key), ':');
      if (write(frame.value[key], key)) frame.wrote = true;
      else out.length = at;
    }
  }
  return out.join('');
}
