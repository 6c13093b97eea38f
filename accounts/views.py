from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import EmailForm, SignupForm, TokenCreateForm
from accounts.models import ApiToken
from accounts.services import token_create, token_revoke, user_create, user_set_email
from fileflow.api import user_of
from fileflow.errors import DomainError


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if not settings.FILEFLOW_SIGNUP_ENABLED:
        return render(request, "accounts/signup_closed.html", status=403)
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = user_create(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to FileFlow, {user.username}.")
        return redirect(settings.LOGIN_REDIRECT_URL)
    status = 400 if form.is_bound else 200
    return render(request, "accounts/signup.html", {"form": form}, status=status)


def _account_page(
    request: HttpRequest,
    *,
    form: TokenCreateForm | None = None,
    email_form: EmailForm | None = None,
    new_token: str | None = None,
    status: int = 200,
) -> HttpResponse:
    tokens = ApiToken.objects.visible_to(request.user).active()  # type: ignore[arg-type]
    context = {
        "token_form": form or TokenCreateForm(),
        "email_form": email_form or EmailForm(initial={"email": request.user.email}),  # type: ignore[union-attr]
        "tokens": tokens,
        "new_token": new_token,
    }
    return render(request, "accounts/account.html", context, status=status)


@login_required
@require_http_methods(["GET"])
def account(request: HttpRequest) -> HttpResponse:
    return _account_page(request)


@login_required
@require_POST
def token_create_view(request: HttpRequest) -> HttpResponse:
    form = TokenCreateForm(request.POST)
    if not form.is_valid():
        return _account_page(request, form=form, status=400)
    try:
        _, raw = token_create(user=request.user, name=form.cleaned_data["name"])  # type: ignore[arg-type]
    except DomainError as exc:
        form.add_error("name", exc.message)
        return _account_page(request, form=form, status=exc.status_code)
    # Rendered, not redirected: the raw token is shown once and never stored anywhere.
    return _account_page(request, new_token=raw, status=201)


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken.objects.visible_to(request.user), pk=pk)  # type: ignore[arg-type]
    token_revoke(token=token)
    messages.success(request, f"Token “{token.name}” revoked. Scripts using it now get 401.")
    return redirect("accounts:account")


@login_required
@require_POST
def email_change(request: HttpRequest) -> HttpResponse:
    """Set, change or remove the e-mail address password resets go to."""
    form = EmailForm(request.POST)
    if not form.is_valid():
        return _account_page(request, email_form=form, status=400)
    try:
        user = user_set_email(user=user_of(request), email=form.cleaned_data["email"])
    except DomainError as exc:
        form.add_error("email", exc.message)
        return _account_page(request, email_form=form, status=exc.status_code)
    if user.email:
        messages.success(request, f"Your e-mail address is now {user.email}.")
    else:
        messages.success(request, "Your e-mail address was removed.")
    return redirect("accounts:account")
