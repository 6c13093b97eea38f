import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from accounts.services import token_create

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_ensure_operator_creates_one_once_and_prints_the_password(capsys):
    call_command("ensure_operator")
    out = capsys.readouterr().out
    assert "Created operator account 'admin' with password: " in out
    password = out.split("with password: ")[1].split()[0]
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password(password)

    call_command("ensure_operator")
    again = capsys.readouterr().out
    assert "Operator account: admin (password unchanged)" in again
    assert password not in again
    assert User.objects.filter(is_superuser=True).count() == 1


def test_ensure_operator_from_environment(capsys, monkeypatch):
    monkeypatch.setenv("FILEFLOW_ADMIN_USERNAME", "ops")
    monkeypatch.setenv("FILEFLOW_ADMIN_PASSWORD", "a chosen passphrase 9")
    call_command("ensure_operator")
    assert "Created operator account 'ops'." in capsys.readouterr().out
    assert User.objects.get(username="ops").check_password("a chosen passphrase 9")


def test_admin_user_list_shows_quota_and_usage(admin_client, alice):
    alice.quota_bytes = 2 * 1024**3
    alice.used_bytes = 512 * 1024**2
    alice.save(update_fields=["quota_bytes", "used_bytes"])
    page = admin_client.get("/admin/accounts/user/").content.decode()
    assert "2.0\xa0GB" in page
    assert "512.0\xa0MB" in page
    assert "25 %" in page


def test_admin_revoke_action_uses_the_service(admin_client, alice):
    token, _ = token_create(user=alice, name="old")
    response = admin_client.post(
        "/admin/accounts/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
