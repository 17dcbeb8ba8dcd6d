"""Downloading raw files: verified, resumable, never leaving a partial file under the real name.

A local HTTP server on 127.0.0.1 serves a copy of a few small real files from a temporary
folder; it answers range requests unless told not to.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

from benchmark.cli import main
from datasets.download import DownloadError, RemoteFile, fetch_file
from datasets.raw_tables import ChecksumMismatchError

FILES = ("movielens-small/links.csv", "movielens-small/tags.csv", "posters/images/0004972.jpg")


class RangeHandler(SimpleHTTPRequestHandler):
    """Serves files, honouring ``Range: bytes=N-`` when ``ranges`` is on; records requests."""

    ranges = True
    requests: list[str] = []

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self.requests.append(f"{self.path} {self.headers.get('Range', '')}".strip())
        path = Path(self.translate_path(self.path))
        wanted = self.headers.get("Range", "")
        if not self.ranges or not wanted.startswith("bytes=") or not path.is_file():
            return super().do_GET()
        data = path.read_bytes()
        start = int(wanted[len("bytes="):].split("-")[0])
        if start >= len(data):
            self.send_error(416)
            return
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])


@pytest.fixture()
def served(data_root: Path, tmp_path: Path) -> Iterator[str]:
    mirror = tmp_path / "mirror"
    for relative in FILES:
        (mirror / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(data_root / relative, mirror / relative)
    RangeHandler.ranges, RangeHandler.requests = True, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(RangeHandler, directory=str(mirror)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def remote(data_root: Path, relative: str, algorithm: str = "md5") -> RemoteFile:
    return RemoteFile(relative, hashlib.new(algorithm, (data_root / relative).read_bytes()).hexdigest(), algorithm)


def test_fetches_verifies_and_then_finds_the_file_in_place(served: str, data_root: Path, tmp_path: Path) -> None:
    target_root = tmp_path / "root"
    for relative in FILES:
        assert fetch_file(served, remote(data_root, relative, "sha1" if relative.endswith(".jpg") else "md5"), target_root) == "fetched"
        assert (target_root / relative).read_bytes() == (data_root / relative).read_bytes()
    assert fetch_file(served, remote(data_root, FILES[0]), target_root) == "present"
    assert not list(target_root.rglob("*.part"))


def test_a_partial_file_is_resumed_with_a_range_request(served: str, data_root: Path, tmp_path: Path) -> None:
    relative = FILES[1]
    data = (data_root / relative).read_bytes()
    partial_file = tmp_path / "root" / (relative + ".part")
    partial_file.parent.mkdir(parents=True)
    partial_file.write_bytes(data[:50_000])
    assert fetch_file(served, remote(data_root, relative), tmp_path / "root") == "resumed"
    assert RangeHandler.requests == [f"/{relative} bytes=50000-"]
    assert (tmp_path / "root" / relative).read_bytes() == data and not partial_file.exists()


def test_a_stale_partial_file_is_fetched_again_from_scratch(served: str, data_root: Path, tmp_path: Path) -> None:
    relative = FILES[1]
    partial_file = tmp_path / "root" / (relative + ".part")
    partial_file.parent.mkdir(parents=True)
    partial_file.write_bytes(b"x" * 1000)  # wrong bytes: resuming would give a corrupt file
    assert fetch_file(served, remote(data_root, relative), tmp_path / "root") == "fetched"
    assert RangeHandler.requests == [f"/{relative} bytes=1000-", f"/{relative}"]
    assert (tmp_path / "root" / relative).read_bytes() == (data_root / relative).read_bytes()


def test_a_server_without_ranges_sends_the_whole_file_again(served: str, data_root: Path, tmp_path: Path) -> None:
    RangeHandler.ranges = False
    relative = FILES[0]
    partial_file = tmp_path / "root" / (relative + ".part")
    partial_file.parent.mkdir(parents=True)
    partial_file.write_bytes((data_root / relative).read_bytes()[:1000])
    assert fetch_file(served, remote(data_root, relative), tmp_path / "root") == "fetched"
    assert (tmp_path / "root" / relative).read_bytes() == (data_root / relative).read_bytes()


def test_a_checksum_mismatch_is_an_error_and_leaves_no_file(served: str, data_root: Path, tmp_path: Path) -> None:
    wrong = RemoteFile(FILES[0], "0" * 32)
    with pytest.raises(ChecksumMismatchError, match=r"links\.csv: received bytes have md5 [0-9a-f]{32}, expected 0{32}"):
        fetch_file(served, wrong, tmp_path / "root")
    assert not (tmp_path / "root" / FILES[0]).exists() and not list((tmp_path / "root").rglob("*.part"))


def test_a_file_in_place_with_other_bytes_is_never_overwritten(served: str, data_root: Path, tmp_path: Path) -> None:
    target = tmp_path / "root" / FILES[0]
    target.parent.mkdir(parents=True)
    target.write_text("my own edits")
    with pytest.raises(ChecksumMismatchError, match="already exists but its md5 is .* remove it to download it again"):
        fetch_file(served, remote(data_root, FILES[0]), tmp_path / "root")
    assert target.read_text() == "my own edits"


def test_a_missing_file_on_the_server_names_the_url(served: str, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match=r"127\.0\.0\.1:\d+/movielens-small/ratings\.csv: HTTP 404"):
        fetch_file(served, RemoteFile("movielens-small/ratings.csv", "0" * 32), tmp_path / "root")
    assert not list((tmp_path / "root").rglob("*.part"))


def test_the_command_line_reports_fetched_and_failed_files(served: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The mirror has only two of movielens_mm's tables: those are fetched, the rest fail by name.
    code = main(["--download", "--datasets", "movielens_mm", "--data-root", str(tmp_path / "root"), "--data-url", served, "--no-progress"])
    captured = capsys.readouterr()
    assert code == 1
    assert "2 file(s) fetched (0 resumed), 0 already in place, 3 failed" in captured.out
    assert "movielens-small/ratings.csv: HTTP 404" in captured.err and "posters/index.csv: HTTP 404" in captured.err
    assert main(["--download", "--data-root", str(tmp_path)]) == 2
    assert "--download needs --data-root DIR (or MMHN_DATA_ROOT) and --data-url URL" in capsys.readouterr().err
