"""conversations.history and message metadata for FakeSlackApi, and a post whose answer is lost.

Rules (Slack's method pages and common errors):
- conversations.history needs a *:history scope (channels:history for public channels) and,
  for a bot token, "any conversation the relevant bot is a member of": a channel the app only
  posts to through chat:write.public is not_in_channel (the harsher reading);
- messages come newest first, at most `limit` (default 100, maximum 999), `has_more` beyond;
- a message's `metadata` ({event_type, event_payload}, sent with chat.postMessage) is returned
  only with include_all_metadata;
- internal_error / fatal_error: "some aspect of the operation may have succeeded" — lose_answer
  lets the post land and still answers with the error.
"""

from __future__ import annotations

from typing import Any

from support.fake_slack_api import Answer, Channel, FakeSlackApi

HISTORY_LIMIT_MAX = 999


class SlackHistory:
    """Adds conversations.history (with metadata) to a running FakeSlackApi."""

    def __init__(self, fake: FakeSlackApi) -> None:
        self.fake = fake
        self.metadata: dict[str, dict[str, Any]] = {}
        self.lost_answers: list[tuple[int, dict[str, Any]]] = []
        self._post = fake.methods["chat.postMessage"]
        fake.methods["chat.postMessage"] = self._post_message
        fake.methods["conversations.history"] = self._history

    def lose_answer(self, error: str = "internal_error", status: int = 500) -> None:
        """The next chat.postMessage is posted, but answered with `error`."""
        self.lost_answers.append((status, {"ok": False, "error": error}))

    def _post_message(self, arguments: dict[str, Any]) -> Answer:
        answer = self._post(arguments)
        ts = answer.body.get("ts")
        if answer.body.get("ok") and isinstance(arguments.get("metadata"), dict):
            self.metadata[str(ts)] = arguments["metadata"]
        if answer.body.get("ok") and self.lost_answers:
            status, body = self.lost_answers.pop(0)
            return Answer(body, status)
        return answer

    def _history(self, arguments: dict[str, Any]) -> Answer:
        if "channels:history" not in self.fake.scopes:
            provided = ",".join(sorted(self.fake.scopes))
            body = {"ok": False, "error": "missing_scope", "needed": "channels:history",
                    "provided": provided}  # fmt: skip
            return Answer(body)
        channel = self.fake._channel(arguments)
        if isinstance(channel, Answer):
            return channel
        if not isinstance(channel, Channel) or not channel.member:
            return Answer({"ok": False, "error": "not_in_channel"})
        limit = arguments.get("limit", 100)
        if not isinstance(limit, int) or limit < 1:
            limit = 100
        limit = min(limit, HISTORY_LIMIT_MAX)
        newest_first = list(reversed(channel.messages))
        include = arguments.get("include_all_metadata") in (True, "true", "1", 1)
        messages = []
        for message in newest_first[:limit]:
            shown: dict[str, Any] = {"type": "message", "ts": message.ts, "text": message.text}
            if include and message.ts in self.metadata:
                shown["metadata"] = self.metadata[message.ts]
            messages.append(shown)
        return Answer({"ok": True, "messages": messages, "has_more": len(newest_first) > limit})
