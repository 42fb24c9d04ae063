/**
 * prompt flow's error messages, worded as its executor words them (executor/flow_validator.py,
 * executor/_tool_resolver.py, contracts/flow.py), so a user searching for one finds prompt flow's docs.
 */
const GRAPH = 'Invalid node definitions found in the flow graph.';

/** Python's repr of a list of names, as prompt flow formats `{remaining_nodes}`. */
export function pyList(names: readonly string[]): string {
  return `[${names.map((n) => `'${n}'`).join(', ')}]`;
}

/** Why a path is kept out of the session, with the setting that lets it in. */
function refusedReason(what: string, refusal: { real: string; why: 'outside' | 'protected' | 'contains-flow' }): string {
  return refusal.why === 'protected'
    ? `${what} points to ${refusal.real}, a protected location (a home folder's dot folders, /etc, the engine socket) ` +
        'that is never copied into a session. To allow it anyway, list that exact folder in the setting flowsession.allowedIncludeRoots ' +
        '(CLI: FLOWSESSION_ALLOWED_INCLUDE_ROOTS).'
    : `${what} points to ${refusal.real}, outside the workspace folder (CLI: the git repository, else the current folder) that ` +
        'holds the flow, so it is not copied into the session. To allow it, add a folder that holds it to the setting ' +
        'flowsession.allowedIncludeRoots (CLI: FLOWSESSION_ALLOWED_INCLUDE_ROOTS).';
}

export const msg = {
  duplicateNodeName: (node: string) =>
    `${GRAPH} Node with name '${node}' appears more than once in the node definitions in your flow, which is not allowed. ` +
    'To address this issue, please review your flow and either rename or remove nodes with identical names.',
  nodeReferenceNotFound: (node: string, ref: string) =>
    `${GRAPH} Node '${node}' references a non-existent node '${ref}' in your flow. ` +
    'Please review your flow to ensure that the node name is accurately specified.',
  inputReferenceNotFound: (node: string, input: string) =>
    `${GRAPH} Node '${node}' references flow input '${input}' which is not defined in your flow. ` +
    'To resolve this issue, please review your flow, ensuring that you either add the missing flow inputs ' +
    'or adjust node reference to the correct flow input.',
  circularDependency: (nodes: readonly string[]) =>
    `${GRAPH} Node circular dependency has been detected among the nodes in your flow. ` +
    `Kindly review the reference relationships for the nodes ${pyList(nodes)} and resolve the circular reference issue in the flow.`,
  nonAggregateReferencesAggregate: (node: string, agg: string) =>
    `${GRAPH} Non-aggregate node '${node}' cannot reference aggregate nodes {'${agg}'}. Please review and rectify the node reference.`,
  aggregateActivateReferencesNonAggregate: (node: string, ref: string) =>
    `${GRAPH} Non-aggregation node '${ref}' cannot be referenced in the activate config of the aggregation node '${node}'. ` +
    'Please review and rectify the node reference.',
  emptyOutputReference: (output: string) =>
    `The output '${output}' for flow is incorrect. The reference is not specified for the output '${output}' in the flow. ` +
    'To rectify this, ensure that you accurately specify the reference in the flow.',
  outputReferencesMissingInput: (output: string, input: string) =>
    `The output '${output}' for flow is incorrect. The output '${output}' references non-existent flow input '${input}' in your flow. ` +
    'Please carefully review your flow and correct the reference definition for the output in question.',
  outputReferencesMissingNode: (output: string, node: string) =>
    `The output '${output}' for flow is incorrect. The output '${output}' references non-existent node '${node}' in your flow. ` +
    'To resolve this issue, please carefully review your flow and correct the reference definition for the output in question.',
  outputReferencesAggregation: (output: string, node: string) =>
    `Output '${output}' references a reduce node '${node}', will not take effect.`,
  badActivate: (node: string) =>
    `The definition of activate config for node ${node} is incorrect. Please check your flow yaml and resubmit.`,
  invalidSource: (path: string | null, node: string) => `Node source path '${path ?? 'None'}' is invalid on node '${node}'.`,
  sourceOutsideFlow: (path: string, node: string) =>
    `Node source path '${path}' is invalid on node '${node}': it resolves outside the flow folder, which the session cannot see.`,
  noSource: (node: string) => `Node ${node} does not have source defined.`,
  missingPackageTool: (node: string) => `Node ${node} has a package source without a 'tool'.`,
  badSourceType: (type: string, node: string) =>
    `'${type}' is not a valid ToolSourceType on node '${node}'. Valid values: 'code', 'package', 'package_with_prompt'.`,
  sourceTypeNotSupported: (sourceType: string, toolType: string, node: string) =>
    `Tool source type ${sourceType} for ${toolType} tool is not supported yet (node '${node}').`,
  missingNodeType: (node: string) =>
    `Tool type None is not supported yet. Node '${node}' needs a 'type': one of 'python', 'llm', 'prompt', 'custom_llm'.`,
  badNodeType: (type: string, node: string) =>
    `'${type}' is not a valid ToolType on node '${node}'. Valid values: 'python', 'llm', 'prompt', 'custom_llm'.`,
  missingName: (index: number) => `Node ${index} has no 'name'. Every node needs a unique string name.`,
  missingValueType: (kind: 'input' | 'output', name: string) =>
    `The flow ${kind} '${name}' has no 'type'. Missing data for required field.`,
  badValueType: (kind: 'input' | 'output', name: string, type: string, valid: readonly string[]) =>
    `'${type}' is not a valid ValueType for flow ${kind} '${name}'. Valid values: ${valid.map((v) => `'${v}'`).join(', ')}.`,
  notMapping: (what: string) => `${what} is not a valid mapping type.`,
  notList: (what: string) => `${what} is not a valid list.`,
  badFlowType: (type: string) => `Must be one of: standard, evaluation, chat (flow 'type' is '${type}').`,
  unknownField: (key: string, where: string) => `Unknown field '${key}' in ${where}; prompt flow ignores it.`,
  missingInclude: (entry: string) => `Unable to find additional include ${entry}.`,
  refusedInclude: (entry: string, refusal: { real: string; why: 'outside' | 'protected' | 'contains-flow' }) =>
    refusal.why === 'contains-flow'
      ? `Additional include ${entry} points to ${refusal.real}, which contains the flow itself. Include the folder or file the flow needs.`
      : refusedReason(`Additional include ${entry}`, refusal),
  /** a node source that is a symlink leading out of the include scope */
  refusedSourceLink: (path: string, node: string, refusal: { real: string; why: 'outside' | 'protected' | 'contains-flow' }) =>
    `Node source path '${path}' is invalid on node '${node}': ` + refusedReason(`the symlink ${path}`, refusal),
  /** any other symlink of the flow folder that leads out of the include scope */
  refusedLink: (link: string, refusal: { real: string; why: 'outside' | 'protected' | 'contains-flow' }) =>
    refusedReason(`The symlink ${link} of the flow folder`, refusal) + ' Tools that open it in the session will not find it.',
  badInclude: (what: string) => `Additional include ${what} is not a path string.`,
  noFlowFile: (dir: string) => `No flow.dag.yaml found in ${dir}.`,
  unreadableFlowFile: (why: string) => `flow.dag.yaml could not be read: ${why}.`,
};
