"""``photosift serve`` refuses to listen beyond loopback without API keys (one line on stderr, exit 2)."""

from __future__ import annotations

from photosift.cli import main


def test_serve_refuses_a_public_address_without_api_keys(monkeypatch, capsys):
    monkeypatch.delenv("PHOTOSIFT_API_KEYS", raising=False)
    assert main(["serve", "--host", "0.0.0.0", "--port", "9"]) == 2
    err = capsys.readouterr().err
    assert "refusing to listen on 0.0.0.0" in err and "PHOTOSIFT_API_KEYS" in err and err.count("\n") == 1
