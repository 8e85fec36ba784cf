"""Development's mail "server": each email written to a folder (mail.transport = file).

Each message is written twice: as the .eml file a mail program opens, and as a .txt file
beside it with the recipient, the subject and the plain-text body decoded, so that a
link can be copied from it as it is (in the .eml the body is quoted-printable, which
breaks long lines and encodes "=")."""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from typing import Any


class FileTransport:
    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def send_immediately(self, message: Any) -> None:
        stem = f"{datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
        if not message.sender:
            message.sender = "nobody"
        (self.directory / f"{stem}.eml").write_text(str(message.to_message()), "utf-8")
        readable = (
            f"To: {', '.join(message.recipients)}\n"
            f"Subject: {message.subject}\n\n"
            f"{message.body or ''}\n"
        )
        (self.directory / f"{stem}.txt").write_text(readable, "utf-8")
