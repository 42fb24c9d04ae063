import * as path from 'path';

interface NodeLike {
  name?: unknown;
  type?: unknown;
  source?: { path?: unknown };
}

/** The flow's nodes (flow.dag.yaml as JSON), python nodes first: what Debug Node offers. */
export function debuggableNodes(flow: unknown): { name: string; type: string; source?: string }[] {
  const nodes = (flow as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(nodes)) return [];
  const out = (nodes as NodeLike[])
    .filter((n) => n && typeof n.name === 'string' && n.name)
    .map((n) => ({
      name: n.name as string,
      type: typeof n.type === 'string' ? n.type : 'python',
      ...(typeof n.source?.path === 'string' ? { source: n.source.path } : {}),
    }));
  return [...out.filter((n) => n.type === 'python'), ...out.filter((n) => n.type !== 'python')];
}

/** The nodes whose source is `file` (a path on this machine), for Debug Node from a tool's editor. */
export function nodesUsingFile(flow: unknown, flowDir: string, file: string): string[] {
  const target = path.resolve(file);
  return debuggableNodes(flow)
    .filter((n) => n.source !== undefined && path.resolve(flowDir, n.source) === target)
    .map((n) => n.name);
}
