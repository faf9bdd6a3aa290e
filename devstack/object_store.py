"""A local S3-compatible object store, so the dev broker can keep its data across restarts.

This Tansu build has no PostgreSQL storage (`postgres://` fails with FeatureNotEnabled, see
tests/devstack/test_broker_storage.py), but it has S3 storage (`s3://bucket/`). The store is
s3rver (npm, installed by `npm ci` from package.json), a small Node server that keeps objects as
files under the stack's state dir: the broker can be killed and started again on the same
bucket and keeps its topics, records and committed offsets. s3rver itself writes an object in
place (truncate, then stream the body), so a broker killed mid-PUT left an empty or cut-short
object (an offsets object Tansu could not parse after the restart); it runs through
`s3rver_atomic.cjs`, which writes every file of an object to a temporary file and renames it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from devstack import procs

BUCKET = "tansu"
# s3rver's fixed development credentials (it accepts no others).
ACCESS_KEY = "S3RVER"
SECRET_KEY = "S3RVER"
REPO = Path(__file__).resolve().parents[1]
ATOMIC_WRAPPER = Path(__file__).resolve().parent / "s3rver_atomic.cjs"


class ObjectStoreError(RuntimeError):
    pass


def s3rver_bin() -> Path:
    """The s3rver launcher from the repo's node_modules (`npm ci` puts it there)."""
    path = REPO / "node_modules" / ".bin" / "s3rver"
    if not path.exists() or shutil.which("node") is None:
        raise ObjectStoreError(
            "the durable broker needs Node.js and s3rver: run `npm ci` in the repository "
            f"(looked for {path})"
        )
    return path


@dataclass
class ObjectStore:
    """s3rver listening on 127.0.0.1:`port`, with the broker's bucket, objects under `data_dir`."""

    port: int
    data_dir: Path
    log_path: Path
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def broker_env(self) -> dict[str, str]:
        """What Tansu's S3 engine reads (the object_store crate's AWS_* variables)."""
        return {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT": self.endpoint,
            "AWS_ALLOW_HTTP": "true",
        }

    def start(self) -> None:
        if procs.port_in_use(self.port):
            raise ObjectStoreError(f"port {self.port} for the object store is already in use")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        s3rver_bin()  # Node.js and the npm package are there
        node = shutil.which("node") or "node"
        # s3rver through a wrapper that writes objects atomically (see s3rver_atomic.cjs): a
        # broker killed mid-PUT must leave the previous object, not an empty one.
        argv = [node, str(ATOMIC_WRAPPER), "--directory", str(self.data_dir)]
        argv += ["--address", "127.0.0.1"]
        argv += ["--port", str(self.port), "--configure-bucket", BUCKET, "--silent"]
        # s3rver hashes with MD5, which Node 17+ refuses without the legacy provider.
        env = {**os.environ, "NODE_OPTIONS": "--openssl-legacy-provider"}
        self.proc = procs.spawn(argv, log_path=self.log_path, env=env)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, wait_s: float = 20.0) -> None:
        """Wait until the bucket answers a listing."""
        deadline = time.monotonic() + wait_s
        last: BaseException | None = None
        while time.monotonic() < deadline:
            if not self.alive():
                raise ObjectStoreError(
                    f"the object store exited; log {self.log_path}:\n{procs.tail(self.log_path)}"
                )
            try:
                with urllib.request.urlopen(f"{self.endpoint}/{BUCKET}", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError) as exc:
                last = exc
            time.sleep(0.1)
        raise ObjectStoreError(f"the object store did not answer within {wait_s:.0f}s ({last!r})")

    def stop(self, timeout: float = 5.0) -> None:
        if self.proc is not None:
            procs.terminate(self.proc, timeout)
