"""`promptflow.core._model_configuration`: where prompt flow defines the model configurations; the shim's classes."""
from promptflow.core import AzureOpenAIModelConfiguration, ModelConfiguration, OpenAIModelConfiguration  # noqa: F401
