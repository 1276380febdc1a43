"""``photosift serve`` and ``photosift worker`` refuse what they cannot run with one line on stderr (exit 2): a
public address without API keys, a setting out of range, a worker without analysis processes."""

from __future__ import annotations

from photosift.cli import main


def test_serve_refuses_a_public_address_without_api_keys(monkeypatch, capsys):
    monkeypatch.delenv("PHOTOSIFT_API_KEYS", raising=False)
    assert main(["serve", "--host", "0.0.0.0", "--port", "9"]) == 2
    err = capsys.readouterr().err
    assert "refusing to listen on 0.0.0.0" in err and "PHOTOSIFT_API_KEYS" in err and err.count("\n") == 1


def test_a_setting_out_of_range_is_one_line(monkeypatch, capsys):
    monkeypatch.setenv("PHOTOSIFT_WORKERS", "-1")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err == "photosift: PHOTOSIFT_WORKERS: Input should be greater than or equal to 0\n"


def test_a_worker_needs_analysis_processes(monkeypatch, capsys):
    monkeypatch.setenv("PHOTOSIFT_WORKERS", "0")  # an API-only node is 'serve' with no workers; a worker needs some
    assert main(["worker"]) == 2
    assert capsys.readouterr().err == "photosift: a worker needs PHOTOSIFT_WORKERS of 1 or more\n"
