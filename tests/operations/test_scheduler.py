"""The scheduler as a user runs it: the real `dagster dev` (webserver + daemon) on a free loopback
port, with a temporary DAGSTER_HOME holding the repo's dagster.yaml and a REGIOCODE_HOME copied
from a refreshed home. Over its GraphQL API: the asset graph, the schedule and the sensors are
there; a run of the `refresh` job is launched and succeeds with the multiprocess executor; while
it runs, the DuckDB writers' pool holds at most one slot. Bounded waits; the process group is
killed at the end whatever happens."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .conftest import REPO_ROOT, copy_home, published_build, seed_other_source

pytestmark = pytest.mark.e2e
START_TIMEOUT_S = 300
RUN_TIMEOUT_S = 1200

REPOSITORY_QUERY = """
{ repositoriesOrError { __typename ... on RepositoryConnection { nodes {
    name location { name }
    jobs { name }
    schedules { name cronSchedule executionTimezone }
    sensors { name sensorState { status } }
} } } }
"""
ASSETS_QUERY = "{ assetNodes { assetKey { path } groupName } }"
LAUNCH = """
mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename
  ... on LaunchRunSuccess { run { runId } }
  ... on PythonError { message }
  ... on RunConfigValidationInvalid { errors { message } }
  ... on InvalidSubsetError { message }
} }
"""
RUN_QUERY = """
query($id: ID!) { runOrError(runId: $id) { __typename ... on Run {
  status
  stepStats { stepKey status }
} } }
"""
POOL_QUERY = """
{ instance {
  supportsConcurrencyLimits
  poolConfig { poolGranularity defaultPoolLimit }
  concurrencyLimit(concurrencyKey: "duckdb_writer") { slotCount activeSlotCount limit }
} }
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Dagster:
    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/graphql"

    def query(self, text: str, variables: dict | None = None) -> dict:
        body = json.dumps({"query": text, "variables": variables or {}}).encode()
        request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            payload = json.loads(response.read())
        assert "errors" not in payload, payload["errors"]
        return payload["data"]

    def ready(self) -> bool:
        try:
            data = self.query(REPOSITORY_QUERY)
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return False
        return data["repositoriesOrError"]["__typename"] == "RepositoryConnection"


@pytest.fixture(scope="module")
def dagster_dev(base_home: Path, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("dagster-dev")
    dagster_home = root / "dagster"
    dagster_home.mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    home = copy_home(base_home, root / "home")
    seed_other_source(home)  # new inputs: the run must rebuild and publish, not reuse the published build
    port = free_port()
    venv_bin = Path(sys.executable).parent
    # The virtualenv's bin is left off PATH, as a service started without it: dbt is found beside Python.
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p and Path(p) != venv_bin)
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home), "REGIOCODE_HOME": str(home), "REGIOCODE_SOURCES": "demo",
           "DAGSTER_DISABLE_TELEMETRY": "1", "PATH": path}
    log = open(root / "dagster-dev.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [str(venv_bin / "dagster"), "dev", "-m", "dagster_project.definitions", "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    client = Dagster(port)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not client.ready():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"dagster dev did not come up: {(root / 'dagster-dev.log').read_text()[-3000:]}")
            time.sleep(1)
        yield client, home
    finally:
        for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 30)):
            try:
                os.killpg(proc.pid, sig)
                proc.wait(timeout=wait)
                break
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue
        log.close()


def test_graph_schedule_and_sensors_are_served(dagster_dev) -> None:
    client, _ = dagster_dev
    repo = client.query(REPOSITORY_QUERY)["repositoriesOrError"]["nodes"][0]
    assert {"refresh", "rosstat_inbox_refresh", "eurostat_inbox_refresh"} <= {j["name"] for j in repo["jobs"]}
    schedules = {s["name"]: s for s in repo["schedules"]}
    assert schedules["monthly_refresh"]["cronSchedule"] == "0 3 1 * *"
    sensors = {s["name"]: s["sensorState"]["status"] for s in repo["sensors"]}
    assert sensors["rosstat_inbox_sensor"] == "RUNNING" and sensors["eurostat_inbox_sensor"] == "RUNNING"
    assert "source_freshness_sensor" in sensors
    keys = {"/".join(n["assetKey"]["path"]) for n in client.query(ASSETS_QUERY)["assetNodes"]}
    assert {"demo_source", "rosstat_source", "eurostat_source", "raw_observations", "marts/defining_codes",
            "marts/basic_code", "published_warehouse", "briefings"} <= keys


def test_refresh_run_succeeds_with_one_duckdb_writer_at_a_time(dagster_dev) -> None:
    client, home = dagster_dev
    before = published_build(home)
    repo = client.query(REPOSITORY_QUERY)["repositoriesOrError"]["nodes"][0]
    params = {"selector": {"repositoryLocationName": repo["location"]["name"], "repositoryName": repo["name"],
                           "jobName": "refresh"}, "runConfigData": {}}
    launched = client.query(LAUNCH, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    deadline, status, active_seen, pool = time.monotonic() + RUN_TIMEOUT_S, "", set(), {}
    while time.monotonic() < deadline:
        run = client.query(RUN_QUERY, {"id": run_id})["runOrError"]
        status = run["status"]
        pool = client.query(POOL_QUERY)["instance"]
        active_seen.add(pool["concurrencyLimit"]["activeSlotCount"])
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        time.sleep(1)
    steps = {s["stepKey"]: s["status"] for s in run["stepStats"]}
    assert status == "SUCCESS", steps
    assert {"demo_source", "raw_layer", "raw_observation_checks", "regiocode_dbt_assets", "published_warehouse",
            "briefings"} <= set(steps)
    assert set(steps.values()) == {"SUCCESS"}
    # The pool is live with the multiprocess executor and never lets two writers in.
    assert pool["supportsConcurrencyLimits"] and pool["poolConfig"]["defaultPoolLimit"] == 1
    assert pool["concurrencyLimit"]["slotCount"] == 1
    assert max(active_seen) == 1  # a writer held the slot, and never two
    assert published_build(home) == run_id.split("-")[0] != before
