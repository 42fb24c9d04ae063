/**
 * The variants the session panel offers: one choice per node that uses variants (`use_variants: true` and an entry
 * in `node_variants`), defaulting to its `default_variant_id`, and the picks checked and turned into the runtime's
 * selectors (`${node.variant_id}`). Pure and free of Node modules: the webview bundles it too.
 */
export interface VariantChoice {
  node: string;
  /** the variant ids, as written */
  variants: string[];
  /** default_variant_id (the first variant when it names none the node has) */
  defaultId: string;
}

export const VARIANT_LIMITS = { nodes: 50, variants: 50, nameChars: 128 } as const;

/** a node name or variant id the panel passes on: what a `${node.id}` selector can carry */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

export function isVariantName(v: unknown): v is string {
  return typeof v === 'string' && v.length <= VARIANT_LIMITS.nameChars && NAME.test(v);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The choices of a parsed flow.dag.yaml, in the order of its nodes. */
export function variantChoicesFromFlow(flow: unknown): VariantChoice[] {
  if (!isPlainObject(flow) || !Array.isArray(flow.nodes) || !isPlainObject(flow.node_variants)) return [];
  const all = flow.node_variants;
  const out: VariantChoice[] = [];
  for (const node of flow.nodes) {
    if (out.length >= VARIANT_LIMITS.nodes) break;
    if (!isPlainObject(node) || node.use_variants !== true || !isVariantName(node.name)) continue;
    const spec = all[node.name];
    if (!isPlainObject(spec) || !isPlainObject(spec.variants)) continue;
    const variants = Object.keys(spec.variants).filter(isVariantName).slice(0, VARIANT_LIMITS.variants);
    if (variants.length === 0) continue;
    const defaultId =
      typeof spec.default_variant_id === 'string' && variants.includes(spec.default_variant_id) ? spec.default_variant_id : variants[0];
    out.push({ node: node.name, variants, defaultId });
  }
  return out;
}

/** The pick of each choice: the user's when it is still one of the node's variants, else the default. */
export function effectivePicks(choices: VariantChoice[], picks: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    choices.map((c) => {
      const pick = Object.prototype.hasOwnProperty.call(picks, c.node) ? picks[c.node] : undefined;
      return [c.node, pick !== undefined && c.variants.includes(pick) ? pick : c.defaultId];
    }),
  );
}

/**
 * The runtime's selectors for the picks that differ from the defaults, or the reason they cannot run: a pick for a
 * node without variants, or a variant the node does not have (the flow changed since the panel showed it).
 */
export function variantSelectors(choices: VariantChoice[], picks: Record<string, string>): { selectors: string[] } | { error: string } {
  const selectors: string[] = [];
  for (const [node, id] of Object.entries(picks)) {
    const choice = choices.find((c) => c.node === node);
    if (!choice) return { error: `Node '${node}' has no variants in flow.dag.yaml now.` };
    if (!choice.variants.includes(id))
      return { error: `Node '${node}' has no variant '${id}' now; its variants are ${choice.variants.join(', ')}.` };
    if (id !== choice.defaultId) selectors.push(`\${${node}.${id}}`);
  }
  return { selectors };
}
