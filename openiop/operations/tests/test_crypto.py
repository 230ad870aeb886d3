"""The backup file's encryption on its own: round trip, and every kind of damage refused."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from openiop.operations.crypto import (
    HEADER_SIZE,
    KEY_ENV,
    BackupIntegrityError,
    BackupKeyError,
    EncryptingWriter,
    decrypt_chunks,
    new_key,
    parse_key,
)

KEY = parse_key(new_key())


def _seal(data: bytes, chunk_size: int = 64) -> bytes:
    out = io.BytesIO()
    writer = EncryptingWriter(out, KEY, chunk_size=chunk_size)
    for start in range(0, len(data), 50):  # writes that do not line up with chunks
        writer.write(data[start : start + 50])
    writer.close()
    return out.getvalue()


def _open(sealed: bytes, key: bytes = KEY) -> bytes:
    return b"".join(decrypt_chunks(io.BytesIO(sealed), key))


def _chunks(sealed: bytes) -> list[bytes]:
    """The framed chunks (length prefix included) after the header."""
    body, found = sealed[HEADER_SIZE:], []
    while body:
        length = int.from_bytes(body[:4], "big")
        found.append(body[: 4 + length])
        body = body[4 + length :]
    return found


@pytest.mark.parametrize("size", [0, 1, 63, 64, 65, 1000])
def test_round_trip_any_size(size: int):
    data = bytes(range(256)) * 4
    assert _open(_seal(data[:size])) == data[:size]


def test_the_same_data_seals_differently_each_time():
    assert _seal(b"same") != _seal(b"same")


def test_wrong_key_is_named_before_decrypting():
    with pytest.raises(BackupKeyError, match=r"wrong key.*key id"):
        _open(_seal(b"secret"), parse_key(new_key()))


@pytest.mark.parametrize(
    "damage",
    [
        "flip a bit in a chunk",
        "flip a bit in the header salt",
        "drop the last chunk",
        "drop a middle chunk",
        "swap two chunks",
        "append a chunk",
        "cut mid-chunk",
    ],
)
def test_damage_fails_authentication(damage: str):
    sealed = _seal(bytes(300))
    header, chunks = sealed[:HEADER_SIZE], _chunks(sealed)
    assert len(chunks) == 5
    if damage == "flip a bit in a chunk":
        broken = bytearray(sealed)
        broken[HEADER_SIZE + 30] ^= 0x10
        damaged = bytes(broken)
    elif damage == "flip a bit in the header salt":
        broken = bytearray(sealed)
        broken[20] ^= 0x01
        damaged = bytes(broken)
    elif damage == "drop the last chunk":
        damaged = header + b"".join(chunks[:-1])
    elif damage == "drop a middle chunk":
        damaged = header + b"".join(chunks[:2] + chunks[3:])
    elif damage == "swap two chunks":
        damaged = header + b"".join([chunks[1], chunks[0], *chunks[2:]])
    elif damage == "append a chunk":
        damaged = sealed + chunks[1]
    else:
        damaged = sealed[:-7]
    with pytest.raises(BackupIntegrityError, match=r"failed authentication|truncated"):
        _open(damaged)


def test_not_a_backup():
    with pytest.raises(BackupIntegrityError, match="not an OpenIOP backup"):
        _open(b"SQLite format 3\x00" + bytes(100))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (None, "is not set"),
        ("", "is not set"),
        ("not base64 at all!", "not valid base64"),
        ("c2hvcnQ=", "exactly 32 bytes"),
    ],
)
def test_bad_keys_are_refused(text: str | None, problem: str):
    with pytest.raises(BackupKeyError, match=problem):
        parse_key(text)


def test_both_base64_alphabets_are_accepted():
    standard = new_key()
    assert parse_key(standard.replace("+", "-").replace("/", "_").rstrip("=")) == parse_key(
        standard
    )


def test_backup_refuses_to_run_without_a_key(monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(CommandError, match=f"{KEY_ENV} is not set"):
        call_command("backup", output_dir=tmp_path, stdout=io.StringIO())
    assert list(tmp_path.iterdir()) == []


def test_new_key_prints_a_usable_key():
    out, err = io.StringIO(), io.StringIO()
    call_command("backup", new_key=True, stdout=out, stderr=err)
    assert len(parse_key(out.getvalue().strip())) == 32
    assert "key id" in err.getvalue()
