"""Slack's rules for what a message may hold: one specification for every fake that takes one.

FakeSlackApi (chat.postMessage, chat.update) and the webhook fakes (FakeSlack, FaultySlack) call
`message_refusal(payload)`; it names the first rule the payload breaks with the error string
Slack answers, or None. Where Slack is ambiguous the harsher reading is taken (each rule says
so). Sources, cited per rule below:

- Block Kit reference (docs.slack.dev/reference/block-kit/blocks, .../composition-objects,
  .../block-elements): the per-block limits.
- chat.postMessage method page (docs.slack.dev/reference/methods/chat.postMessage): 50 blocks,
  top-level text truncated past 40,000 characters, the error strings.
- slack_sdk 3.47.0 `slack_sdk/models/blocks/*.py` and `models/messages/message.py`
  (`attachments_max_length = 100`): the same limits as code (secondary source).
- Field reports: `invalid_blocks` with "must be less than 3001 characters
  [json-pointer:/blocks/0/text/text]" (the answer's `errors` list); blocks inside attachments
  are refused as `invalid_attachments` (soxtoby/SlackNet#241, slackapi/node-slack-sdk#809);
  webhooks answer HTTP 400 with the bare error string (sourcegraph/sourcegraph#49979:
  400 "invalid_blocks"; bugsink/bugsink#317: header over 150 -> 400 invalid_blocks).
- The undocumented total: Slack staff, "12,000 text characters with a buffer for block
  containers" (slackapi/bolt-js#2509); a refusal at 11,341 (slackapi/bolt-js#2867).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# chat.postMessage: "up to 50 blocks in each message"; Block Kit "blocks" reference. Harsher
# reading: the blocks of all attachments count towards the same 50 as top-level blocks.
BLOCKS_LIMIT = 50
# slack_sdk Message.attachments_max_length = 100; chat.postMessage: too_many_attachments.
ATTACHMENTS_LIMIT = 100
# Text past 40,000 characters is truncated, not refused: api.slack.com/changelog/
# 2018-04-truncating-really-long-messages; chat.postMessage's `text` argument ("Slack API will
# truncate messages containing more than 40,000 characters").
TOP_TEXT_LIMIT = 40_000
# Undocumented; refused as msg_blocks_too_long. Slack staff: "12,000 text characters with a
# buffer for block containers" (bolt-js#2509); the lowest refusal reported: 11,341
# (bolt-js#2867). Harsher reading: anything above 11,341 is refused, counted by
# `block_text_total` below.
BLOCK_TEXT_TOTAL_LIMIT = 11_341
# Block Kit reference, per block / element / composition object.
HEADER_TEXT_LIMIT = 150  # header: text, plain_text, max 150
SECTION_TEXT_LIMIT = 3000  # section: text, 1-3000
SECTION_FIELDS_LIMIT = 10  # section: fields, max 10 items
SECTION_FIELD_TEXT_LIMIT = 2000  # section: each field's text, max 2000
CONTEXT_ELEMENTS_LIMIT = 10  # context: elements, max 10
ACTIONS_ELEMENTS_LIMIT = 25  # actions: elements, max 25
TEXT_OBJECT_LIMIT = 3000  # text object: text, 1-3000 (context elements)
BUTTON_TEXT_LIMIT = 75  # button: text, plain_text, max 75
BUTTON_URL_LIMIT = 3000  # button: url, max 3000
BUTTON_VALUE_LIMIT = 2000  # button: value, max 2000
ACTION_ID_LIMIT = 255  # interactive elements: action_id, max 255
BLOCK_ID_LIMIT = 255  # every block: block_id, max 255
IMAGE_URL_LIMIT = 3000  # image block / element: image_url, max 3000
ALT_TEXT_LIMIT = 2000  # image block / element: alt_text, max 2000
BUTTON_STYLES = frozenset({"primary", "danger"})  # button: style, primary or danger


@dataclass(frozen=True)
class Refusal:
    """Why Slack refuses a message: its error string and the `errors` details it lists."""

    error: str
    details: tuple[str, ...] = ()


def utf16_len(value: str) -> int:
    """Length in UTF-16 code units. Slack does not say how it counts; code units are never
    fewer than code points (an emoji counts 2), so this is the harsher reading."""
    return len(value.encode("utf-16-le", "surrogatepass")) // 2


def _json_value(value: object) -> object:
    """A form-encoded argument holds JSON as a string (chat.postMessage: "A JSON-based array of
    structured blocks, presented as a URL-encoded string")."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


# --- text objects and elements ----------------------------------------------------------------


def _text_object(obj: object, pointer: str, limit: int, *, plain_only: bool = False) -> list[str]:
    """A composition text object: {"type": "plain_text" | "mrkdwn", "text": 1..limit}."""
    if not isinstance(obj, dict):
        return [f"expected an object [json-pointer:{pointer}]"]
    kinds = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if obj.get("type") not in kinds:
        return [f"must be one of {', '.join(kinds)} [json-pointer:{pointer}/type]"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        # Text objects: "text ... minimum 1 character" (slack_sdk: "text attribute must have
        # at least 1 character").
        return [f"must be more than 0 characters [json-pointer:{pointer}/text]"]
    if utf16_len(text) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{pointer}/text]"]
    return []


def _max_len(obj: dict, key: str, limit: int, pointer: str) -> list[str]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, str):
        return [f"expected a string [json-pointer:{pointer}/{key}]"]
    if utf16_len(value) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{pointer}/{key}]"]
    return []


