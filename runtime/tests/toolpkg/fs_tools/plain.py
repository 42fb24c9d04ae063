from promptflow.core import tool


@tool
def shout(text: str, times: int = 1) -> str:
    return (text.upper() + "!") * times
