"""The flow definition (flow.dag.yaml as JSON): references, nodes with variants applied, graph order."""
import re

from .wire import RuntimeFailure

# only for a variant selector (`${node.variant_1}`), which is not a reference
_REF = re.compile(r"^\$\{(.*)\}$", re.S)
_PATH_TOKEN = re.compile(r"\[(\d+)\]|([^.\[\]]+)")
FLOW_INPUT_PREFIXES = ("flow.", "inputs.")


class Ref:
    """A reference as prompt flow reads it: a flow input by name, or a node's section and property.

    Only the `output` section of a node exists; another one is a reference all the same, refused when it is
    resolved (UnsupportedReference). `path` is the property split into keys and list indexes.
    """

    __slots__ = ("kind", "name", "section", "property", "path", "text")

    def __init__(self, kind, name, text, section="", prop=""):
        self.kind = kind
        self.name = name
        self.section = section
        self.property = prop
        self.path = parse_path(prop)
        self.text = text


def parse_path(text):
    out = []
    for idx, key in _PATH_TOKEN.findall(text or ""):
        out.append(int(idx) if idx else key)
    return out


def parse_value(value):
    """A Ref for a reference, else None (the value is a literal).

    The grammar of prompt flow's InputAssignment.deserialize (test/fixtures/referenceGrammar.json holds its
    cases): only a whole string `${...}` is a reference, nothing is stripped, a flow input's name is all
    that follows its prefix, and a node reference splits at its first two dots.
    """
    if not isinstance(value, str) or not value.startswith("$") or len(value) <= 2:
        return None
    if value[1] != "{" or not value.endswith("}"):
        return None
    inner = value[2:-1]
    for prefix in FLOW_INPUT_PREFIXES:
        if inner.startswith(prefix):
            return Ref("input", inner[len(prefix):], value)
    node, dot, port = inner.partition(".")
    if not dot:
        return Ref("node", inner, value, "output")
    section, _, prop = port.partition(".")
    return Ref("node", node, value, section, prop)


def get_path(value, path, describe):
    for key in path:
        if value is None:
            return None
        try:
            if isinstance(value, dict):
                value = value[key if not isinstance(key, int) or key in value else str(key)]
            elif isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
                value = value[int(key)]
            else:
                value = getattr(value, key)
        except (KeyError, IndexError, TypeError, AttributeError):
            raise RuntimeFailure(
                "InvalidReferenceProperty",
                "Invalid property '%s' when accessing %s. Please check the reference and the output it points to."
                % (key, describe))
    return value


# prompt flow's node types (what the static checks accept), all run by this runtime
NODE_TYPES = ("python", "prompt", "llm", "custom_llm")
# the tool sources each node type runs from, as prompt flow's ToolLoader accepts them
NODE_SOURCES = {"python": ("code", "package"), "prompt": ("code",), "llm": ("code",),
                "custom_llm": ("package_with_prompt",)}


class Node:
    def __init__(self, raw, yaml_path):
        self.raw = raw
        self.yaml_path = yaml_path
        self.name = raw.get("name")
        self.type = raw.get("type")
        source = raw.get("source") or {}
        self.source_type = source.get("type", "code") if isinstance(source, dict) else "code"
        self.source_path = source.get("path") if isinstance(source, dict) else None
        self.source_tool = source.get("tool") if isinstance(source, dict) else None
        inputs = raw.get("inputs") or {}
        self.inputs = inputs if isinstance(inputs, dict) else {}
        self.refs = {k: parse_value(v) for k, v in self.inputs.items()}
        self.connection = raw.get("connection")
        self.api = raw.get("api") or "chat"
        self.aggregation = bool(raw.get("aggregation"))
        activate = raw.get("activate")
        self.activate = activate if isinstance(activate, dict) else None
        self.activate_ref = parse_value(self.activate.get("when")) if self.activate else None

    def unsupported(self):
        """(yaml key, RuntimeFailure) when this runtime cannot run the node; validate and run both ask here."""
        if self.type not in NODE_SOURCES:
            return "type", RuntimeFailure(
                "UnsupportedNodeType", "Node '%s' has type '%s', which this session runtime does not run (%s are "
                "supported)." % (self.name, self.type, ", ".join(NODE_TYPES)))
        if self.source_type not in NODE_SOURCES[self.type]:
            return "source", RuntimeFailure(
                "UnsupportedNodeType", "Node '%s' of type '%s' has a source of type '%s', which prompt flow does not "
                "run for that node type (it takes %s)." % (self.name, self.type, self.source_type,
                                                           " or ".join(NODE_SOURCES[self.type])))
        return None

    def dependencies(self):
        deps = [r.name for r in self.refs.values() if r is not None and r.kind == "node"]
        if self.activate_ref is not None and self.activate_ref.kind == "node":
            deps.append(self.activate_ref.name)
        return deps


def node_entries(flow, variants=None):
    """(yaml_path, node dict) for each node, with use_variants nodes replaced by their variant.

    variants maps node name -> variant id; the default variant is used otherwise.
    """
    node_variants = flow.get("node_variants") or {}
    for i, raw in enumerate(flow.get("nodes") or []):
        if not isinstance(raw, dict):
            continue
        name = raw.get("name")
        if raw.get("use_variants") and isinstance(node_variants.get(name), dict):
            spec = node_variants[name]
            vid = (variants or {}).get(name) or spec.get("default_variant_id")
            variant = (spec.get("variants") or {}).get(vid)
            if isinstance(variant, dict) and isinstance(variant.get("node"), dict):
                merged = {k: v for k, v in raw.items() if k != "use_variants"}
                merged.update(variant["node"])
                merged["name"] = name
                yield ["node_variants", name, "variants", vid, "node"], merged
                continue
        yield ["nodes", i], raw


