"""vLLM 0.26 OpenAI-compatible wire format: request validation and response bodies (pure)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from qtui.sim.text import (
    chat_text,
    count_chat_tokens,
    count_prompt_tokens,
    ids_text,
    tokenize,
)

VLLM_VERSION = "0.26.0"
FINGERPRINT = "vllm-0.26.0-9a51c0de"
MAX_LOGPROBS = 20


class ApiError(Exception):
    """An error vLLM answers with ``{"error": {message, type, param, code}}``."""

    def __init__(
        self, status: int, message: str, kind: str = "BadRequestError", param: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.param = param

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": str(self),
                "type": self.kind,
                "param": self.param,
                "code": self.status,
            }
        }


def _bad(message: str, param: str | None = None, value: object = None) -> ApiError:
    if param is not None:
        message = f"{message} (parameter={param}, value={value})"
    return ApiError(400, message, "BadRequestError", param)


def parse_json(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object, or FastAPI's json_invalid validation error."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        pos = getattr(exc, "pos", 0)
        msg = getattr(exc, "msg", str(exc))
        detail = (
            f"1 validation error:\n  {{'type': 'json_invalid', 'loc': ('body', {pos}), "
            f"'msg': 'JSON decode error', 'input': {{}}, 'ctx': {{'error': '{msg}'}}}}"
        )
        raise ApiError(400, detail, "Bad Request", f"body.{pos}") from None
    if not isinstance(data, dict):
        raise ApiError(
            400,
            "1 validation error:\n  {'type': 'model_attributes_type', "
            "'loc': ('body',), 'msg': 'Input should be a valid dictionary or object'}",
            "Bad Request",
            "body",
        )
    return data


def _missing(field: str) -> ApiError:
    return ApiError(
        400,
        f"1 validation error:\n  {{'type': 'missing', 'loc': ('body', "
        f"'{field}'), 'msg': 'Field required'}}",
        "Bad Request",
        f"body.{field}",
    )


@dataclass(frozen=True, slots=True)
class GenRequest:
    """A validated completion or chat request, reduced to what the simulator acts on."""

    chat: bool
    model: str
    prompt_text: str
    prompt_tokens: int
    max_tokens: int
    min_tokens: int
    ignore_eos: bool
    temperature: float
    seed: int | None
    stream: bool
    include_usage: bool
    logprobs: int | None  # number of top alternatives; None = no logprobs
    # what prefix caching keys on when not the prompt itself: a chat's whole templated history,
    # or a token-id prompt as 4 characters a token
    cache_text: str = ""

    @property
    def cached_text(self) -> str:
        """The text the prefix cache keys on: a chat's templated history, else the prompt."""
        return self.cache_text or self.prompt_text


def _int(data: dict[str, Any], key: str) -> int | None:
    v = data.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int):
        raise ApiError(
            400,
            f"1 validation error:\n  {{'type': 'int_type', 'loc': ('body', "
            f"'{key}'), 'msg': 'Input should be a valid integer'}}",
            "Bad Request",
            f"body.{key}",
        )
    return v


