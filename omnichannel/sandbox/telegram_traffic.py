"""Citizens and officers talking to the Telegram sandbox: messages, edits, button presses, files.

These build update JSON shaped like https://core.telegram.org/bots/api#update and queue it with
``inject``; ``TelegramSandbox`` mixes them in.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from typing import Any


class TelegramTraffic:
    """Builders of inbound traffic; the state they use lives on ``TelegramSandbox``."""

    _chats: dict[int, dict[str, Any]]
    _files: dict[str, tuple[bytes, dict[str, Any]]]
    _messages: dict[tuple[int, int], dict[str, Any]]
    _callbacks: dict[str, dict[str, Any]]
    _message_ids: dict[int, itertools.count[int]]

    def inject(self, update: dict[str, Any]) -> int:  # pragma: no cover - provided by TelegramSandbox
        raise NotImplementedError

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def chat(self, chat_id: int, *, chat_type: str | None = None, title: str | None = None,
             first_name: str = "Warga", username: str | None = None) -> dict[str, Any]:
        """The chat object for ``chat_id`` (negative ids are groups unless told otherwise)."""
        if chat_id not in self._chats:
            kind = chat_type or ("private" if chat_id > 0 else "supergroup")
            chat: dict[str, Any] = {"id": chat_id, "type": kind}
            if kind == "private":
                chat["first_name"] = first_name
                if username:
                    chat["username"] = username
            else:
                chat["title"] = title or f"Grup {abs(chat_id)}"
            self._chats[chat_id] = chat
        return self._chats[chat_id]

    def user(self, user_id: int, first_name: str = "Warga", username: str | None = None) -> dict[str, Any]:
        """A User object."""
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "id"}
        if username:
            user["username"] = username
        return user

    def add_file(self, data: bytes, *, kind: str = "documents", suffix: str = ".bin") -> dict[str, Any]:
        """Store content the way Telegram does; return the File fields (file_id, size, path)."""
        digest = hashlib.sha256(data).hexdigest()
        n = len(self._files) + 1
        info = {"file_id": f"F{n}-{digest[:16]}", "file_unique_id": f"U{digest[:12]}", "file_size": len(data),
                "file_path": f"{kind}/file_{n}{suffix}"}
        self._files[info["file_id"]] = (data, info)
        return info

    def say(self, chat_id: int, text: str | None = None, *, user: dict[str, Any] | None = None,
            chat_type: str | None = None, title: str | None = None, reply_to: int | None = None,
            photo: bytes | list[bytes] | None = None, document: bytes | None = None,
            filename: str = "dokumen.pdf", mime_type: str = "application/pdf", caption: str | None = None,
            location: tuple[float, float] | None = None, contact: dict[str, Any] | None = None,
            extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """A citizen (or officer) sends a message; queued as a ``message`` update. Returns the Message."""
        chat = self.chat(chat_id, chat_type=chat_type, title=title)
        sender = user or self.user(chat_id if chat_id > 0 else 777000)
        message: dict[str, Any] = {"message_id": self._next_message_id(chat_id), "from": sender, "chat": chat,
                                   "date": int(time.time())}
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        if reply_to is not None:
            original = self._messages.get((chat_id, reply_to))
            message["reply_to_message"] = original or {"message_id": reply_to, "chat": chat, "date": 0}
        if photo is not None:
            sizes = photo if isinstance(photo, list) else [photo]
            message["photo"] = []
            for i, data in enumerate(sorted(sizes, key=len)):
                info = self.add_file(data, kind="photos", suffix=".jpg")
                side = 90 * (i + 1)
                message["photo"].append({k: info[k] for k in ("file_id", "file_unique_id", "file_size")}
                                        | {"width": side, "height": side})
        if document is not None:
            info = self.add_file(document, suffix="." + filename.rsplit(".", 1)[-1] if "." in filename else "")
            message["document"] = {"file_id": info["file_id"], "file_unique_id": info["file_unique_id"],
                                   "file_name": filename, "mime_type": mime_type, "file_size": len(document)}
        if caption is not None:
            message["caption"] = caption
        if location is not None:
            message["location"] = {"latitude": location[0], "longitude": location[1]}
        if contact is not None:
            message["contact"] = contact
        message.update(extra or {})
        self._messages[(chat_id, message["message_id"])] = message
        self.inject({"message": message})
        return message

    def edit(self, chat_id: int, message_id: int, text: str) -> dict[str, Any]:
        """The sender edits an earlier message; queued as an ``edited_message`` update."""
        original = self._messages[(chat_id, message_id)]
        edited = {**original, "text": text, "edit_date": int(time.time())}
        self._messages[(chat_id, message_id)] = edited
        self.inject({"edited_message": edited})
        return edited

    def press(self, chat_id: int, message_id: int, data: str, *, user: dict[str, Any] | None = None) -> str:
        """Someone taps an inline button under a bot message; returns the callback query id."""
        message = self._messages.get((chat_id, message_id)) or {"message_id": message_id,
                                                                 "chat": self.chat(chat_id), "date": 0}
        query_id = f"{len(self._callbacks) + 1}{int(time.time() * 1000) % 100000}"
        query = {"id": query_id, "from": user or self.user(4242, "Petugas"), "message": message,
                 "chat_instance": str(chat_id), "data": data}
        self._callbacks[query_id] = query
        self.inject({"callback_query": query})
        return query_id
