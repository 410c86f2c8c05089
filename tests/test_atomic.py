"""Every writer goes through `twin.atomic`: killed mid-write, the previous file survives; written files get the
umask's mode; no temporary file is left behind."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from twin import WriteError
from twin.atomic import atomic_output, atomic_path, atomic_write, file_mode, remove_stale

PREVIOUS = b"the previous good file"
KILL_CHILDREN = textwrap.dedent('''
    import json, os, sys, time
    import twin.atomic

    def hang(*args):
        print("READY", os.getpid(), file=sys.__stdout__, flush=True)
        time.sleep(600)

    twin.atomic._commit = hang              # everything is in the temporary file, not yet renamed onto the target
    import blueprints, twin
    import twin.views
    from solvers.fronts import plot as fronts
    from twin.cli import main
    site = blueprints.load("ai-factory-hall")
    ds = twin.simulate(site, hours=3, per_rack=True)
    import xarray as xr
    sweep = xr.Dataset({"status": ("scenario", ["ok"] * 3), "tokens_per_s": ("scenario", [1.0, 2, 3]),
                        "capex_usd": ("scenario", [3.0, 2, 4])})

    def slow_bytes(fh):
        fh.write(b"x" * 1_000_000)
        fh.flush()
        hang()

    write = {
        "slow-bytes": lambda t: twin.atomic.atomic_write(t, slow_bytes, binary=True),
        "yaml": site.save, "json": site.save, "netcdf": ds.twin.save, "plot": ds.twin.plot,
        "gif": lambda t: twin.render(site, t, state=ds, window_size=(320, 240)),
        "still": lambda t: twin.render(site, t, window_size=(320, 240)),
        "html": lambda t: twin.render(site, t, window_size=(320, 240)),
        "csv": lambda t: main(["contingency", "ai-factory-hall", "--no-recap", "--kinds", "ups", "--out", t]),
        "fronts": lambda t: fronts(sweep, t, pairs=[("capex_usd", "tokens_per_s")]),
    }
    for writer, target in json.loads(sys.argv[1]).items():
        if os.fork() == 0:                  # one process per writer, each killed at its commit
            sys.stdout = open(os.devnull, "w") if writer == "csv" else sys.stdout
            write[writer](target)
            os._exit(0)
    while True:
        try:
            os.wait()
        except ChildProcessError:
            break
''')
WRITERS = {"slow-bytes": "out.bin", "yaml": "site.yaml", "json": "site.json", "netcdf": "state.nc", "plot": "plot.png",
           "gif": "day.gif", "still": "view.jpg", "html": "view.html", "csv": "scan.csv", "fronts": "fronts.svg"}
"""One of each writing path: stills, pages and movies of views, NetCDF, matplotlib figures, CSV, YAML, JSON."""


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp" in p.name)


@pytest.mark.slow
def test_killing_any_writer_mid_write_keeps_the_previous_file(tmp_path):
    targets = {}
    for writer, name in WRITERS.items():
        folder = tmp_path / writer
        folder.mkdir()
        targets[writer] = folder / name
        targets[writer].write_bytes(PREVIOUS)
    server = subprocess.Popen([sys.executable, "-c", KILL_CHILDREN, json.dumps({w: str(t) for w, t in targets.items()})],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = 0
        for line in iter(server.stdout.readline, ""):
            if line.startswith("READY"):
                os.kill(int(line.split()[1]), signal.SIGKILL)
                ready += 1
                if ready == len(WRITERS):
                    break
        server.wait(60)
        assert ready == len(WRITERS), f"only {ready} writers reached the atomic commit: {server.stderr.read()[-3000:]}"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    for writer, target in targets.items():
        assert target.read_bytes() == PREVIOUS, writer
        assert len(temporaries(target.parent)) == 1, writer  # the killed writer's file, beside the target
        atomic_write(target, lambda fh: fh.write(b"new"), binary=True)  # the next write clears what it left
        assert target.read_bytes() == b"new"
        assert temporaries(target.parent) == [], writer


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_written_files_get_the_umask_mode_even_over_another(tmp_path, umask):
    target = tmp_path / "plan.json"
    target.write_text("{}")
    target.chmod(0o600 if umask != 0o077 else 0o644)
    old = os.umask(umask)
    try:
        atomic_write(target, lambda fh: fh.write("{}"))
        with atomic_path(tmp_path / "view.png") as tmp:
            tmp.write_bytes(b"png")
        assert file_mode() == 0o666 & ~umask
    finally:
        os.umask(old)
    for path in (target, tmp_path / "view.png"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_a_failed_write_removes_its_temporary_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "site.yaml"
    target.write_bytes(PREVIOUS)

    def fail(fh):
        fh.write("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, fail)
    assert target.read_bytes() == PREVIOUS and temporaries(tmp_path) == []


def test_an_unwritable_folder_is_our_error_naming_the_file(tmp_path):
    if os.geteuid() == 0:
        folder = Path("/proc/self/no-such-folder")  # root may write anywhere else
    else:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o500)
    with pytest.raises(WriteError, match=r"cannot write .*out\.csv: .*writable"):
        atomic_write(folder / "out.csv", lambda fh: fh.write("x"))


def test_only_temporaries_of_dead_writers_are_removed(tmp_path):
    target = tmp_path / "state.nc"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".state.nc.{dead.stdout.strip()}.abc.tmp.nc"
    live = tmp_path / f".state.nc.{os.getppid()}.abc.tmp.nc"
    other = tmp_path / f".other.nc.{dead.stdout.strip()}.abc.tmp.nc"
    for p in (stale, live, other):
        p.write_bytes(b"x")
    assert remove_stale(target) == [stale]
    assert live.exists() and other.exists()


def test_a_writer_that_needs_the_exact_name_gets_it_in_a_hidden_folder(tmp_path):
    target = tmp_path / "hall.usdz"
    target.write_bytes(PREVIOUS)
    with pytest.raises(RuntimeError):
        with atomic_output(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("the tool failed")
    assert target.read_bytes() == PREVIOUS and temporaries(tmp_path) == []
    with atomic_output(target) as tmp:
        assert tmp.name == "hall.usdz" and tmp.parent.parent == tmp_path
        tmp.write_bytes(b"usd")
        (tmp.parent / "hall.usdc").write_bytes(b"inner")  # what a packaging tool leaves beside its output
    assert target.read_bytes() == b"usd" and temporaries(tmp_path) == []
