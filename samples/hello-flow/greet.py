from promptflow.core import tool


@tool
def greet(name: str, excited: bool = False) -> str:
    print(f"greeting {name}")
    return f"Hello, {name}{'!' if excited else '.'}"
