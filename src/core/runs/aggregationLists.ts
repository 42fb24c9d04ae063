/**
 * The inputs of the aggregation nodes over a whole batch whose lines ran in separate places: each line's values
 * (node -> input -> value, by line index) turned into the lists the runtime aggregates (node -> input -> values
 * in line order).
 */
export function aggregationLists(values: Map<number, Record<string, Record<string, unknown>>>): Record<string, Record<string, unknown[]>> {
  const lists: Record<string, Record<string, unknown[]>> = {};
  for (const index of [...values.keys()].sort((a, b) => a - b)) {
    for (const [node, inputs] of Object.entries(values.get(index)!)) {
      for (const [name, value] of Object.entries(inputs)) ((lists[node] ??= {})[name] ??= []).push(value);
    }
  }
  return lists;
}

/** Whether a flow (as the runtime takes it) has aggregation nodes. */
export function hasAggregation(flow: Record<string, unknown>): boolean {
  const nodes = flow.nodes;
  return Array.isArray(nodes) && nodes.some((n) => !!n && typeof n === 'object' && !!(n as { aggregation?: unknown }).aggregation);
}
