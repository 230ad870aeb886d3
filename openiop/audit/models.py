"""Append-only audit log with a gap-free sequence and a SHA-256 hash chain (AU-01, AU-02).

The log can only grow through the ORM: `AuditEvent.save()` refuses to touch an existing row,
and the manager's `update()` / `delete()` refuse outright. Database triggers reject UPDATE and
DELETE underneath the ORM as well (PostgreSQL: migration 0003, also TRUNCATE; SQLite:
migration 0004). The one sanctioned way
rows leave the table is `actions.audit_purge`, which keeps the chain verifiable through an
`AuditCheckpoint`.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models


class AuditLogImmutable(RuntimeError):
    """Raised on any attempt to edit or delete audit rows through the ORM."""


def _refuse(what: str) -> NoReturn:
    raise AuditLogImmutable(f"the audit log is append-only: {what} is not allowed")


class AuditAction(models.TextChoices):
    CREATE = "create", "Create"
    READ = "read", "Read"
    UPDATE = "update", "Update"
    EXPORT = "export", "Export"
    DISCLOSE = "disclose", "Disclose"
    LOGIN = "login", "Log in"
    LOGOUT = "logout", "Log out"
    LOGIN_FAILED = "login_failed", "Failed log in"
    PURGE = "purge", "Purge (retention)"


class AppendOnlyQuerySet(models.QuerySet[Any]):
    """Reads and `bulk_create` work as usual; bulk edits and deletes are refused."""

    def update(self, **kwargs: Any) -> int:
        _refuse("update()")

    def delete(self) -> tuple[int, dict[str, int]]:
        _refuse("delete()")

    def update_or_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("update_or_create()")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        _refuse("bulk_update()")


class AppendOnlyModel(models.Model):
    """A row may be inserted once and never saved again or deleted."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            _refuse("saving an existing row")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("delete()")


class AuditEvent(AppendOnlyModel):
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

    def __str__(self) -> str:
        return f"audit event {self.seq}"


class AuditHead(models.Model):
    """One row holding the last sequence number and hash; locked while appending so the
    sequence stays gap-free and the chain linear under concurrent writers."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit head at {self.last_seq}"


class AuditCheckpoint(AppendOnlyModel):
    """Where verification starts after a retention purge (AU-05): the sequence number and
    hash of the last purged row. `audit verify` also requires the purge event that names
    this checkpoint to be present in the (verified) chain, so a forged checkpoint is caught."""

    seq = models.PositiveBigIntegerField(unique=True)
    hash = models.CharField(max_length=64)
    before = models.DateTimeField()
    purged = models.PositiveBigIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"audit checkpoint at {self.seq}"
