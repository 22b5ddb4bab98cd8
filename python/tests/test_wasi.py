"""WASI settings from Python: arguments, environment, stdin, captured
stdout and stderr, exit codes (the `cli` test guest)."""

import componentry
from conftest import guest


def run(*args, **kw):
    c = componentry.Component.from_file(guest("wasi/cli.wasm"))
    inst = c.instantiate(wasi=componentry.Wasi(args=["cli", *args], **kw))
    return inst.run(), inst


def test_args():
    code, inst = run("args", "a b", "é")
    assert code == 0
    assert inst.stdout.decode().splitlines() == ["argc=4", "arg[0]=cli", "arg[1]=args", "arg[2]=a b", "arg[3]=é"]


def test_env():
    code, inst = run("env", "HOME", "NOPE", env={"HOME": "/home/x"})
    assert inst.stdout.decode().splitlines() == ["HOME=/home/x", "NOPE unset"]


def test_stdin_and_stderr():
    code, inst = run("cat", stdin=b"hello")
    assert inst.stdout == b"hello"
    assert b"read 5 bytes" in inst.stderr


def test_exit_code():
    # wasi:cli/exit takes ok/err: a nonzero code arrives as 1.
    code, inst = run("exit", "0")
    assert code == 0
    code, inst = run("exit", "3")
    assert code == 1
    assert inst.stdout == b"exiting with 3\n"


def test_hello():
    c = componentry.Component.from_file(guest("wasi/hello.wasm"))
    inst = c.instantiate()
    assert inst.run() == 0
    assert inst.stdout == b"Hello, world!\n"
