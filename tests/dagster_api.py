"""Talking to a running Dagster webserver the way the UI does: its GraphQL API over HTTP."""

from __future__ import annotations

import json
import time
import urllib.request

LOCATION = "zengshou"
REPOSITORY = "__repository__"
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}

LAUNCH_RUN = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on InvalidStepError { invalidStepKey }
    ... on InvalidOutputError { invalidOutputName }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on UnauthorizedError { message }
    ... on PipelineNotFoundError { message }
    ... on InvalidSubsetError { message }
  }
}"""

LAUNCH_BACKFILL = """
mutation Backfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on PartitionSetNotFoundError { message }
    ... on UnauthorizedError { message }
  }
}"""

RUNS = """{ runsOrError(limit: 200) { ... on Runs { results { runId jobName status tags { key value } } } } }"""
BACKFILL = """query B($id: String!) { partitionBackfillOrError(backfillId: $id) {
  ... on PartitionBackfill { status } ... on PythonError { message } } }"""


class Api:
    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/graphql"

    def query(self, query: str, variables: dict | None = None) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.loads(response.read())
        if answer.get("errors"):
            raise AssertionError(f"GraphQL errors: {answer['errors']}")
        return answer["data"]

    def launch(self, job: str, assets: list[list[str]] | None = None, partition: str | None = None) -> str:
        params: dict = {"selector": {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY,
                                     "jobName": job},
                        "runConfigData": {}, "mode": "default",
                        "executionMetadata": {"tags": [{"key": "zengshou/test", "value": "ui"}]}}
        if assets is not None:
            params["selector"]["assetSelection"] = [{"path": p} for p in assets]
        if partition is not None:
            params["executionMetadata"]["tags"].append({"key": "dagster/partition", "value": partition})
        answer = self.query(LAUNCH_RUN, {"params": params})["launchRun"]
        assert answer["__typename"] == "LaunchRunSuccess", answer
        return answer["run"]["runId"]

    def backfill(self, assets: list[list[str]], partitions: list[str]) -> str:
        params = {"assetSelection": [{"path": p} for p in assets], "partitionNames": partitions,
                  "tags": [{"key": "zengshou/test", "value": "ui-backfill"}]}
        answer = self.query(LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
        assert answer["__typename"] == "LaunchBackfillSuccess", answer
        return answer["backfillId"]

    def backfill_status(self, backfill_id: str) -> str | None:
        return self.query(BACKFILL, {"id": backfill_id})["partitionBackfillOrError"].get("status")

    def runs(self) -> list[dict]:
        results = self.query(RUNS)["runsOrError"]["results"]
        for r in results:
            r["tags"] = {t["key"]: t["value"] for t in r["tags"]}
        return results

    def wait_until(self, predicate, timeout: float, what: str, poll: float = 3.0):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; runs: "
                                     f"{[(r['jobName'], r['status']) for r in self.runs()]}")
            time.sleep(poll)
