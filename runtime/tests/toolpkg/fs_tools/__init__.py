"""A tool package as prompt flow's docs describe one, for the tests: its `package_tools` entry point lists a
function tool and a class tool (with cascading inputs); `fs_tools.plain.shout` is listed nowhere and resolves by
import alone. `fs_old_tools.greeter.greet`, an id the package retired, runs as `fs_tools.tools.greet`."""


def list_package_tools():
    return {
        "fs_tools.tools.greet": {
            "name": "Greet", "description": "Greets someone.", "type": "python", "module": "fs_tools.tools",
            "function": "greet", "deprecated_tools": ["fs_old_tools.greeter.greet"],
            "inputs": {
                "name": {"type": ["string"]},
                "mode": {"type": ["string"], "enum": ["plain", "fancy"], "default": "plain"},
                "flourish": {"type": ["string"], "enabled_by": "mode", "enabled_by_value": ["fancy"]},
                "times": {"type": ["int"], "default": "1"},
            },
        },
        "fs_tools.tools.Counter.count": {
            "name": "Count", "type": "python", "module": "fs_tools.tools", "class_name": "Counter",
            "function": "count",
            "inputs": {
                "connection": {"type": ["CustomConnection"]},
                "start": {"type": ["int"], "default": "0"},
                "word": {"type": ["string"]},
            },
        },
    }
