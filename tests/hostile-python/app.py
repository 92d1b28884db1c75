"""A Python plugin that tries what a plugin must not do.

The host's tests install it (tests/tests/all/plugins.rs) and check that each
attempt is stopped or refused: a loop that never ends, memory that grows
without bound, the patient's files, environment, network and processes, a
record of a type it may not read. The `escape` action reports, line by line,
exactly what each attempt got, so the tests can assert it.
"""

import os

import wit_world
from componentize_py_types import Err
from wit_world.imports import host, types


def attempt(label, action):
    try:
        return f"{label}: GOT {action()!r}"[:300]
    except BaseException as e:  # noqa: BLE001 - the point is to see anything
        return f"{label}: {type(e).__name__}: {e}"[:300]


def read_file():
    with open("/etc/passwd") as f:
        return f.read()


def list_root():
    return os.listdir("/")


def connect():
    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect(("127.0.0.1", 9))
    return "connected"


def spawn():
    import subprocess
    return subprocess.run(["cat", "/etc/passwd"], capture_output=True).stdout


def write_file():
    with open("/tmp/amanat-hostile-python", "w") as f:
        f.write("escaped")
    return "written"


class WitWorld(wit_world.WitWorld):
    def metadata(self) -> types.Metadata:
        names = ["spin", "grow", "escape", "read", "crash", "chatter"]
        return types.Metadata(
            name="hostile-python",
            version="0.1.0",
            actions=[types.ActionInfo(name=n, description="misbehaves", takes_file=True, takes_records=False)
                     for n in names],
        )

    def run(self, action: str, input: types.ActionInput) -> types.ActionOutput:
        text = bytes(input.file or b"").decode().strip()
        if action == "spin":
            while True:
                pass
        if action == "grow":
            hoard = []
            while True:
                hoard.append("x" * 1_000_000 + str(len(hoard)))
        if action == "escape":
            lines = [
                attempt("open", read_file),
                attempt("listdir", list_root),
                attempt("environ", lambda: dict(os.environ)),
                attempt("socket", connect),
                attempt("subprocess", spawn),
                attempt("write", write_file),
            ]
            return types.ActionOutput(message="\n".join(lines), document=None)
        if action == "read":
            try:
                record = host.read_record(text)
            except Err as refused:
                raise Err(types.PluginError_Denied(f"the wallet said: {refused.value}"))
            return types.ActionOutput(message=f"read {record.resource_type} {record.id}", document=None)
        if action == "crash":
            raise ValueError("the hostile Python plugin fails on purpose")
        if action == "chatter":
            for n in range(100_000):
                print(f"line {n} of output nobody asked for")
            return types.ActionOutput(message="chattered", document=None)
        raise Err(types.PluginError_InvalidInput(f"unknown action {action}"))
