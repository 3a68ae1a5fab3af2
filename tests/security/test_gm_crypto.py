"""Issue 11, defect 15 (国密): the audit MAC as HMAC-SM3 and personal data at rest as SM4-GCM, chosen by
settings, with ``civicgrid pii rotate`` and ``audit verify`` working the same on mixed data. Also defect 14's
insecure default: the well-known secret is not served on a non-loopback address."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from sqlalchemy import select, update

from builders import make_case
from civicgrid.models import Case, SecurityEvent
from civicgrid.security import audit, pii
from civicgrid.security.anchors import write_checkpoint
from civicgrid.security.audit import verify_all
from civicgrid.security.exposure import insecure_bind_reason, is_loopback
from civicgrid.settings import DEFAULT_SECRET, get_settings


@pytest.fixture
def anchors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(get_settings(), "audit_anchor_dir", tmp_path / "anchors")
    return tmp_path / "anchors"


def test_sm3_and_sm4_gcm_are_available_here() -> None:
    # GB/T 32905 test vector: SM3("abc").
    assert (
        hashlib.new("sm3", b"abc").hexdigest()
        == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )
    enc = Cipher(algorithms.SM4(b"\x01" * 16), modes.GCM(b"\x00" * 12)).encryptor()
    assert len(enc.update(b"x") + enc.finalize()) == 1 and len(enc.tag) == 16


def test_audit_chain_with_hmac_sm3_verifies_mixed_and_detects_edits(session, anchors, monkeypatch) -> None:
    before = audit.record(session, "login", subject="a")
    monkeypatch.setattr(get_settings(), "audit_mac", "hmac-sm3")
    after = [audit.record(session, "login", subject=s) for s in ("b", "c")]
    session.flush()
    assert (before.link_alg, [e.link_alg for e in after]) == ("hmac-sha256", ["hmac-sm3", "hmac-sm3"])
    assert [e["alg"] for e in write_checkpoint(session).written][-1] == "hmac-sm3"
    assert verify_all(session) == []

    session.execute(update(SecurityEvent).where(SecurityEvent.id == after[0].id).values(subject="篡改"))
    problems = verify_all(session)
    assert [(p.chain, p.seq) for p in problems] == [("security", after[0].chain_seq)]
    assert "被修改" in problems[0].problem


def test_sm4_gcm_ciphertext_names_cipher_and_key_and_is_authenticated(monkeypatch) -> None:
    monkeypatch.setattr(get_settings(), "pii_cipher", "sm4-gcm")
    token = pii.encrypt("13812345678")
    assert token is not None and token.startswith("sm4gcm:") and "13812345678" not in token
    cipher, kid, data = token.split(":", 2)
    assert len(kid) == 8 and pii.decrypt(token) == "13812345678"
    assert pii.encrypt("13812345678") != token  # a fresh nonce each time
    raw = bytearray(base64.urlsafe_b64decode(data))
    raw[14] ^= 1
    assert pii.decrypt(f"{cipher}:{kid}:{base64.urlsafe_b64encode(bytes(raw)).decode()}") is None
    assert pii.decrypt(f"fernet:{kid}:{data}") is None  # the header is authenticated too


def test_mixed_fernet_and_sm4_rows_decrypt_and_rotate(monkeypatch) -> None:
    s = get_settings()
    old_material = s.pii_keys.split(",")[0].strip() if s.pii_keys else s.secret_key
    bare = (
        Fernet(base64.urlsafe_b64encode(hashlib.sha256(("civicgrid-pii:" + old_material).encode()).digest()))
        .encrypt("王小明".encode())
        .decode()
    )  # as written before ciphertexts carried a header
    tagged_fernet = pii.encrypt("13812345678")
    assert tagged_fernet is not None and tagged_fernet.startswith("fernet:")

    monkeypatch.setattr(s, "pii_keys", "sm4-key-2027," + old_material)
    monkeypatch.setattr(s, "pii_cipher", "sm4-gcm")
    new = pii.encrypt("张三")
    assert new is not None and new.startswith("sm4gcm:")
    assert [pii.decrypt(t) for t in (bare, tagged_fernet, new)] == ["王小明", "13812345678", "张三"]

    rotated = [pii.rotate(t) for t in (bare, tagged_fernet, new)]
    assert rotated[2] == new  # already under the newest key and cipher
    assert all(
        t is not None and t.startswith(new.split(":")[0] + ":" + new.split(":")[1] + ":") for t in rotated
    )

    monkeypatch.setattr(s, "pii_keys", "sm4-key-2027")  # the old key dropped after rotation
    assert [pii.decrypt(t) for t in rotated] == ["王小明", "13812345678", "张三"]
    assert pii.decrypt(bare) is None and pii.decrypt(tagged_fernet) is None
    with pytest.raises(pii.UndecryptableError):
        pii.rotate(bare)


def test_pii_rotate_command_moves_fernet_rows_to_sm4_and_keeps_undecryptable_ones(
    session, monkeypatch
) -> None:
    import typer

    from civicgrid import db
    from civicgrid.security.cli import rotate

    @contextmanager
    def in_test_transaction(*_a, **_k):
        yield session

    monkeypatch.setattr(db, "unit_of_work", in_test_transaction)
    case = make_case(session, reporter_name="王小明", reporter_phone="13812345678")
    lost = make_case(session)
    lost.reporter_phone_enc = "fernet:deadbeef:gAAAAAB-not-decryptable"
    session.flush()
    s = get_settings()
    monkeypatch.setattr(s, "pii_keys", "sm4-key-2027," + (s.pii_keys or s.secret_key))
    monkeypatch.setattr(s, "pii_cipher", "sm4-gcm")

    with pytest.raises(typer.Exit) as exit_:
        rotate()
    assert exit_.value.exit_code == 1
    fresh = session.get(Case, case.id)
    assert fresh.reporter_phone_enc.startswith("sm4gcm:") and fresh.reporter_name_enc.startswith("sm4gcm:")
    assert (pii.decrypt(fresh.reporter_name_enc), pii.decrypt(fresh.reporter_phone_enc)) == (
        "王小明",
        "13812345678",
    )
    assert session.get(Case, lost.id).reporter_phone_enc == "fernet:deadbeef:gAAAAAB-not-decryptable"
    session.flush()
    last = session.scalar(select(SecurityEvent).order_by(SecurityEvent.chain_seq.desc()).limit(1))
    assert last.kind == "pii_rotate" and last.data["undecryptable"] == 1


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("0.0.0.0", False), ("::", False), ("", False)],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
    assert (insecure_bind_reason(host, DEFAULT_SECRET) is None) is loopback
    assert insecure_bind_reason(host, "a-real-secret-of-this-installation") is None


BIN = Path(sys.executable).parent / "civicgrid"


def test_serve_refuses_the_default_secret_on_a_public_address(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CIVICGRID_SECRET_KEY"}
    env.update(
        CIVICGRID_ENV="development",
        CIVICGRID_DATA_DIR=str(tmp_path),
        CIVICGRID_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
        NO_COLOR="1",
        COLUMNS="200",
    )
    p = subprocess.run(
        [str(BIN), "serve", "--host", "0.0.0.0", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert "拒绝在 0.0.0.0 上提供服务：当前使用公开的默认密钥" in p.stderr
    assert "--insecure-demo" in p.stderr and "CivicGrid 运行于" not in p.stdout


def test_insecure_demo_flag_serves_but_warns_loudly(monkeypatch, capsys) -> None:
    from civicgrid.cli import serve
    from civicgrid.ops import server

    started: list[str] = []
    monkeypatch.setattr(server, "run_one", lambda opts, *_a, **_k: started.append(opts.host))
    monkeypatch.setattr(get_settings(), "secret_key", DEFAULT_SECRET)
    serve(host="0.0.0.0", port=8000, workers=1, threads=None, access_log=False, insecure_demo=True)
    assert started == ["0.0.0.0"]
    assert "警告：--insecure-demo 已生效，正用公开的默认密钥对外提供服务" in capsys.readouterr().err
