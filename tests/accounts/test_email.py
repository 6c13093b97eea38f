"""The e-mail address password resets go to: set and changed on the account page, given to
the operator account by the first command."""

from __future__ import annotations

import io
import subprocess

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from tests.utils import ROOT

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_set_change_and_remove_the_email_on_the_account_page(client, alice, make_user):
    client.force_login(alice)
    page = client.get("/account/").content.decode()
    assert 'name="email"' in page and 'value="alice@example.com"' in page
    response = client.post("/account/email/", {"email": "  new@example.org "}, follow=True)
    assert response.status_code == 200
    assert "Your e-mail address is now new@example.org." in response.content.decode()
    alice.refresh_from_db()
    assert alice.email == "new@example.org"
    assert client.post("/account/email/", {"email": ""}).status_code == 302
    alice.refresh_from_db()
    assert alice.email == ""


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("not an address", "Enter a valid email address."),
        ("Mallory@Example.com", "Another account already uses this e-mail address."),
    ],
)
def test_a_bad_or_taken_email_is_refused_saying_why(client, alice, mallory, email, message):
    client.force_login(alice)
    response = client.post("/account/email/", {"email": email})
    assert response.status_code == 400
    assert message in response.content.decode()
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"


def test_the_new_token_has_a_copy_button(client, alice):
    client.force_login(alice)
    page = client.post("/account/tokens/", {"name": "nas"}).content.decode()
    assert 'id="copy-token"' in page and 'data-copy-from="new-token"' in page
    assert "js/account.js" in page


def test_the_operator_gets_the_email_from_the_environment(monkeypatch):
    monkeypatch.setenv("FILEFLOW_ADMIN_EMAIL", "ops@example.org")
    out = io.StringIO()
    call_command("ensure_operator", "--no-input", stdout=out)
    assert User.objects.get(username="admin").email == "ops@example.org"
    assert "password resets go to ops@example.org" in out.getvalue()


def test_the_operator_is_asked_for_an_email_in_a_terminal(monkeypatch):
    answers = iter(["not an address", "ops@example.org"])
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    err = io.StringIO()
    call_command("ensure_operator", stdout=io.StringIO(), stderr=err)
    assert "is not an e-mail address" in err.getvalue()
    assert User.objects.get(username="admin").email == "ops@example.org"


def test_a_bad_operator_email_from_the_environment_stops_with_the_variable_named(monkeypatch):
    monkeypatch.setenv("FILEFLOW_ADMIN_EMAIL", "nope")
    with pytest.raises(CommandError, match="FILEFLOW_ADMIN_EMAIL"):
        call_command("ensure_operator", "--no-input", stdout=io.StringIO())
    assert not User.objects.exists()


def test_the_second_run_names_the_account_and_how_to_reset_its_password(monkeypatch):
    call_command("ensure_operator", "--no-input", stdout=io.StringIO())
    out = io.StringIO()
    call_command("ensure_operator", "--no-input", stdout=out)
    text = out.getvalue()
    assert "Operator account: admin (password unchanged)" in text
    assert "python manage.py changepassword admin" in text
    assert "no e-mail address" in text  # and that a reset cannot reach it yet
    # Giving the address later fills it in.
    monkeypatch.setenv("FILEFLOW_ADMIN_EMAIL", "late@example.org")
    call_command("ensure_operator", "--no-input", stdout=io.StringIO())
    assert User.objects.get(username="admin").email == "late@example.org"


def test_the_scripts_print_no_colour_codes_when_not_on_a_terminal() -> None:
    result = subprocess.run(
        ["bash", "-c", f"source {ROOT}/scripts/lib.sh; say 'Applying database migrations'"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "TERM": "xterm-256color"},
    )
    assert result.stderr == "==> Applying database migrations\n"
    serve = (ROOT / "scripts" / "serve.sh").read_text()
    assert "operator account above" not in serve


def test_the_scripts_print_bold_on_a_terminal() -> None:
    script = f"source {ROOT}/scripts/lib.sh; say hi"
    # `script` gives the command a terminal, as a person running serve.sh has.
    result = subprocess.run(
        ["script", "-qec", f"bash -c {script!r}", "/dev/null"],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "TERM": "xterm-256color"},
    )
    assert result.returncode == 0, result.stderr
    assert "\x1b[1m==> hi" in result.stdout
