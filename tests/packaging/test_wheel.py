"""Wheel and sdist: they build without warnings of deprecation, carry the resources, and the
wheel installed into a fresh virtual environment runs both programs.

The fresh environment gets its third-party dependencies from the project's own environment
through a path file instead of downloading them (PySide6 alone is a few hundred megabytes);
the wheel itself is installed into it without dependencies, and the test proves the programs
import Echo Vault from the fresh environment, not from this checkout.
"""

from __future__ import annotations

import site
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from echo_vault_app import __version__
from tests.packaging.conftest import (
    REPO,
    UNLOCKED_LINE,
    master_key,
    program_env,
    run,
    start_gui,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path, str]:
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    wheel = next(out.glob("*.whl"))
    sdist = next(out.glob("*.tar.gz"))
    return wheel, sdist, result.stdout + result.stderr


def test_build_is_clean_and_named_for_the_version(built) -> None:
    wheel, sdist, log = built

    assert wheel.name == f"echo_vault-{__version__}-py3-none-any.whl"
    assert sdist.name == f"echo_vault-{__version__}.tar.gz"
    assert "deprecat" not in log.lower()


def test_wheel_and_sdist_carry_resources(built) -> None:
    wheel, sdist, _log = built
    prefix = f"echo_vault-{__version__}/"
    with zipfile.ZipFile(wheel) as wheel_file, tarfile.open(sdist) as sdist_file:
        in_wheel = set(wheel_file.namelist())
        in_sdist = {name.removeprefix(prefix) for name in sdist_file.getnames()}

    for names in (in_wheel, in_sdist):
        assert "echo_vault_app/resources/icons/app.svg" in names
        assert "echo_vault_app/resources/icons/app/512x512.png" in names
        assert len([n for n in names if n.startswith("echo_vault_app/resources/templates/")]) >= 10
    assert "resources/templates/stripe.json" in in_sdist
    assert "packaging/linux/io.echovault.EchoVault.metainfo.xml" in in_sdist
    assert "CHANGELOG.md" in in_sdist


def test_wheel_installs_into_a_fresh_venv_and_runs(built, tmp_path, gui_processes) -> None:
    wheel, _sdist, _log = built
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    fresh_site = Path(
        run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], {}
        ).stdout.strip()
    )
    (fresh_site / "project-deps.pth").write_text(site.getsitepackages()[0] + "\n")
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr

    env = program_env(tmp_path / "vault", master_key())
    where = subprocess.run(
        [str(python), "-c", "import echo_vault_app; print(echo_vault_app.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    version = run([str(venv / "bin/echo-vault-cli"), "--version"], env)
    init = run([str(venv / "bin/echo-vault-cli"), "init"], env)
    templates = run([str(venv / "bin/echo-vault-cli"), "templates"], env)
    gui = start_gui([str(venv / "bin/echo-vault")], env, tmp_path / "gui.log", tmp_path)
    gui_processes.append(gui)
    shown = gui.wait_for(UNLOCKED_LINE)
    gui.terminate()

    assert where.stdout.startswith(str(fresh_site)), where.stdout + where.stderr
    assert version.stdout.strip() == f"echo-vault {__version__}"
    assert init.returncode == 0, init.stderr
    assert "stripe" in templates.stdout
    assert shown, gui.stderr()
    assert "Traceback" not in gui.stderr()
