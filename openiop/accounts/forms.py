from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from openiop.programs.models import Program


class LoginForm(AuthenticationForm):
    # One message for unknown user and wrong password, so the form never reveals which.
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": (
            "That username and password do not match an account. Check both and try again."
        ),
    }


class CodeForm(forms.Form):
    code = forms.CharField(
        label="6-digit code from your authenticator app",
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class ReauthForm(forms.Form):
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    code = forms.CharField(
        label="6-digit code from your authenticator app",
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label="Current password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label="New password",
        help_text=(
            "At least 12 characters; a long passphrase is best. Common passwords are refused."
        ),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class BreakGlassForm(forms.Form):
    program = forms.ModelChoiceField(queryset=Program.objects.none(), to_field_name="external_id")
    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What is the emergency? This is reported to the program's director.",
    )

    def __init__(self, *args: object, programs: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["program"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = programs  # type: ignore[assignment]


class RoleGrantForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=[])

    def __init__(self, *args: object, roles: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["role"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = roles
