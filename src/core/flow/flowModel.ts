import { YamlPath } from './dagDocument';

export type Mapping = Record<string, unknown>;

export function isMapping(v: unknown): v is Mapping {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One node definition: a node of `nodes`, or a variant's `node` under `node_variants`. */
export interface NodeDef {
  /** the node's name; a variant takes the name of the node it belongs to */
  name: string | undefined;
  path: YamlPath;
  body: Mapping;
  variant?: { id: string; isDefault: boolean };
}

/**
 * The flow as read leniently: wrong shapes become empty collections here, and schema checks
 * report them. Nothing in this view can throw on any parsed value.
 */
export interface FlowModel {
  root: Mapping;
  inputs: Mapping;
  outputs: Mapping;
  /** entries of `nodes` that are mappings, with their index in the path */
  nodes: NodeDef[];
  /** every variant of every node in `node_variants` */
  variants: NodeDef[];
  /**
   * What prompt flow executes for each node: a `use_variants` node is replaced by its default
   * variant (Flow._apply_default_node_variant), keeping the outer name.
   */
  effective: NodeDef[];
}

export function buildModel(value: unknown): FlowModel {
  const root = isMapping(value) ? value : {};
  const inputs = isMapping(root.inputs) ? root.inputs : {};
  const outputs = isMapping(root.outputs) ? root.outputs : {};
  const nodes: NodeDef[] = [];
  if (Array.isArray(root.nodes)) {
    root.nodes.forEach((n, i) => {
      if (isMapping(n)) nodes.push({ name: typeof n.name === 'string' ? n.name : undefined, path: ['nodes', i], body: n });
    });
  }
  const variants: NodeDef[] = [];
  const defaults = new Map<string, NodeDef>();
  if (isMapping(root.node_variants)) {
    for (const [nodeName, spec] of Object.entries(root.node_variants)) {
      if (!isMapping(spec) || !isMapping(spec.variants)) continue;
      for (const [id, v] of Object.entries(spec.variants)) {
        if (!isMapping(v) || !isMapping(v.node)) continue;
        const isDefault = spec.default_variant_id === id;
        const def: NodeDef = {
          name: nodeName,
          path: ['node_variants', nodeName, 'variants', id, 'node'],
          body: v.node,
          variant: { id, isDefault },
        };
        variants.push(def);
        if (isDefault) defaults.set(nodeName, def);
      }
    }
  }
  const effective = nodes.map((n) => (n.body.use_variants === true && n.name !== undefined && defaults.get(n.name)) || n);
  return { root, inputs, outputs, nodes, variants, effective };
}

export function isAggregation(body: Mapping): boolean {
  return body.aggregation === true || body.reduce === true;
}
