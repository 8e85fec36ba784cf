"""Handing a message to the SMTP server: over TLS with the certificate and host name
verified, credentials only over TLS, and addresses in a form the server can take.

What goes wrong is sorted for the outbox: a refusal that trying again will not change (a
5xx answer, an address that cannot be written for this server) is PermanentFailure and
the message is given up at once; anything else (the server down, a certificate that does
not verify, a 4xx answer) is worth retrying later."""

from __future__ import annotations

import logging
import smtplib
import ssl
from typing import Any

from email_validator import EmailNotValidError, validate_email

from app.settings import SmtpSettings

log = logging.getLogger(__name__)


class PermanentFailure(Exception):
    """The server refused the message for good, or it cannot be sent to this address."""


class TLSUnavailable(Exception):
    """The server offers no TLS on a connection that must have it; nothing was sent."""


def envelope_address(address: str, smtputf8: bool) -> str:
    """The address as the envelope carries it: the domain in its ASCII (IDNA) form, and a
    local part that is ASCII unless the server takes UTF-8 (SMTPUTF8)."""
    try:
        checked = validate_email(address, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise PermanentFailure(f"not a deliverable address: {exc}") from None
    if checked.ascii_email:
        return checked.ascii_email
    if not smtputf8:
        raise PermanentFailure("the address needs SMTPUTF8, which the server does not offer")
    return checked.normalized


class SMTPTransport:
    """Sends pyramid_mailer messages, one connection per message (the outbox sends a few
    messages at a time, and a fresh connection recovers from any server trouble)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.tls_context = ssl.create_default_context(cafile=settings.ca_file or None)

    def send_immediately(self, message: Any) -> None:
        mail = message.to_message()
        sender = message.sender
        recipients = list(message.send_to)
        with self._connect() as smtp:
            smtputf8 = smtp.has_extn("smtputf8")
            envelope = [envelope_address(r, smtputf8) for r in recipients]
            needs_utf8 = any(not address.isascii() for address in [sender, *envelope])
            options = ["SMTPUTF8"] if needs_utf8 else []
            try:
                refused = smtp.sendmail(sender, envelope, mail.as_bytes(), mail_options=options)
            except smtplib.SMTPRecipientsRefused as exc:
                raise self._classified(exc, exc.recipients) from exc
            except smtplib.SMTPResponseException as exc:
                if 500 <= exc.smtp_code < 600:
                    raise PermanentFailure(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
                raise
            except UnicodeEncodeError as exc:
                raise PermanentFailure(f"cannot be encoded for this server: {exc}") from exc
            if refused:
                raise self._classified(smtplib.SMTPRecipientsRefused(refused), refused)

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        timeout = settings.timeout_seconds
        smtp: smtplib.SMTP
        if settings.tls == "ssl":
            smtp = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=timeout, context=self.tls_context
            )
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
        try:
            smtp.ehlo()
            if settings.tls == "starttls":
                if not smtp.has_extn("starttls"):
                    raise TLSUnavailable(
                        f"{settings.host} does not offer STARTTLS; nothing is sent in clear"
                    )
                # Verifies the certificate and that it names settings.host.
                smtp.starttls(context=self.tls_context)
                smtp.ehlo()
            if settings.username:
                smtp.login(settings.username, settings.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    @staticmethod
    def _classified(exc: Exception, refused: dict[str, tuple[int, bytes]]) -> Exception:
        if refused and all(500 <= code < 600 for code, _ in refused.values()):
            codes = ", ".join(str(code) for code, _ in refused.values())
            return PermanentFailure(f"recipient refused ({codes})")
        return exc
