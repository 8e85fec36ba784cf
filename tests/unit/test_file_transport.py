"""Development's emails on disk: a readable copy beside each .eml, links intact."""

from __future__ import annotations

from pyramid_mailer.message import Message

from app.services.file_transport import FileTransport

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
