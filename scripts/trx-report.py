#!/usr/bin/env python3
"""Summarise the .trx files written by .ci/run and decide whether CI passes.

Usage: trx-report.py RESULTS_DIR [--gateway expected|skipped]

File names in RESULTS_DIR (set by .ci/run):
  unit-<project>.trx              tests/ projects
  compat-<suite>-rabbitmq.trx     compat suite against RabbitMQ
  compat-<suite>-gateway.trx      compat suite against the gateway
  expected.txt                    one line per run that was started (the trx name); a missing trx is a failure

Prints a scenario x broker table, the reasons for failing, and as its LAST line
'N passed, N failed' over every test result. Exits 1 when:
  - a tests/ test failed (or its run left no trx);
  - a compat scenario failed on RabbitMQ (a broken scenario), or was skipped there for another reason than a
    missing community plugin (skip reason "needs-plugin ...", then it must pass on the gateway);
  - a scenario that passes on RabbitMQ does not pass on the gateway (when the gateway run is expected).
"""
import argparse
import pathlib
import re
import sys
import xml.etree.ElementTree as ET

SUITE_LABELS = {"CompatSuite": "7.x", "CompatSuite.Client6": "6.x"}


# A scenario skipped on RabbitMQ with a reason starting so needs a community plugin that Debian's RabbitMQ does not
# ship (e.g. rabbitmq_delayed_message_exchange); it is not broken, as long as it passes on the gateway.
PLUGIN_SKIP = "needs-plugin "


def read_trx(path):
    """testName -> outcome ('Passed', 'Failed', 'NotExecuted', 'PluginAbsent', ...). A theory row keeps its arguments."""
    root = ET.parse(path).getroot()
    ns = root.tag.split("}")[0] + "}" if root.tag.startswith("{") else ""
    results = {}
    for result in root.iter(f"{ns}UnitTestResult"):
        name = result.get("testName", "?")
        outcome = result.get("outcome", "Failed")
        if outcome == "NotExecuted":
            reason = result.find(f"{ns}Output/{ns}ErrorInfo/{ns}Message")
            if reason is not None and (reason.text or "").startswith(PLUGIN_SKIP):
                outcome = "PluginAbsent"
        # A repeated name (should not happen) keeps the worst outcome.
        if results.get(name) != "Failed":
            results[name] = outcome
    return results


def short_name(suite, test_name):
    prefix = suite + "."
    name = test_name[len(prefix):] if test_name.startswith(prefix) else test_name
    name = name.encode("unicode_escape").decode("ascii")
    return f"[{SUITE_LABELS.get(suite, suite)}] {name}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("results")
    parser.add_argument("--gateway", choices=["expected", "skipped"], default="expected")
    args = parser.parse_args()
    results_dir = pathlib.Path(args.results)
    expected_path = results_dir / "expected.txt"
    expected = [l.strip() for l in expected_path.read_text().splitlines() if l.strip()] if expected_path.exists() else []

    passed = failed = 0
    problems = []

    def count(outcome):
        nonlocal passed, failed
        if outcome == "Passed":
            passed += 1
        elif outcome == "Failed":
            failed += 1

    # tests/ projects
    unit_rows = []
    for name in sorted(n for n in expected if n.startswith("unit-")):
        path = results_dir / name
        project = name[len("unit-"):-len(".trx")]
        if not path.exists():
            problems.append(f"{project}: test run left no results (build or host crash?)")
            failed += 1
            unit_rows.append((project, 0, 1))
            continue
        outcomes = read_trx(path)
        p = sum(1 for o in outcomes.values() if o == "Passed")
        f = sum(1 for o in outcomes.values() if o == "Failed")
        passed += p
        failed += f
        unit_rows.append((project, p, f))
        for test, outcome in sorted(outcomes.items()):
            if outcome == "Failed":
                problems.append(f"{project}: {test} failed")
    if unit_rows:
        print("tests/ projects:")
        for project, p, f in unit_rows:
            print(f"  {project:<48} {p:>5} passed {f:>5} failed")
        print()

    # compat suites
    suites = sorted({re.sub(r"^compat-(.*)-(rabbitmq|gateway)\.trx$", r"\1", n) for n in expected if n.startswith("compat-")})
    rows = []
    for suite in suites:
        runs = {}
        for broker in ("rabbitmq", "gateway"):
            name = f"compat-{suite}-{broker}.trx"
            path = results_dir / name
            if name in expected and path.exists():
                runs[broker] = read_trx(path)
            elif name in expected:
                runs[broker] = None  # started but left nothing: every scenario counts as failed there
                problems.append(f"{suite} on {broker}: run left no results")
        rabbit = runs.get("rabbitmq") or {}
        gateway_run = runs.get("gateway", "not-run")
        for test in sorted(set(rabbit) | (set(gateway_run) if isinstance(gateway_run, dict) else set())):
            r = rabbit.get(test, "Missing" if "rabbitmq" in runs else "-")
            if gateway_run == "not-run":
                g = "skipped" if args.gateway == "skipped" else "Missing"
            elif gateway_run is None:
                g = "Missing"
            else:
                g = gateway_run.get(test, "Missing")
            rows.append((short_name(suite, test), r, g))
            count(r)
            if g == "Missing" and args.gateway == "expected":
                failed += 1
            else:
                count(g)
            if r not in ("Passed", "PluginAbsent"):
                problems.append(f"{short_name(suite, test)}: {r} on RabbitMQ (a broken scenario)")
            elif args.gateway == "expected" and g != "Passed":
                problems.append(f"{short_name(suite, test)}: passes on RabbitMQ, {g} on the gateway")

    if rows:
        width = max(len(r[0]) for r in rows)
        print(f"{'scenario':<{width}}  {'rabbitmq':<8}  gateway")
        print(f"{'-' * width}  {'-' * 8}  {'-' * 8}")
        for name, r, g in rows:
            print(f"{name:<{width}}  {label(r):<8}  {label(g)}")
        print()

    if args.gateway == "skipped":
        print("NOTE: the gateway run was SKIPPED (gateway/Gateway.Host does not exist yet).")
    if problems:
        print("FAILING because:")
        for problem in problems:
            print(f"  - {problem}")
    print(f"{passed} passed, {failed} failed")
    return 1 if problems or failed else 0


def label(outcome):
    return {"Passed": "pass", "Failed": "FAIL", "NotExecuted": "skip", "Missing": "MISSING", "PluginAbsent": "no-plugin"}.get(outcome, outcome)


if __name__ == "__main__":
    sys.exit(main())
