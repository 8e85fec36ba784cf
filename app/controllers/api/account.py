"""The signed-in account: what it is, its password and address, its devices and
activity, and re-authentication before sensitive changes. The same services, rules and
permissions as the HTML pages (app/controllers/account_security.py, email_change.py,
second_factor.py)."""

from __future__ import annotations

from pyramid.csrf import new_csrf_token
from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response
from pyramid.security import forget

from app.api.errors import ApiError
from app.api.modes import Mode
from app.api.operations import answer, api_operation
from app.api.schemas import (
    Accepted,
    AccountExport,
    AccountInfo,
    Activity,
    Deletion,
    Device,
    Devices,
    Done,
    EmailChange,
    Event,
    PasswordChange,
    PasswordChanged,
    Reauthentication,
)
from app.controllers.api.base import REAUTHENTICATED, ApiController
from app.i18n import translated
from app.models.login_sessions import APP_SESSION
from app.security import PERMISSION_RECENTLY_SIGNED_IN, PERMISSION_SIGNED_IN
from app.services.kernel import audit as events
from app.services.kernel.email_addresses import clean_email
from app.services.sessions.user_agents import describe_user_agent
from app.translation import _
from app.viewmodels.events import event_row
from app.viewmodels.pages import page_number

TAG = "Account"

PASSWORD_CHANGED = _("Your password has been changed. Your other devices have been signed out.")
EMAIL_CHANGE_SENT = _(
    "We have emailed a link to the new address. The address changes when you open it."
)
DELETION_SCHEDULED = _(
    "The account is deleted and signed out everywhere. The email we have sent has a link"
    " that brings it back until it is erased."
)
ACCOUNT_ERASED = _("The account has been erased, with everything held about it.")
CODE_MISSING = _("Enter the code from your authenticator app, or a recovery code.")


