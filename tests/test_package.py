"""The package as a release ships it: what the wheel and the sdist hold, and the README's
quickstart run as written against the wheel, in a fresh virtualenv on another Python
(with whatever Django pip picks, as a newcomer gets), under ``runserver`` and under
daphne, with a real Chromium as the user."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path
from typing import Any

import pytest

from tests import readme
from tests.browser_fixtures import browser_fixture  # noqa: F401 - the fixture
from tests.services import ROOT, free_port, port_open, wait_until

pytestmark = pytest.mark.e2e


def smoke_python() -> str:
    """Python 3.12 where there is one (another Python than the other jobs'), else this one."""
    home = Path.home() / ".pyenv" / "versions"
    for candidate in [shutil.which("python3.12"), *sorted(home.glob("3.12*/bin/python3.12"))]:
        if candidate and subprocess.run([candidate, "-c", ""], capture_output=True).returncode == 0:
            return str(candidate)
    return sys.executable


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    return out


def _only(folder: Path, pattern: str) -> Path:
    (found,) = folder.glob(pattern)
    return found


def test_the_wheel_holds_the_package_and_its_metadata(dist: Path) -> None:
    with zipfile.ZipFile(_only(dist, "*.whl")) as wheel:
        names = set(wheel.namelist())
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(wheel.read(info).decode())
    for needed in [
        "django_sse/static/django_sse/django-sse.js",
        "django_sse/py.typed",
        "django_sse/migrations/0001_initial.py",
        "django_sse/progress/migrations/0001_initial.py",
        "django_sse/templatetags/django_sse.py",
        "django_sse/management/commands/sse_send.py",
    ]:
        assert needed in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert not [n for n in names if n.startswith(("tests/", "demo_project/", "bench/", "docs/"))]
    assert metadata["License-Expression"] == "MIT"
    urls = {u.split(", ", 1)[0] for u in metadata.get_all("Project-URL", [])}
    assert {"Documentation", "Changelog", "Source", "Issues"} <= urls
    classifiers = metadata.get_all("Classifier", [])
    for version in ["Framework :: Django :: 5.2", "Framework :: Django :: 6.1"]:
        assert version in classifiers
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert "](docs/" not in metadata.get_payload()  # links in the PyPI page are absolute


def test_the_sdist_holds_the_license_and_changelog_and_not_the_demo(dist: Path) -> None:
    with tarfile.open(_only(dist, "*.tar.gz")) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {"LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml"} <= names
    assert "django_sse/static/django_sse/django-sse.js" in names
    assert not [n for n in names if n.startswith(("demo_project", "tests", "bench"))]


def test_every_readme_code_block_says_how_it_is_tested() -> None:
    actions = [block.action for block in readme.blocks()]
    assert {"sh", "append", "file", "serve", "shell"} <= set(actions)


def test_a_readme_block_without_a_test_comment_is_refused() -> None:
    with pytest.raises(ValueError, match="README.md:3: a code block without"):
        readme.blocks("text\n\n```sh\nls\n```\n")
    with pytest.raises(ValueError, match="wrong target"):
        readme.blocks("<!-- readme-test: file -->\n```python\nx = 1\n```\n")


class Project:
    """A new project made by the README's steps, in a virtualenv of its own."""

    def __init__(self, folder: Path, wheel: Path) -> None:
        self.folder, self.wheel = folder, wheel
        self.bin = folder / "venv" / "bin"
        self.url = ""
        self.env = {**os.environ, "PATH": f"{self.bin}:{os.environ['PATH']}"}
        for name in ["DJANGO_SETTINGS_MODULE", "PYTHONPATH", "VIRTUAL_ENV"]:
            self.env.pop(name, None)

    def run(self, command: str) -> str:
        if command.startswith("python -m pip install "):  # the release under test, not PyPI's
            command = f'python -m pip install --quiet "{self.wheel}[daphne]"'
        done = subprocess.run(
            ["bash", "-c", command], cwd=self.folder, env=self.env, capture_output=True, text=True
        )
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def follow(self, block: readme.Block) -> None:
        if block.action == "sh":
            for line in block.body.splitlines():
                if line.strip() and not line.startswith("#"):
                    self.run(line)
        elif block.action in ("append", "file"):
            assert block.target is not None
            path = self.folder / block.target
            path.parent.mkdir(parents=True, exist_ok=True)
            text = path.read_text() + "\n" if block.action == "append" else ""
            path.write_text(text + block.body)

    def serve(self, how: str) -> subprocess.Popen[bytes]:
        port = free_port()
        command = {
            "runserver": f"python manage.py runserver 127.0.0.1:{port} --noreload",
            "daphne": f"daphne -b 127.0.0.1 -p {port} mysite.asgi:application",
        }[how]
        process = subprocess.Popen(
            ["bash", "-c", f"exec {command}"],
            cwd=self.folder,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.folder / f"{how}.log", "wb"),  # noqa: SIM115
        )
        self.url = f"http://127.0.0.1:{port}"
        wait_until(lambda: process.poll() is None and port_open(port), timeout=30)
        return process


@pytest.fixture(scope="module")
def project(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Project:
    folder = tmp_path_factory.mktemp("newcomer")
    subprocess.run([smoke_python(), "-m", "venv", str(folder / "venv")], check=True)
    made = Project(folder, _only(dist, "*.whl"))
    for block in readme.blocks():
        made.follow(block)
    return made


def test_the_new_project_passes_the_system_checks(project: Project) -> None:
    assert "no issues" in project.run("python manage.py check --fail-level WARNING")


@pytest.mark.parametrize("how", ["runserver", "daphne"])
def test_the_readme_quickstart_shows_a_notification(
    project: Project, browser: Any, how: str
) -> None:
    from playwright.sync_api import expect

    (shell,) = [b for b in readme.blocks() if b.action == "shell"]
    server = project.serve(how)
    context = browser.new_context()
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        script = page.request.get(f"{project.url}/static/django_sse/django-sse.js")
        assert script.status == 200 and "javascript" in script.headers["content-type"]
        page.goto(f"{project.url}/")  # login_required: the admin's login page
        page.fill("#id_username", "alice")
        page.fill("#id_password", "alice")
        page.click("input[type=submit]")
        expect(page.locator("html")).to_have_attribute("data-sse-state", "open")
        page.click("#notify")
        expect(page.locator("#inbox li")).to_have_text(["Hello from the server"])
        project.run(f"python manage.py shell -c {_quote(shell.body)}")
        expect(page.locator("#inbox li")).to_have_text(
            ["Hello from the server", "Hello from the shell"]
        )
    finally:
        context.close()
        server.terminate()
        server.wait(10)


def _quote(code: str) -> str:
    return "'" + code.replace("'", "'\\''") + "'"


def test_the_version_is_the_installed_distributions() -> None:
    from importlib.metadata import version

    import django_sse

    assert django_sse.__version__ == version("django-sse-events")