def all_variant_entries(flow):
    """Every concrete node definition, including non-default variants (for validation)."""
    node_variants = flow.get("node_variants") or {}
    for i, raw in enumerate(flow.get("nodes") or []):
        if not isinstance(raw, dict):
            continue
        name = raw.get("name")
        spec = node_variants.get(name) if raw.get("use_variants") else None
        if isinstance(spec, dict) and isinstance(spec.get("variants"), dict):
            for vid, variant in spec["variants"].items():
                if isinstance(variant, dict) and isinstance(variant.get("node"), dict):
                    merged = {k: v for k, v in raw.items() if k != "use_variants"}
                    merged.update(variant["node"])
                    merged["name"] = name
                    yield ["node_variants", name, "variants", vid, "node"], merged
        else:
            yield ["nodes", i], raw


def parse_variant_selector(text):
    """'${node.variant_1}' -> {'node': 'variant_1'}; a list of them (one per node: the panel's picks) merged."""
    if isinstance(text, list):
        merged = {}
        for one in text:
            merged.update(parse_variant_selector(one))
        return merged
    if not text or not isinstance(text, str):
        return {}
    m = _REF.match(text.strip())
    inner = m.group(1) if m else text
    node, _, vid = inner.partition(".")
    return {node.strip(): vid.strip()} if node and vid else {}


def chosen_variants(flow, selector):
    """node -> variant id of every node that has variants: the one the selector names, else the default.

    A selector naming a node without variants, or a variant the node does not have, is refused as prompt
    flow refuses it, rather than silently running the default.
    """
    node_variants = flow.get("node_variants") or {}
    with_variants = {raw.get("name"): node_variants.get(raw.get("name")) for raw in flow.get("nodes") or []
                     if isinstance(raw, dict) and raw.get("use_variants")
                     and isinstance(node_variants.get(raw.get("name")), dict)}
    for node, vid in (selector or {}).items():
        spec = with_variants.get(node)
        if spec is None:
            raise RuntimeFailure("InvalidVariant", "Node '%s' has no variants; --variant '${%s.%s}' cannot be used."
                                 " Nodes with variants: %s." % (node, node, vid, sorted(with_variants) or "none"))
        if vid not in (spec.get("variants") or {}):
            raise RuntimeFailure("InvalidVariant", "Node '%s' has no variant '%s'; its variants are %s."
                                 % (node, vid, sorted(spec.get("variants") or {})))
    return {node: (selector or {}).get(node) or spec.get("default_variant_id") for node, spec in with_variants.items()}


_GRAPH = "Invalid node definitions found in the flow graph. "


def load_nodes(flow, variants=None):
    """Nodes in execution order, with prompt flow's graph errors."""
    nodes = [Node(raw, path) for path, raw in node_entries(flow, variants)]
    flow_inputs = flow.get("inputs") or {}
    seen = set()
    for n in nodes:
        if n.name in seen:
            raise RuntimeFailure("DuplicateNodeName", _GRAPH + (
                "Node with name '%s' appears more than once in the node definitions in your flow, which is not "
                "allowed. To address this issue, please review your flow and either rename or remove nodes with "
                "identical names.") % n.name)
        seen.add(n.name)
    for n in nodes:
        for ref in list(n.refs.values()) + [n.activate_ref]:
            if ref is not None and ref.kind == "input" and ref.name not in flow_inputs:
                raise RuntimeFailure("InputReferenceNotFound", _GRAPH + (
                    "Node '%s' references flow input '%s' which is not defined in your flow. To resolve this "
                    "issue, please review your flow, ensuring that you either add the missing flow inputs or adjust "
                    "node reference to the correct flow input.") % (n.name, ref.name), node=n.name)
        if n.activate is not None and ("when" not in n.activate or "is" not in n.activate):
            raise RuntimeFailure("FlowDefinitionError", (
                "The definition of activate config for node %s is incorrect. Please check your flow yaml and "
                "resolve this issue.") % n.name, node=n.name)
    return order_nodes(nodes)


def order_nodes(nodes):
    names = {n.name for n in nodes}
    aggregation = {n.name for n in nodes if n.aggregation}
    deps = {}
    for n in nodes:
        d = set()
        for dep in n.dependencies():
            if dep not in names:
                raise RuntimeFailure("NodeReferenceNotFound", _GRAPH + (
                    "Node '%s' references a non-existent node '%s' in your flow. Please review your flow to ensure "
                    "that the node name is accurately specified.") % (n.name, dep), node=n.name)
            d.add(dep)
        if not n.aggregation and d & aggregation:
            raise RuntimeFailure("InvalidNodeReference", _GRAPH + (
                "Non-aggregate node '%s' cannot reference aggregate nodes %s. Please review and rectify the node "
                "reference.") % (n.name, sorted(d & aggregation)), node=n.name)
        deps[n.name] = d
    ordered, picked = [], set()
    for _ in range(len(nodes)):
        nxt = next((n for n in nodes if n.name not in picked and deps[n.name] <= picked), None)
        if nxt is None:
            remaining = sorted(names - picked)
            raise RuntimeFailure("NodeCircularDependency", _GRAPH + (
                "Node circular dependency has been detected among the nodes in your flow. Kindly review the "
                "reference relationships for the nodes %s and resolve the circular reference issue in the flow.")
                % remaining)
        ordered.append(nxt)
        picked.add(nxt.name)
    return ordered, deps