def parse_generate(data: dict[str, Any], chat: bool, served: str, max_model_len: int) -> GenRequest:
    """Validate as vLLM does, in the same order, with the same messages and status codes."""
    model = data.get("model") or served
    if model != served:
        raise ApiError(404, f"The model `{model}` does not exist.", "NotFoundError", "model")
    if chat:
        messages = data.get("messages")
        if not isinstance(messages, list) or not messages:
            raise _missing("messages")
        contents = [_content(m) for m in messages]
        users = [c for m, c in zip(messages, contents, strict=True) if m.get("role") == "user"]
        prompt_text = users[-1] if users else contents[-1]
        prompt_tokens = count_chat_tokens(contents)
        # the prefix cache sees the whole rendered history, as vLLM's sees the templated prompt
        cache_text = chat_text([str(m.get("role")) for m in messages], contents)
        max_tokens = _int(data, "max_completion_tokens")
        if max_tokens is None:
            max_tokens = _int(data, "max_tokens")
    else:
        prompt = data.get("prompt")
        if prompt is None:
            raise _missing("prompt")
        if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
            prompt = prompt[0]
        cache_text = ""
        if isinstance(prompt, str):
            prompt_text, prompt_tokens = prompt, count_prompt_tokens(prompt)
        elif isinstance(prompt, list) and prompt and all(isinstance(t, int) for t in prompt):
            prompt_text, prompt_tokens = " ".join(map(str, prompt)), len(prompt)
            cache_text = ids_text(prompt)  # 4 characters a token: blocks align as for text
        else:
            raise _bad(
                "the qtui simulator accepts one prompt per request (a string or token ids)",
                "prompt",
                type(prompt).__name__,
            )
        max_tokens = _int(data, "max_tokens")
    if (_int(data, "n") or 1) != 1:
        raise _bad("the qtui simulator supports n=1 only", "n", data.get("n"))
    if max_tokens is not None and max_tokens < 1:
        raise _bad(f"max_tokens must be at least 1, got {max_tokens}.", "max_tokens", max_tokens)
    if max_tokens is None:
        if prompt_tokens >= max_model_len:
            raise _bad(
                f"This model's maximum context length is {max_model_len} tokens. However, "
                f"your request has {prompt_tokens} input tokens. Please reduce the length "
                f"of the input messages.",
                "input_tokens",
                prompt_tokens,
            )
        max_tokens = max_model_len - prompt_tokens
    elif prompt_tokens + max_tokens > max_model_len:
        raise _bad(
            f"This model's maximum context length is {max_model_len} tokens. However, you "
            f"requested {max_tokens} output tokens and your prompt contains at least "
            f"{prompt_tokens} input tokens, for a total of at least {prompt_tokens + max_tokens} "
            f"tokens. Please reduce the length of the input prompt or the number of requested "
            f"output tokens.",
            "input_tokens",
            prompt_tokens,
        )
    min_tokens = _int(data, "min_tokens") or 0
    if min_tokens < 0:
        raise _bad(
            f"min_tokens must be greater than or equal to 0, got {min_tokens}.",
            "min_tokens",
            min_tokens,
        )
    if min_tokens > max_tokens:
        raise _bad(
            f"min_tokens must be less than or equal to max_tokens={max_tokens}, got {min_tokens}.",
            "min_tokens",
            min_tokens,
        )
    temperature = data.get("temperature")
    temperature = 1.0 if temperature is None else temperature
    if not isinstance(temperature, int | float) or temperature < 0:
        raise _bad(
            f"temperature must be non-negative, got {temperature}.", "temperature", temperature
        )
    if chat:
        top = _int(data, "top_logprobs")
        logprobs = (top or 0) if data.get("logprobs") else None
    else:
        logprobs = _int(data, "logprobs")
    if logprobs is not None and logprobs > MAX_LOGPROBS:
        raise _bad(
            f"Requested sample logprobs of {logprobs}, which is greater than max allowed: "
            f"{MAX_LOGPROBS}",
            "logprobs",
            logprobs,
        )
    opts = data.get("stream_options") or {}
    return GenRequest(
        chat=chat,
        model=model,
        prompt_text=prompt_text,
        prompt_tokens=prompt_tokens,
        max_tokens=max_tokens,
        min_tokens=min_tokens,
        ignore_eos=bool(data.get("ignore_eos", False)),
        temperature=float(temperature),
        seed=_int(data, "seed"),
        stream=bool(data.get("stream", False)),
        include_usage=bool(isinstance(opts, dict) and opts.get("include_usage")),
        logprobs=logprobs,
        cache_text=cache_text,
    )


def tokenize_request(data: dict[str, Any], served: str, vocab_size: int) -> list[int]:
    """A ``/tokenize`` body's token ids: ``prompt`` text, or chat ``messages`` (as templated)."""
    model = data.get("model") or served
    if model != served:
        raise ApiError(404, f"The model `{model}` does not exist.", "NotFoundError", "model")
    if "messages" in data:
        messages = data.get("messages")
        if not isinstance(messages, list) or not messages:
            raise _missing("messages")
        contents = [_content(m) for m in messages]
        n = count_chat_tokens(contents)
        text = chat_text([str(m.get("role")) for m in messages], contents)
        ids = tokenize(text, vocab_size)
        return (ids + ids[:1] * n)[:n] if ids else [1] * n  # the count usage reports
    prompt = data.get("prompt")
    if not isinstance(prompt, str):
        raise _missing("prompt")
    return tokenize(prompt, vocab_size)


def tokenize_body(ids: list[int], max_model_len: int) -> dict[str, Any]:
    return {"count": len(ids), "max_model_len": max_model_len, "tokens": ids, "token_strs": None}


def _content(message: Any) -> str:
    if not isinstance(message, dict) or "role" not in message:
        raise _missing("messages")
    c = message.get("content")
    if isinstance(c, list):  # content parts
        return "".join(p.get("text", "") for p in c if isinstance(p, dict))
    return c if isinstance(c, str) else ""


