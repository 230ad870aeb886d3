"""Authenticated, streaming encryption of backup files (AES-256-GCM in chunks).

The key is 32 random bytes, given base64-encoded in OPENIOP_BACKUP_KEY. Each file gets its own
key, derived from the master key and a random 32-byte salt with HKDF-SHA256, so nonces never
repeat across files. The plaintext is cut into chunks of at most `CHUNK_SIZE` bytes; chunk n is
sealed with the nonce (n as 11 big-endian bytes ‖ final flag) and the whole file header as
associated data (the "STREAM" construction): a flipped bit, a reordered, dropped or appended
chunk, a truncated file or an edited header all fail authentication.

File layout::

    header  = MAGIC (16) ‖ salt (32) ‖ key id (8) ‖ chunk size (4, big-endian)
    chunk*  = length of sealed chunk (4, big-endian) ‖ AES-GCM(chunk) incl. 16-byte tag

The key id is a one-way fingerprint of the master key (HKDF with its own label): it lets a
restore say "this backup was made with another key" before any decryption, and tells an
operator which of their keys a file needs. It reveals nothing about the key.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_ENV = "OPENIOP_BACKUP_KEY"
MAGIC = b"OPENIOP-BACKUP\x00\x01"  # format name and version 1
SALT_SIZE = 32
KEY_ID_SIZE = 8
HEADER_SIZE = len(MAGIC) + SALT_SIZE + KEY_ID_SIZE + 4
CHUNK_SIZE = 1024 * 1024
TAG_SIZE = 16
MAX_CHUNK = 64 * 1024 * 1024  # refuse absurd chunk sizes from a damaged header


class BackupKeyError(Exception):
    """No usable key, or the file was sealed with a different key."""


class BackupIntegrityError(Exception):
    """The file is not an OpenIOP backup, or it was damaged or tampered with."""


def new_key() -> str:
    """A fresh master key in the form OPENIOP_BACKUP_KEY expects."""
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def parse_key(text: str | None) -> bytes:
    """The 32-byte master key from its base64 text (standard or URL-safe alphabet)."""
    if not text or not text.strip():
        raise BackupKeyError(
            f"{KEY_ENV} is not set. Backups are always encrypted: generate a key once with "
            "`openiop backup --new-key`, store it apart from the backups (see docs/operations.md) "
            f"and export it as {KEY_ENV}."
        )
    cleaned = text.strip().replace("-", "+").replace("_", "/")
    try:
        raw = base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise BackupKeyError(f"{KEY_ENV} is not valid base64") from None
    if len(raw) != 32:
        raise BackupKeyError(
            f"{KEY_ENV} must decode to exactly 32 bytes (it decodes to {len(raw)}); "
            "generate one with `openiop backup --new-key`"
        )
    return raw


def key_from_environment() -> bytes:
    return parse_key(os.environ.get(KEY_ENV))


def _hkdf(master: bytes, salt: bytes | None, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(master)


def key_id(master: bytes) -> bytes:
    return _hkdf(master, None, b"openiop backup key id")[:KEY_ID_SIZE]


def key_id_text(master: bytes) -> str:
    return key_id(master).hex()


def _nonce(index: int, final: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if final else b"\x00")


class EncryptingWriter:
    """Buffers plaintext and writes sealed chunks to `out`; `close()` seals the final chunk.
    Memory use stays at about one chunk whatever the size of the stream."""

    def __init__(self, out: BinaryIO, master: bytes, chunk_size: int = CHUNK_SIZE) -> None:
        salt = secrets.token_bytes(SALT_SIZE)
        self._header = MAGIC + salt + key_id(master) + chunk_size.to_bytes(4, "big")
        self._aead = AESGCM(_hkdf(master, salt, b"openiop backup v1 file key"))
        self._out = out
        self._chunk_size = chunk_size
        self._buffer = bytearray()
        self._index = 0
        self._closed = False
        self.plaintext_bytes = 0
        out.write(self._header)

    def write(self, data: bytes) -> None:
        if self._closed:
            raise ValueError("write to a closed backup stream")
        self._buffer += data
        self.plaintext_bytes += len(data)
        # Full chunks go out as they fill; what is left (possibly nothing) is sealed in close()
        # as the final chunk, which is what lets a reader detect a truncated file.
        while len(self._buffer) > self._chunk_size:
            self._seal(bytes(self._buffer[: self._chunk_size]), final=False)
            del self._buffer[: self._chunk_size]

    def close(self) -> None:
        if not self._closed:
            self._seal(bytes(self._buffer), final=True)
            self._buffer.clear()
            self._closed = True

    def _seal(self, chunk: bytes, *, final: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._index, final), chunk, self._header)
        self._out.write(len(sealed).to_bytes(4, "big") + sealed)
        self._index += 1


def _read_exact(source: BinaryIO, size: int) -> bytes:
    data = source.read(size)
    if len(data) != size:
        raise BackupIntegrityError("the backup file is truncated: it ends in the middle of a chunk")
    return data


def decrypt_chunks(source: BinaryIO, master: bytes) -> Iterator[bytes]:
    """Authenticated plaintext chunks, in order. Raises BackupKeyError for a wrong key (before
    anything is decrypted) and BackupIntegrityError for any damage; a chunk is only yielded
    once its tag has been checked, and the stream is complete only when the generator ends."""
    header = source.read(HEADER_SIZE)
    if len(header) < HEADER_SIZE or not header.startswith(MAGIC[:14]):
        raise BackupIntegrityError("this is not an OpenIOP backup file")
    if header[: len(MAGIC)] != MAGIC:
        raise BackupIntegrityError("this backup was written in a format this OpenIOP cannot read")
    salt = header[len(MAGIC) : len(MAGIC) + SALT_SIZE]
    file_key_id = header[len(MAGIC) + SALT_SIZE : len(MAGIC) + SALT_SIZE + KEY_ID_SIZE]
    chunk_size = int.from_bytes(header[-4:], "big")
    if file_key_id != key_id(master):
        raise BackupKeyError(
            f"wrong key: this backup was encrypted with another {KEY_ENV} "
            f"(key id {file_key_id.hex()}; the key in the environment has id "
            f"{key_id_text(master)}). Nothing was restored."
        )
    if not 0 < chunk_size <= MAX_CHUNK:
        raise BackupIntegrityError("the backup header is damaged (impossible chunk size)")
    aead = AESGCM(_hkdf(master, salt, b"openiop backup v1 file key"))
    index = 0
    length_bytes = source.read(4)
    while True:
        if len(length_bytes) != 4:
            raise BackupIntegrityError(
                "the backup file is truncated: its final chunk is missing"
                if not length_bytes
                else "the backup file is truncated: it ends in the middle of a chunk"
            )
        length = int.from_bytes(length_bytes, "big")
        if not TAG_SIZE <= length <= chunk_size + TAG_SIZE:
            raise BackupIntegrityError(f"the backup file is damaged at chunk {index}")
        sealed = _read_exact(source, length)
        length_bytes = source.read(4)
        final = not length_bytes  # the last chunk in the file must be sealed as the last
        try:
            chunk = aead.decrypt(_nonce(index, final), sealed, header)
        except InvalidTag:
            raise BackupIntegrityError(
                f"the backup file failed authentication at chunk {index}: it was changed, "
                "truncated or damaged after it was written. Nothing was restored from it."
            ) from None
        yield chunk
        if final:
            return
        index += 1
