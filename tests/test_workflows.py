"""The GitHub Actions workflows: valid, and with no security findings.

Both tools run offline: check-jsonschema validates against the GitHub workflow
schema it ships (``vendor.github-workflows``), and zizmor audits without asking
GitHub (``--offline``), with its default persona. Every ``uses:`` is pinned by
commit SHA with its version in a comment, and every checkout drops its token.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_the_workflows_are_there():
    assert {path.name for path in WORKFLOWS} == {"test.yml", "weekly.yml"}


def test_workflows_match_the_github_workflow_schema():
    result = run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing():
    result = run([str(BIN / "zizmor"), "--offline", "--no-progress", ".github/workflows"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout, result.stdout + result.stderr


def test_every_action_is_pinned_by_sha_with_its_version_and_checkout_keeps_no_token():
    problems = []
    for path in WORKFLOWS:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if match := re.search(r"uses:\s*(\S+)(.*)", line):
                action, rest = match.groups()
                if not re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", action):
                    problems.append(f"{path.name}:{number}: {action} is not pinned by a full commit SHA")
                if not re.fullmatch(r"\s*# v\d+(\.\d+)*\s*", rest):
                    problems.append(f"{path.name}:{number}: {action} has no '# vX.Y.Z' comment")
        for name, job in yaml.safe_load(path.read_text())["jobs"].items():
            for step in job.get("steps", []):
                if step.get("uses", "").startswith("actions/checkout@"):
                    if step.get("with", {}).get("persist-credentials") is not False:
                        problems.append(f"{path.name}: job {name}: checkout without persist-credentials: false")
    assert not problems, "\n".join(problems)


def test_only_a_tested_build_is_published_and_only_the_deploy_job_may_write():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "test.yml").read_text())
    on_main = "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    assert workflow[True]["push"] == {"branches": ["main"]}  # YAML reads the key `on` as True
    assert workflow["permissions"] == {"contents": "read"}
    test, deploy = workflow["jobs"]["make-test"], workflow["jobs"]["deploy"]
    # The published folder is the one `make test` built and tested, in the same job, after it.
    steps = [step.get("run") or step.get("uses", "").split("@")[0] for step in test["steps"]]
    assert steps.index("make test") < steps.index("actions/upload-pages-artifact")
    upload = test["steps"][steps.index("actions/upload-pages-artifact")]
    assert upload["with"]["path"] == "_build/html" and upload["if"] == on_main
    assert "permissions" not in test and "make book" not in str(workflow)
    # The deploy job publishes only after that job passed, only from main, and is the only writer.
    assert deploy["needs"] == "make-test" and deploy["if"] == on_main
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert [step["uses"].split("@")[0] for step in deploy["steps"]] == ["actions/deploy-pages"]
    assert deploy["concurrency"] == {"group": "pages", "cancel-in-progress": False}