# --- response bodies (key order as vLLM 0.26 serialises them) --------------------------------
def model_list(served: str, root: str, max_model_len: int, created: int, perm_id: str) -> dict:
    return {
        "object": "list",
        "data": [
            {
                "id": served,
                "object": "model",
                "created": created,
                "owned_by": "qtui-sim",
                "root": root,
                "parent": None,
                "max_model_len": max_model_len,
                "permission": [
                    {
                        "id": perm_id,
                        "object": "model_permission",
                        "created": created,
                        "allow_create_engine": False,
                        "allow_sampling": True,
                        "allow_logprobs": True,
                        "allow_search_indices": False,
                        "allow_view": True,
                        "allow_fine_tuning": False,
                        "organization": "*",
                        "group": None,
                        "is_blocking": False,
                    }
                ],
            }
        ],
    }


def usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "total_tokens": prompt + completion,
        "completion_tokens": completion,
    }


def completion_logprobs(
    tokens: list[str], lps: list[float], tops: list[dict[str, float]], offset: int
) -> dict[str, Any]:
    offsets = []
    for t in tokens:
        offsets.append(offset)
        offset += len(t)
    return {"text_offset": offsets, "token_logprobs": lps, "tokens": tokens, "top_logprobs": tops}


def chat_logprobs(tokens: list[str], lps: list[float], tops: list[dict[str, float]]) -> dict:
    def entry(tok: str, lp: float) -> dict[str, Any]:
        return {"token": tok, "logprob": lp, "bytes": list(tok.encode())}

    return {
        "content": [
            {**entry(t, lp), "top_logprobs": [entry(k, v) for k, v in top.items()]}
            for t, lp, top in zip(tokens, lps, tops, strict=True)
        ]
    }


def completion_chunk(
    rid: str, created: int, model: str, text: str, logprobs: dict | None, finish: str | None
) -> dict[str, Any]:
    return {
        "id": rid,
        "object": "text_completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "text": text,
                "logprobs": logprobs,
                "finish_reason": finish,
                "stop_reason": None,
                "prompt_token_ids": None,
                "token_ids": None,
            }
        ],
    }


def chat_first_chunk(rid: str, created: int, model: str) -> dict[str, Any]:
    return {
        "id": rid,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "delta": {"role": "assistant", "content": ""},
                "logprobs": None,
                "finish_reason": None,
            }
        ],
        "prompt_token_ids": None,
        "prompt_text": None,
    }


def chat_chunk(
    rid: str,
    created: int,
    model: str,
    text: str,
    logprobs: dict | None,
    finish: str | None,
    stop_reason: int | None,
) -> dict[str, Any]:
    choice: dict[str, Any] = {
        "index": 0,
        "delta": {"content": text},
        "logprobs": logprobs,
        "finish_reason": finish,
    }
    if finish is not None:
        choice["stop_reason"] = stop_reason
    choice["token_ids"] = None
    return {
        "id": rid,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [choice],
    }


def usage_chunk(rid: str, created: int, model: str, chat: bool, u: dict[str, int]) -> dict:
    obj = "chat.completion.chunk" if chat else "text_completion"
    return {
        "id": rid,
        "object": obj,
        "created": created,
        "model": model,
        "choices": [],
        "usage": u,
        "system_fingerprint": FINGERPRINT,
    }


def completion_body(
    rid: str,
    created: int,
    model: str,
    text: str,
    logprobs: dict | None,
    finish: str,
    u: dict[str, int],
) -> dict[str, Any]:
    return {
        "id": rid,
        "object": "text_completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "text": text,
                "logprobs": logprobs,
                "finish_reason": finish,
                "stop_reason": None,
                "prompt_logprobs": None,
                "prompt_token_ids": None,
                "token_ids": None,
            }
        ],
        "service_tier": None,
        "system_fingerprint": None,
        "usage": {**u, "prompt_tokens_details": None},
        "kv_transfer_params": None,
    }


def chat_body(
    rid: str,
    created: int,
    model: str,
    text: str,
    logprobs: dict | None,
    finish: str,
    stop_reason: int | None,
    u: dict[str, int],
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": text,
        "refusal": None,
        "annotations": None,
        "audio": None,
        "function_call": None,
        "tool_calls": [],
        "reasoning": None,
    }
    return {
        "id": rid,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": logprobs,
                "finish_reason": finish,
                "stop_reason": stop_reason,
                "token_ids": None,
            }
        ],
        "service_tier": None,
        "system_fingerprint": None,
        "usage": {**u, "prompt_tokens_details": None},
        "prompt_logprobs": None,
        "prompt_token_ids": None,
        "kv_transfer_params": None,
    }
