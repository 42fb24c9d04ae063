/** Metrics and variants as the session panel prints them. Pure and free of Node modules: the webview bundles it. */

/** A metric's value as the panel prints it: up to 4 decimals, no trailing zeros. */
export function formatMetric(v: number | undefined): string {
  if (v === undefined) return '';
  return Number.isInteger(v) ? String(v) : String(Number(v.toFixed(4)));
}

/** `node=variant` pairs, for a run's variants in one line. */
export function formatVariants(variants: Record<string, string> | undefined): string {
  return Object.entries(variants ?? {})
    .map(([node, id]) => `${node}=${id}`)
    .join(', ');
}
