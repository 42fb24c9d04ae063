"""`promptflow.core._flow`: where prompt flow defines Prompty, which some flows import from (prompt flow's own
eval-code-quality example does). The shim's names are the runtime's, as `promptflow.core` gives them."""
from promptflow.core import AsyncPrompty, Prompty  # noqa: F401
