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


CHANNEL_CHOICES = [
    ("email", "Email a one-time link"),
    ("printed", "Print a code to hand over at the front desk"),
]
PASSWORD_HELP = "At least 12 characters; a long passphrase is best. Common passwords are refused."  # noqa: S105 - help text


class PortalInviteForm(forms.Form):
    channel = forms.ChoiceField(label="How to send the invitation", choices=CHANNEL_CHOICES)


class StaffInviteForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        required=False,
        help_text="Needed for an emailed link; the message names no program.",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(label="Role", choices=[])
    channel = forms.ChoiceField(label="How to send the invitation", choices=CHANNEL_CHOICES)

    def __init__(self, *args: object, roles: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["role"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = roles


class InviteAcceptForm(forms.Form):
    code = forms.CharField(
        label="Invitation code",
        max_length=20,
        help_text="The code on the slip from the front desk, e.g. ABCDE-FGH23.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    username = forms.CharField(
        label="Choose a username",
        max_length=150,
        help_text="You log in with it. Letters, digits and . _ - only.",
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label="Choose a password",
        help_text=PASSWORD_HELP,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label="Type the password again",
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    authenticator = forms.BooleanField(
        label="Also set up an authenticator app (a 6-digit code at each log-in)",
        required=False,
    )

    def __init__(
        self, *args: object, with_code: bool, with_username: bool, offer_mfa: bool, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if not with_code:
            del self.fields["code"]
        if not with_username:
            del self.fields["username"]
        if not offer_mfa:
            del self.fields["authenticator"]

    def clean_username(self) -> str:
        value = str(self.cleaned_data["username"]).strip().lower()
        if not value or any(not (ch.isalnum() or ch in "._-") for ch in value):
            raise forms.ValidationError("Use letters, digits and . _ - only.")
        return value

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", "The two passwords are not the same.")
        return data


class PasswordForgotForm(forms.Form):
    email = forms.EmailField(
        label="Email address of your account",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class PasswordResetForm(forms.Form):
    new_password = forms.CharField(
        label="New password",
        help_text=PASSWORD_HELP,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password_again = forms.CharField(
        label="Type the new password again",
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("new_password") and data.get("new_password") != data.get("new_password_again"):
            self.add_error("new_password_again", "The two passwords are not the same.")
        return data
