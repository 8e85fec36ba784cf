"""Reading a /metrics answer in the tests."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


class Samples:
    """The samples of one /metrics answer, by name and labels."""

    def __init__(self, text: str) -> None:
        self.values: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                key = (sample.name, frozenset(sample.labels.items()))
                self.values[key] = sample.value

    def get(self, name: str, **labels: str) -> float:
        """The value of the sample with exactly these labels; 0 if there is none yet."""
        return self.values.get((name, frozenset(labels.items())), 0.0)

    def changes(self, later: Samples) -> dict[str, float]:
        """Which of the app's counters moved between this answer and a later one, and
        by how much, as `name{label=value,...}` (the responses by status aside)."""
        moved = {}
        for key in self.values.keys() | later.values.keys():
            name, labels = key
            if not name.startswith("accounts_") or not name.endswith("_total"):
                continue
            if name == "accounts_http_responses_total":
                continue
            delta = later.values.get(key, 0.0) - self.values.get(key, 0.0)
            if delta:
                rendered = ",".join(f"{k}={v}" for k, v in sorted(labels))
                moved[f"{name}{{{rendered}}}"] = delta
        return moved


def read_metrics(client) -> Samples:
    """/metrics through a WebTest client (which must come from an allowed address)."""
    return Samples(client.get("/metrics").text)