def _button(element: dict, pointer: str) -> list[str]:
    problems = _text_object(
        element.get("text"), f"{pointer}/text", BUTTON_TEXT_LIMIT, plain_only=True
    )
    problems += _max_len(element, "url", BUTTON_URL_LIMIT, pointer)
    problems += _max_len(element, "value", BUTTON_VALUE_LIMIT, pointer)
    problems += _max_len(element, "action_id", ACTION_ID_LIMIT, pointer)
    if "style" in element and element["style"] not in BUTTON_STYLES:
        problems.append(f"must be primary or danger [json-pointer:{pointer}/style]")
    return problems


def _image(element: dict, pointer: str) -> list[str]:
    problems = []
    for key in ("image_url", "alt_text"):
        if not isinstance(element.get(key), str) or not element[key]:
            problems.append(f"missing required field: {key} [json-pointer:{pointer}]")
    problems += _max_len(element, "image_url", IMAGE_URL_LIMIT, pointer)
    problems += _max_len(element, "alt_text", ALT_TEXT_LIMIT, pointer)
    return problems


def _elements(elements: object, pointer: str, limit: int, allowed: dict[str, Any]) -> list[str]:
    if not isinstance(elements, list) or not elements:
        return [f"must provide at least 1 item [json-pointer:{pointer}]"]
    if len(elements) > limit:
        return [f"no more than {limit} items allowed [json-pointer:{pointer}]"]
    problems = []
    for index, element in enumerate(elements):
        where = f"{pointer}/{index}"
        kind = element.get("type") if isinstance(element, dict) else None
        check = allowed.get(kind)
        if check is None:
            problems.append(f"unsupported type: {kind} [json-pointer:{where}/type]")
        else:
            problems += check(element, where)
    return problems


# --- blocks ---------------------------------------------------------------------------------


def _header(block: dict, pointer: str) -> list[str]:
    return _text_object(block.get("text"), f"{pointer}/text", HEADER_TEXT_LIMIT, plain_only=True)


def _section(block: dict, pointer: str) -> list[str]:
    text, fields = block.get("text"), block.get("fields")
    if text is None and fields is None:
        # Block Kit, section: "text ... Required if no fields are provided".
        return [f"must provide text or fields [json-pointer:{pointer}]"]
    problems = []
    if text is not None:
        problems += _text_object(text, f"{pointer}/text", SECTION_TEXT_LIMIT)
    if fields is not None:
        if not isinstance(fields, list) or not fields:
            problems.append(f"must provide at least 1 item [json-pointer:{pointer}/fields]")
        elif len(fields) > SECTION_FIELDS_LIMIT:
            problems.append(
                f"no more than {SECTION_FIELDS_LIMIT} items allowed [json-pointer:{pointer}/fields]"
            )
        else:
            for index, field in enumerate(fields):
                problems += _text_object(
                    field, f"{pointer}/fields/{index}", SECTION_FIELD_TEXT_LIMIT
                )
    accessory = block.get("accessory")
    if accessory is not None:
        kind = accessory.get("type") if isinstance(accessory, dict) else None
        check = ACCESSORIES.get(kind)  # type: ignore[arg-type]
        where = f"{pointer}/accessory"
        if check is None:
            problems.append(f"unsupported type: {kind} [json-pointer:{where}/type]")
        else:
            problems += check(accessory, where)
    return problems


def _context(block: dict, pointer: str) -> list[str]:
    return _elements(
        block.get("elements"), f"{pointer}/elements", CONTEXT_ELEMENTS_LIMIT, CONTEXT_ELEMENTS
    )


def _actions(block: dict, pointer: str) -> list[str]:
    return _elements(
        block.get("elements"), f"{pointer}/elements", ACTIONS_ELEMENTS_LIMIT, ACTION_ELEMENTS
    )


def _divider(block: dict, pointer: str) -> list[str]:
    del block, pointer
    return []


CONTEXT_ELEMENTS = {
    "mrkdwn": lambda e, p: _text_object(e, p, TEXT_OBJECT_LIMIT),
    "plain_text": lambda e, p: _text_object(e, p, TEXT_OBJECT_LIMIT),
    "image": _image,
}
ACTION_ELEMENTS = {"button": _button}
ACCESSORIES = {"button": _button, "image": _image}
# The block types this project may send; any other type is refused (the fake does not know its
# rules, so it must not let it pass).
BLOCK_RULES = {
    "header": _header,
    "section": _section,
    "context": _context,
    "actions": _actions,
    "divider": _divider,
    "image": _image,
}


