"""Marker string types used in tool signatures."""


class PromptTemplate(str):
    pass


class Secret(str):
    pass


class FilePath(str):
    pass
