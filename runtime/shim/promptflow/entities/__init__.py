"""The tool-authoring settings of prompt flow's entities (cascading inputs, dynamic lists) for the shim."""

__all__ = ["InputSetting", "DynamicList"]


class DynamicList:
    """A tool input whose choices come from calling `function` with inputs mapped from the node's."""

    def __init__(self, function, input_mapping=None):
        self.function = function
        self.input_mapping = dict(input_mapping or {})


class InputSetting:
    """Per-input settings of `@tool(input_settings={...})`; None fields are left out of the metadata."""

    def __init__(self, enabled_by=None, enabled_by_value=None, dynamic_list=None, allow_manual_entry=None,
                 is_multi_select=None, input_type=None, ui_hints=None, **extra):
        self.enabled_by = enabled_by
        self.enabled_by_value = enabled_by_value
        self.dynamic_list = dynamic_list
        self.allow_manual_entry = allow_manual_entry
        self.is_multi_select = is_multi_select
        self.input_type = input_type
        self.ui_hints = ui_hints
        self.extra = extra
