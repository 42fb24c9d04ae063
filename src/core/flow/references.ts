/**
 * Input assignments as prompt flow reads them (contracts/flow.py InputAssignment.deserialize):
 * only a whole string `${...}` is a reference; `Hello ${inputs.x}` or a `${...}` nested in a
 * list or mapping is a literal and is passed through unchanged.
 */
export type Reference = { kind: 'flow-input'; name: string } | { kind: 'node'; node: string; section: string; property: string };

const FLOW_INPUT_PREFIXES = ['flow.', 'inputs.'];

export function parseReference(value: unknown): Reference | undefined {
  if (typeof value !== 'string' || !value.startsWith('$') || value.length <= 2) return undefined;
  if (value[1] !== '{' || !value.endsWith('}')) return undefined;
  const inner = value.slice(2, -1);
  for (const prefix of FLOW_INPUT_PREFIXES) {
    if (inner.startsWith(prefix)) return { kind: 'flow-input', name: inner.slice(prefix.length) };
  }
  const dot = inner.indexOf('.');
  if (dot < 0) return { kind: 'node', node: inner, section: 'output', property: '' };
  const node = inner.slice(0, dot);
  const port = inner.slice(dot + 1);
  const dot2 = port.indexOf('.');
  if (dot2 < 0) return { kind: 'node', node, section: port, property: '' };
  return { kind: 'node', node, section: port.slice(0, dot2), property: port.slice(dot2 + 1) };
}