def block_problems(block: object, pointer: str) -> list[str]:
    """Everything Slack would refuse in one block, as its `errors` entries."""
    if not isinstance(block, dict):
        return [f"expected an object [json-pointer:{pointer}]"]
    rule = BLOCK_RULES.get(block.get("type"))  # type: ignore[arg-type]
    if rule is None:
        return [f"unsupported type: {block.get('type')} [json-pointer:{pointer}/type]"]
    return _max_len(block, "block_id", BLOCK_ID_LIMIT, pointer) + rule(block, pointer)


def blocks_problems(blocks: object, pointer: str) -> list[str]:
    if not isinstance(blocks, list):
        return [f"expected an array [json-pointer:{pointer}]"]
    if len(blocks) > BLOCKS_LIMIT:
        return [f"no more than {BLOCKS_LIMIT} items allowed [json-pointer:{pointer}]"]
    problems = []
    for index, block in enumerate(blocks):
        problems += block_problems(block, f"{pointer}/{index}")
    return problems


# --- the message ------------------------------------------------------------------------------


def all_blocks(payload: dict[str, Any]) -> list[Any]:
    """The message's blocks: top-level ones, then each attachment's."""
    blocks = _json_value(payload.get("blocks")) or []
    found = list(blocks) if isinstance(blocks, list) else []
    attachments = _json_value(payload.get("attachments")) or []
    for attachment in attachments if isinstance(attachments, list) else []:
        if isinstance(attachment, dict) and isinstance(attachment.get("blocks"), list):
            found += attachment["blocks"]
    return found


def _strings(value: object, key: str | None = None) -> list[str]:
    if isinstance(value, str):
        # "type" and "style" name the container, they are not its text.
        return [] if key in ("type", "style") else [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(v, k)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v, key)]
    return []


def block_text_total(payload: dict[str, Any]) -> int:
    """The characters Slack's undocumented total counts, in the harsher reading: every string
    in every block (texts, URLs, alt texts, action ids, block ids; not `type` and `style`
    names), in UTF-16 code units, as sent (escaped: `&amp;` counts 5), top-level blocks and
    attachments' blocks together. The top-level `text` does not count (its own limit)."""
    return sum(utf16_len(s) for s in _strings(all_blocks(payload)))


def _attachments_refusal(attachments: object) -> Refusal | None:
    if not isinstance(attachments, list):
        return Refusal("invalid_attachments", ("expected an array [json-pointer:/attachments]",))
    if len(attachments) > ATTACHMENTS_LIMIT:
        return Refusal("too_many_attachments")
    problems = []
    for index, attachment in enumerate(attachments):
        pointer = f"/attachments/{index}"
        if not isinstance(attachment, dict):
            problems.append(f"expected an object [json-pointer:{pointer}]")
        elif "blocks" in attachment:
            problems += blocks_problems(attachment["blocks"], f"{pointer}/blocks")
    # Blocks inside attachments are refused as invalid_attachments (SlackNet#241).
    return Refusal("invalid_attachments", tuple(problems)) if problems else None


def message_refusal(payload: object) -> Refusal | None:  # noqa: PLR0911 - one per rule
    """The error Slack answers for this message content, or None if Slack takes it."""
    if not isinstance(payload, dict):
        return Refusal("invalid_payload")
    text = payload.get("text")
    blocks = _json_value(payload.get("blocks"))
    attachments = _json_value(payload.get("attachments"))
    if text is not None and not isinstance(text, str):
        return Refusal("invalid_arguments", ("text must be a string",))
    if not text and not blocks and not attachments:
        # chat.postMessage: no_text "No message text provided"; webhooks answer 400 no_text
        # (older field reports: missing_text_or_fallback_or_attachments).
        return Refusal("no_text")
    if blocks is not None:
        problems = blocks_problems(blocks, "/blocks")
        if problems:
            return Refusal("invalid_blocks", tuple(problems))
    if attachments is not None:
        refusal = _attachments_refusal(attachments)
        if refusal is not None:
            return refusal
    count = len(all_blocks(payload))
    if count > BLOCKS_LIMIT:
        return Refusal("invalid_blocks", (f"no more than {BLOCKS_LIMIT} blocks in a message",))
    total = block_text_total(payload)
    if total > BLOCK_TEXT_TOTAL_LIMIT:
        return Refusal("msg_blocks_too_long", (f"{total} characters in blocks",))
    return None


def shown_text(text: str) -> str:
    """The top-level text as the channel keeps it: cut at 40,000 characters (Slack truncates,
    it does not refuse: see TOP_TEXT_LIMIT)."""
    text = text[:TOP_TEXT_LIMIT]
    while utf16_len(text) > TOP_TEXT_LIMIT:
        text = text[:-1]
    return text
