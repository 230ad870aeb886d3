"""TOTP second factor (AUTH-04) on django-otp."""

from __future__ import annotations

import base64

import segno
from django.http import HttpRequest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts.models import User, UserKind

DEVICE_NAME = "authenticator"


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_device(user: User) -> TOTPDevice:
    """The unconfirmed device shown on the set-up page (one at a time)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def secret_base32(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode("ascii").rstrip("=")


def current_code(device: TOTPDevice) -> str:
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return str(code).zfill(device.digits)


def qr_svg_data_uri(device: TOTPDevice) -> str:
    # A data: URI keeps the QR code inside the strict CSP (no inline script, img-src data:).
    return str(segno.make(device.config_url, error="m").svg_data_uri(scale=4))


def verify_code(device: TOTPDevice, code: str) -> bool:
    cleaned = "".join(ch for ch in code if ch.isdigit())
    return bool(cleaned) and bool(device.verify_token(cleaned))


def mark_verified(request: HttpRequest, device: TOTPDevice) -> None:
    otp_login(request, device)


def is_verified(request: HttpRequest) -> bool:
    user = request.user
    verified = getattr(user, "is_verified", None)
    return bool(verified and verified())


def needs_second_factor(user: User) -> bool:
    """Staff must use a second factor; participants are offered one, and once they have
    confirmed an authenticator it is asked for at every log-in."""
    if user.kind == UserKind.STAFF:
        return True
    return user.kind == UserKind.PARTICIPANT and confirmed_device(user) is not None


__all__ = ["DEVICE_ID_SESSION_KEY"]
