/**
 * How typed text becomes the value of a flow input, by the input's declared type. The one rule for
 * every place a user types an input: the panel's run form (both sides of it), the Run Flow… input
 * boxes and the CLI's `--inputs name=value`. It follows prompt flow's ValueType.parse where that is
 * strict and is stricter where prompt flow guesses (an `object` that is not JSON, a `double` in hex).
 */

export type InputType = 'string' | 'int' | 'double' | 'bool' | 'list' | 'object' | 'image';

export const INPUT_TYPES: readonly InputType[] = ['string', 'int', 'double', 'bool', 'list', 'object', 'image'];

export type ParsedInputValue = { ok: true; value: unknown } | { ok: false; error: string };

/** Longer text is refused: the panel's messages and forms are capped at this size. */
export const MAX_INPUT_TEXT_CHARS = 256 * 1024;

const WHOLE_NUMBER = /^[+-]?\d+$/;
// a decimal number as Python's float() reads it; JavaScript's Number() would also take hex and binary
const DECIMAL_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

export function isInputType(type: unknown): type is InputType {
  return typeof type === 'string' && (INPUT_TYPES as readonly string[]).includes(type);
}

function parseJson(text: string): ParsedInputValue {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    return { ok: false, error: `Not valid JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The value of an input of `type` from what the user gave: text, or a checkbox's boolean for a
 * `bool` (anything else, e.g. from a forged panel message, is refused). A type the form does not know
 * (`image`, a typo) takes the text as typed, as a string does.
 */
export function parseInputValue(type: string | undefined, given: unknown): ParsedInputValue {
  if (type === 'bool') {
    if (typeof given === 'boolean') return { ok: true, value: given };
    // prompt flow reads bool text case-insensitively and untrimmed
    const lower = typeof given === 'string' ? given.toLowerCase() : '';
    return lower === 'true' || lower === 'false' ? { ok: true, value: lower === 'true' } : { ok: false, error: 'Expected true or false.' };
  }
  if (typeof given !== 'string') return { ok: false, error: 'Expected text.' };
  if (given.length > MAX_INPUT_TEXT_CHARS) return { ok: false, error: `At most ${MAX_INPUT_TEXT_CHARS} characters.` };
  const text = given.trim();
  switch (type) {
    case 'int':
      if (!WHOLE_NUMBER.test(text) || !Number.isSafeInteger(Number(text))) return { ok: false, error: 'Enter a whole number.' };
      return { ok: true, value: Number(text) };
    case 'double': {
      const n = DECIMAL_NUMBER.test(text) ? Number(text) : NaN;
      return Number.isFinite(n) ? { ok: true, value: n } : { ok: false, error: 'Enter a number.' };
    }
    case 'list': {
      const r = parseJson(text);
      return !r.ok || Array.isArray(r.value) ? r : { ok: false, error: 'Enter a JSON list, e.g. ["a", "b"].' };
    }
    case 'object': {
      const r = parseJson(text);
      return !r.ok || isPlainObject(r.value) ? r : { ok: false, error: 'Enter a JSON object, e.g. {"key": "value"}.' };
    }
    case 'image': {
      // a path, a URL or a data URI as written; prompt flow's dict form ({"data:image/png;path": "a.png"}) as JSON
      if (!text.startsWith('{')) return { ok: true, value: given };
      const r = parseJson(text);
      return !r.ok || isPlainObject(r.value) ? r : { ok: false, error: 'Enter a path, a URL, a data URI or {"data:image/png;path": "…"}.' };
    }
    default:
      return { ok: true, value: given };
  }
}
