"""Development's emails on disk: a readable copy beside each .eml, links intact."""

from __future__ import annotations

import io
import re
from email import message_from_string

from pyramid_mailer.message import Message

from app.mail.file_transport import FileTransport

LINK = "http://localhost:6543/account/reset_password/" + "Ab3-_x" * 8


def test_each_email_has_a_readable_copy_with_the_link_as_it_is(tmp_path):
    message = Message(
        subject="Reset your password",
        sender="no-reply@localhost",
        recipients=["alice@example.com"],
        body=f"Open this link:\n\n{LINK}\n",
        html=f'<a href="{LINK}">Choose a new password</a>',
    )
    FileTransport(str(tmp_path / "mail")).send_immediately(message)
    (eml,) = (tmp_path / "mail").glob("*.eml")
    (txt,) = (tmp_path / "mail").glob("*.txt")
    assert eml.stem == txt.stem
    readable = txt.read_text()
    assert readable.startswith("To: alice@example.com\nSubject: Reset your password\n")
    assert LINK in readable.splitlines()
    assert "Reset your password" in eml.read_text()


def _message(**overrides) -> Message:
    fields = {
        "subject": "Reset your password",
        "sender": "no-reply@localhost",
        "recipients": ["alice@example.com"],
        "body": f"Open this link:\n\n{LINK}\n",
    }
    return Message(**{**fields, **overrides})


def test_the_mail_folder_is_created_with_its_parents_and_may_already_exist(tmp_path):
    folder = tmp_path / "var" / "mail" / "outgoing"
    FileTransport(str(folder)).send_immediately(_message())
    FileTransport(str(folder)).send_immediately(_message(subject="Confirm your address"))

    subjects = sorted(txt.read_text().splitlines()[1] for txt in folder.glob("*.txt"))
    assert subjects == ["Subject: Confirm your address", "Subject: Reset your password"]
    assert len(list(folder.glob("*.eml"))) == 2


def test_each_email_gets_its_own_files_named_after_when_it_was_written(tmp_path):
    transport = FileTransport(str(tmp_path))
    for _ in range(3):
        transport.send_immediately(_message())

    stems = {path.stem for path in tmp_path.iterdir()}
    assert len(stems) == 3
    for stem in stems:
        assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{6}", stem)
        assert (tmp_path / f"{stem}.eml").exists() and (tmp_path / f"{stem}.txt").exists()


def test_the_readable_copy_lists_every_recipient_and_an_html_only_email_has_an_empty_body(
    tmp_path,
):
    message = _message(
        recipients=["alice@example.com", "bob@example.com"], body=None, html="<p>Hello</p>"
    )
    FileTransport(str(tmp_path)).send_immediately(message)

    (txt,) = tmp_path.glob("*.txt")
    assert txt.read_text() == (
        "To: alice@example.com, bob@example.com\nSubject: Reset your password\n\n\n"
    )


def test_the_sender_is_kept_and_an_email_without_one_is_written_from_nobody(tmp_path):
    FileTransport(str(tmp_path / "with")).send_immediately(_message())
    FileTransport(str(tmp_path / "without")).send_immediately(_message(sender=None))

    (with_sender,) = (tmp_path / "with").glob("*.eml")
    (without_sender,) = (tmp_path / "without").glob("*.eml")
    assert message_from_string(with_sender.read_text())["From"] == "no-reply@localhost"
    assert message_from_string(without_sender.read_text())["From"] == "nobody"


def test_the_files_are_utf_8_whatever_the_locale_of_the_machine(tmp_path, monkeypatch):
    """On a machine whose default text encoding is plain ASCII, every email is still
    written, with its accents and arrows readable as UTF-8."""
    default_encoding = io.text_encoding
    monkeypatch.setattr(
        io, "text_encoding", lambda encoding, stacklevel=2: default_encoding(encoding or "ascii")
    )
    body = "Bonjour Zoë → ouvrez ce lien"
    message = _message(
        subject="Réinitialiser votre mot de passe", recipients=["zoë@example.com"], body=body
    )
    FileTransport(str(tmp_path)).send_immediately(message)

    (txt,) = tmp_path.glob("*.txt")
    (eml,) = tmp_path.glob("*.eml")
    assert txt.read_bytes().decode("utf-8") == (
        f"To: zoë@example.com\nSubject: Réinitialiser votre mot de passe\n\n{body}\n"
    )
    parsed = message_from_string(eml.read_bytes().decode("utf-8"))
    assert parsed.get_payload(decode=True).decode("utf-8") == body
