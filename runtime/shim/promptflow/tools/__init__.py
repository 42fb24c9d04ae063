"""promptflow-tools' modules that flows import in their own code (`from promptflow.tools.aoai import chat`), for
sessions without that package: the same functions and classes, answered by the runtime's llm tool. The tools a
node names by id (embedding, the GPT-4V tools) are the runtime's builtin_tools, not modules here."""
