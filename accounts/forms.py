from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import UserCreationForm

from accounts.models import User


class SignupForm(UserCreationForm):
    email = forms.EmailField(
        label="E-mail address",
        help_text="Used only to reset your password.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this e-mail address already exists.")
        return email


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=100,
        help_text="What will use it, e.g. “backup script on nas”.",
        widget=forms.TextInput(attrs={"placeholder": "backup script", "autocomplete": "off"}),
    )

    def clean_name(self) -> Any:
        return self.cleaned_data["name"].strip()


class EmailForm(forms.Form):
    email = forms.EmailField(
        label="E-mail address",
        required=False,
        help_text="Where password-reset e-mails go. Leave empty to remove it.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