class AccountApi(ApiController):
    @property
    def current_session_id(self) -> int | None:
        login_session = self.request.login_session
        return login_session.id if login_session is not None else None

    @api_operation(
        "api.account",
        "GET",
        summary="The signed-in account",
        tag=TAG,
        answers={200: AccountInfo},
        permission=PERMISSION_SIGNED_IN,
    )
    def show(self, mode: Mode) -> Response:
        return answer(self.account_info(self.account))

    @api_operation(
        "api.account.export",
        "GET",
        summary="Everything held about the account",
        tag=TAG,
        answers={200: AccountExport},
        permission=PERMISSION_RECENTLY_SIGNED_IN,
        errors=(429,),
    )
    def export(self, mode: Mode) -> Response:
        """The owner's data as one document, after a recent sign-in (else 401
        reauthentication_required); five an hour, each recorded."""
        document = self.services.account_export.document(self.account)
        return answer(AccountExport.model_validate(document))

    @api_operation(
        "api.account",
        "DELETE",
        summary="Delete the account",
        tag=TAG,
        answers={200: Deletion},
        permission=PERMISSION_RECENTLY_SIGNED_IN,
        errors=(409,),
    )
    def delete(self, mode: Mode) -> Response:
        """After a recent sign-in: every session ends, this one too, and the restore
        link is emailed (docs/security.md 71). The last active administrator is refused
        with 409 last_administrator_stays."""
        erase_at = self.services.account_deletion.request(self.account)
        message = DELETION_SCHEDULED if erase_at is not None else ACCOUNT_ERASED
        body = Deletion(message=translated(self.request, message), erase_at=erase_at)
        if mode is Mode.APP:
            return answer(body)
        headers = forget(self.request)
        self.request.session.invalidate()
        return answer(body, headers=headers)

    @api_operation(
        "api.password.change",
        "POST",
        summary="Change the password",
        tag=TAG,
        body=PasswordChange,
        answers={200: PasswordChanged},
        permission=PERMISSION_SIGNED_IN,
    )
    def change_password(self, mode: Mode, body: PasswordChange) -> Response:
        """Every other session of the account ends; this one stays. A wrong current
        password is 400 wrong_current_password (guesses counted as at sign-in)."""
        self.services.accounts.change_password(
            self.account,
            body.current_password,
            body.password,
            keep_session_id=self.current_session_id,
        )
        csrf_token = new_csrf_token(self.request) if mode is Mode.BROWSER else None
        return answer(
            PasswordChanged(
                message=translated(self.request, PASSWORD_CHANGED), csrf_token=csrf_token
            )
        )

    @api_operation(
        "api.email.change",
        "POST",
        summary="Change the address: a link goes to the new one",
        tag=TAG,
        body=EmailChange,
        answers={202: Accepted},
        permission=PERMISSION_RECENTLY_SIGNED_IN,
    )
    def change_email(self, mode: Mode, body: EmailChange) -> Response:
        """202 whether or not the new address has an account (its owner is told by
        email); the address changes when the link is opened."""
        # A mistyped address is refused before the hourly limit or the password is spent.
        clean_email(body.email)
        self.services.email_changes.request(
            self.account, body.current_password, body.email, self.request.login_session
        )
        return answer(Accepted(message=translated(self.request, EMAIL_CHANGE_SENT)), status=202)

    @api_operation(
        "api.reauthenticate",
        "POST",
        summary="Prove again who is signed in, before a sensitive change",
        tag=TAG,
        body=Reauthentication,
        answers={200: Done},
        permission=PERMISSION_SIGNED_IN,
    )
    def reauthenticate(self, mode: Mode, body: Reauthentication) -> Response:
        """The password, and a code when the account has a second factor. Sensitive
        operations then work for sessions.reauth_minutes."""
        if not body.code and self.services.two_factor.has_second_factor(self.account):
            # Refused before the password is checked or a guess counted, as the page does.
            raise ApiError(400, "field_missing", translated(self.request, CODE_MISSING), "code")
        method = self.services.authentication.reauthenticate(
            self.account, body.password, body.code or "", self.request.login_session
        )
        self.services.login_sessions.mark_authenticated(self.request.login_session, method.label)
        return answer(Done(message=translated(self.request, REAUTHENTICATED)))

    @api_operation(
        "api.sessions",
        "GET",
        summary="The devices and applications signed in to the account",
        tag=TAG,
        answers={200: Devices},
        permission=PERMISSION_SIGNED_IN,
    )
    def sessions(self, mode: Mode) -> Response:
        current = self.current_session_id
        return answer(
            Devices(
                sessions=[
                    Device(
                        id=s.id,
                        kind="app" if s.kind == APP_SESSION else "browser",
                        description=describe_user_agent(s.user_agent),
                        ip=s.ip,
                        signed_in_at=s.created_at,
                        last_seen_at=s.last_seen_at,
                        current=s.id == current,
                    )
                    for s in self.services.login_sessions.list_active(self.account.id)
                ]
            )
        )

    @api_operation(
        "api.sessions.one",
        "DELETE",
        summary="Sign a device or application out",
        tag=TAG,
        answers={204: None},
        permission=PERMISSION_SIGNED_IN,
    )
    def revoke(self, mode: Mode) -> Response:
        """404 for anything that is not one of the account's live sessions. Revoking
        the current session signs this client out."""
        session_id = int(self.request.matchdict["id"])  # the route allows 1-9 digits only
        sessions = self.services.login_sessions
        if sessions.find_live(self.account.id, session_id) is None or not sessions.revoke_by_id(
            self.account.id, session_id
        ):
            # Not one of this account's live sessions: nothing said about other accounts.
            raise HTTPNotFound()
        self.services.audit.record(events.SESSION_REVOKED, self.account.id, session_id=session_id)
        if session_id == self.current_session_id and mode is Mode.BROWSER:
            headers = forget(self.request)
            self.request.session.invalidate()
            return answer(status=204, headers=headers)
        return answer(status=204)

    @api_operation(
        "api.activity",
        "GET",
        summary="The account's security events, newest first, 25 a page (?page=N)",
        tag=TAG,
        answers={200: Activity},
        permission=PERMISSION_SIGNED_IN,
    )
    def activity(self, mode: Mode) -> Response:
        found = self.services.audit.for_account(self.account.id, page=page_number(self.request))
        formats = self.request.formats
        rows = []
        for event in found.items:
            row = event_row(event, formats)
            rows.append(
                Event(
                    kind=event.kind,
                    description=row.description,
                    created_at=event.created_at,
                    ip=event.ip,
                    device=row.device,
                    outcome="failed" if row.outcome == "failed" else "ok",
                )
            )
        return answer(Activity(events=rows, page=found.page, pages=found.pages, total=found.total))
