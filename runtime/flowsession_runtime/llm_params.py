"""The built-in llm tool's own parameters (besides the template's variables), with their value types."""
LLM_PARAMS = {
    "deployment_name": "string", "model": "string", "temperature": "double", "top_p": "double", "n": "int",
    "stop": "list", "max_tokens": "int", "presence_penalty": "double", "frequency_penalty": "double",
    "logit_bias": "object", "user": "string", "response_format": "object", "seed": "int", "functions": "list",
    "function_call": "object", "tools": "list", "tool_choice": "object", "suffix": "string", "echo": "bool",
    "best_of": "int", "logprobs": "int", "stream": "bool", "detail": "string",
}
