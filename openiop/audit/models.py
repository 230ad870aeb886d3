"""Append-only audit log with a gap-free sequence and a SHA-256 hash chain (AU-01, AU-02)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditAction(models.TextChoices):
    CREATE = "create", "Create"
    READ = "read", "Read"
    UPDATE = "update", "Update"
    EXPORT = "export", "Export"
    DISCLOSE = "disclose", "Disclose"
    LOGIN = "login", "Log in"
    LOGOUT = "logout", "Log out"
    LOGIN_FAILED = "login_failed", "Failed log in"


class AuditEvent(models.Model):
    seq = models.PositiveBigIntegerField(unique=True)
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    # Program and participant are kept as opaque ids so the log outlives any row it names.
    program_external_id = models.UUIDField(null=True, db_index=True)
    participant_external_id = models.UUIDField(null=True, db_index=True)
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=16, default="success")
    request_id = models.CharField(max_length=32, blank=True)
    break_glass = models.BooleanField(default=False)
    detail = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["occurred_at"], name="audit_occurred_at_idx")]


class AuditHead(models.Model):
    """One row holding the last sequence number and hash; locked while appending so the
    sequence stays gap-free and the chain linear under concurrent writers."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)
