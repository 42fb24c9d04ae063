"""How many tokens a prompt is, for `Prompty.estimate_token_count`: tiktoken's count when the session has tiktoken
(as prompt flow counts, with the model's encoding or cl100k_base), else an estimate that splits the text the way
cl100k_base's pre-tokenizer does (words with their leading space, runs of digits up to three, punctuation runs),
which is within a few percent for English prose. Message overheads are OpenAI's (3 a message, 1 for a name, 3 to
prime the reply), as prompt flow's num_tokens_from_messages adds them."""
import re

_PIECES = re.compile(r"'(?:s|t|re|ve|m|ll|d)| ?[^\W\d_]+| ?\d{1,3}| ?[^\s\w]+|\s+(?!\S)|\s+", re.I)


def _encoder(model):
    try:
        import tiktoken
    except ImportError:
        return None
    try:
        return tiktoken.encoding_for_model(model or "")
    except KeyError:
        return tiktoken.get_encoding("cl100k_base")


def text_tokens(text, model=None, _enc=None):
    enc = _enc if _enc is not None else _encoder(model)
    if enc is not None:
        return len(enc.encode(text))
    return len(_PIECES.findall(text))


def message_tokens(messages, model=None):
    enc = _encoder(model)
    legacy = bool(model) and "0301" in model
    per_message, per_name = (4, -1) if legacy else (3, 1)
    total = 0
    for message in messages:
        total += per_message
        for key, value in message.items():
            if isinstance(value, str):
                total += text_tokens(value, _enc=enc) if enc is not None else text_tokens(value)
            elif isinstance(value, list):
                for part in value:
                    if isinstance(part, dict) and part.get("type") == "text":
                        total += text_tokens(part.get("text") or "", _enc=enc) if enc is not None else text_tokens(
                            part.get("text") or "")
            if key == "name":
                total += per_name
    return total + 3
