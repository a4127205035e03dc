"""infra/deploy_check.py (make deploy-check) on fake `sam build` artifacts: it passes a good
build, and names what is wrong with a bad one."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("deploy_check",
                                                  ROOT / "infra" / "deploy_check.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


deploy_check = load_script()

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  SharedLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: SharedLayer
  CheckAccountFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: CheckAccountFunction
      Handler: app.handler
      Layers: [!Ref SharedLayer]
      Environment:
        Variables:
          QUEUE: !GetAtt CheckQueue.Arn
  RunDigestFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: RunDigestFunction
      Handler: app.handler
      Environment:
        Variables:
          BUCKET: !Sub "${ReportsBucket}"
"""


def fake_build(tmp_path: Path, *, pyc: bool = True, handler_body: str = "return event"
               ) -> Path:
    build = tmp_path / "build"
    site = build / "SharedLayer" / "python" / "fakepkg"
    site.mkdir(parents=True)
    (build / "template.yaml").write_text(TEMPLATE)
    for name in ("__init__.py", "work.py"):
        (site / name).write_text("VALUE = 42\n" if name == "work.py" else "")
        if pyc:
            cache = site / "__pycache__"
            cache.mkdir(exist_ok=True)
            (cache / f"{Path(name).stem}.cpython-313.pyc").write_bytes(b"\0" * 16)
    for function in ("CheckAccountFunction", "RunDigestFunction"):
        folder = build / function
        folder.mkdir()
        (folder / "app.py").write_text(
            "from fakepkg.work import VALUE\n\n\n"
            f"def handler(event, context):\n    {handler_body}\n")
    return build


def run(build: Path, tmp_path: Path, **options: object) -> tuple[int, dict[str, object]]:
    bench = tmp_path / "out" / "bench.json"
    code = deploy_check.check(build, sys.executable, float(options.get("budget_mb", 1.0)),
                              options.get("import_layer"), bench, 2)
    figures: dict[str, object] = json.loads(bench.read_text())["deploy_check"]
    return code, figures


def test_a_good_build_passes_and_its_import_times_are_recorded(tmp_path: Path) -> None:
    build = fake_build(tmp_path)
    bench = tmp_path / "out" / "bench.json"
    bench.parent.mkdir()
    bench.write_text(json.dumps({"schema": "balance-guard/bench@1", "rows": [1, 2]}))

    code, figures = run(build, tmp_path)

    assert code == 0
    assert figures["passed"] is True
    assert figures["problems"] == []
    assert figures["layer_py_files"] == figures["layer_pyc_files"] == 2
    handlers = figures["handlers"]
    assert isinstance(handlers, dict)
    assert set(handlers) == {"CheckAccountFunction", "RunDigestFunction"}
    for timing in handlers.values():
        assert 0 < timing["cold_import_s"] < 30
        assert timing["runs"] == 2
    # merged into what make bench wrote, not in place of it
    kept = json.loads(bench.read_text())
    assert kept["rows"] == [1, 2]
    assert kept["schema"] == "balance-guard/bench@1"


def test_a_layer_over_its_budget_fails(tmp_path: Path) -> None:
    build = fake_build(tmp_path)
    (build / "SharedLayer" / "python" / "big.bin").write_bytes(b"\0" * 2_000)

    code, figures = run(build, tmp_path, budget_mb=0.001)

    assert code == 1
    assert "over its 0.001 MB budget" in str(figures["problems"])


def test_a_layer_without_bytecode_fails(tmp_path: Path) -> None:
    code, figures = run(fake_build(tmp_path, pyc=False), tmp_path)

    assert code == 1
    assert "without Python 3.13 bytecode: fakepkg/__init__.py, fakepkg/work.py" in str(
        figures["problems"])


def test_a_handler_that_does_not_import_fails_and_is_named(tmp_path: Path) -> None:
    build = fake_build(tmp_path)
    (build / "RunDigestFunction" / "app.py").write_text("import not_in_the_layer\n")

    code, figures = run(build, tmp_path)

    assert code == 1
    problems = str(figures["problems"])
    assert "RunDigestFunction: app.handler does not import" in problems
    assert "not_in_the_layer" in problems
    assert set(figures["handlers"]) == {"CheckAccountFunction"}  # type: ignore[arg-type]


def test_a_handler_that_is_not_callable_fails(tmp_path: Path) -> None:
    build = fake_build(tmp_path)
    (build / "CheckAccountFunction" / "app.py").write_text("handler = 'not a function'\n")

    code, figures = run(build, tmp_path)

    assert code == 1
    assert "CheckAccountFunction: app.handler does not import" in str(figures["problems"])


@pytest.mark.parametrize("foreign", ["x86_64", "aarch64"])
def test_extensions_for_another_machine_need_a_local_copy_for_the_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, foreign: str,
) -> None:
    here = "aarch64" if foreign == "x86_64" else "x86_64"
    monkeypatch.setattr(deploy_check.platform, "machine", lambda: here)
    build = fake_build(tmp_path)
    site = build / "SharedLayer" / "python"
    (site / f"_speedups.cpython-313-{foreign}-linux-gnu.so").write_bytes(b"\0")

    code, figures = run(build, tmp_path)

    assert code == 1
    assert "no --import-layer was given" in str(figures["problems"])

    local = tmp_path / "local-layer"
    (local / "fakepkg").mkdir(parents=True)
    (local / "fakepkg" / "__init__.py").write_text("")
    (local / "fakepkg" / "work.py").write_text("VALUE = 43\n")
    code, figures = run(build, tmp_path, import_layer=local)

    assert code == 0, figures["problems"]
    assert figures["imports_from"] == "this machine's build of the layer"


def test_the_build_dir_must_hold_the_layer(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                           ) -> None:
    assert deploy_check.main(["--build-dir", str(tmp_path), "--python", sys.executable]) == 1
    assert "run sam build first" in capsys.readouterr().err


def test_make_deploy_check_runs_the_script_on_the_sam_build() -> None:
    script = (ROOT / "infra" / "deploy-check.sh").read_text(encoding="utf-8")
    for step in ('aws-sam-cli==$SAM_CLI_VERSION', "sam\" validate --lint", "sam\" build",
                 "infra/deploy_check.py", "out/bench.json", "pyenv prefix 3.13", "exit 2",
                 "PLATFORMS="):
        assert step in script, step
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "deploy-check:\n\tinfra/deploy-check.sh\n" in makefile
    commands = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
                .splitlines() if line.strip().startswith("make ")]
    assert commands == ["make test-newer-python", "make test", "make deploy-check"]
