from enum import Enum

from promptflow.connections import CustomConnection
from promptflow.contracts.types import FilePath
from promptflow.core import ToolProvider, tool
from promptflow.entities import DynamicList, InputSetting


class Mode(str, Enum):
    PLAIN = "plain"
    FANCY = "fancy"


def list_styles(prefix: str = "") -> list:
    return [{"value": prefix + s} for s in ("plain", "bold")]


@tool
def greet(name: str, mode: Mode = Mode.PLAIN, flourish: str = "", times: int = 1) -> str:
    text = "Hello, %s" % name
    if mode == Mode.FANCY:
        text = "%s %s" % (flourish, text)
    return " ".join([text] * times)


class Counter(ToolProvider):
    """One instance per run: `calls` counts the lines it served."""

    def __init__(self, connection: CustomConnection, start: int = 0):
        super().__init__()
        self.token = connection.secrets["token"]
        self.calls = start

    @tool
    def count(self, word: str) -> dict:
        self.calls += 1
        return {"word": word, "calls": self.calls, "token_length": len(self.token)}


@tool(name="Styled", input_settings={
    "style": InputSetting(dynamic_list=DynamicList(function=list_styles, input_mapping={"prefix": "text"})),
    "suffix": InputSetting(enabled_by="styled", enabled_by_value=[True]),
})
def styled(text: str, styled: bool = False, style: str = "plain", suffix: str = "", notes: FilePath = None) -> str:
    out = "[%s] %s%s" % (style, text, suffix if styled else "")
    if notes:
        with open(notes, encoding="utf-8") as f:
            out += " " + f.read().strip()
    return out
