"""Long-lived Python helper for cosec's evaluation: one JSON request a line on stdin, one JSON reply
a line on stdout. Requests: {"id", "op": "parse", "code"} checks syntax with `ast`;
{"id", "op": "analyze", "code"} runs the built-in analysis and returns findings: the taint pass
(taint.py), the pattern rules that still add signal on SVEN's training pairs (rules.py; each adds
more vulnerable than fixed pairs there) and the API rules for CWE-502/732/798 (api_rules.py);
{"id", "op": "taint", "code"} runs the taint pass alone.
Keeping one process avoids starting Python per sample."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import api_rules  # noqa: E402
import rules  # noqa: E402
import taint  # noqa: E402


def analyze(code):
    """(findings, fully_parsed) of every built-in Python analysis, one finding per (CWE, line, rule)."""
    tree, parsed = rules.tolerant_parse(code)
    if tree is None:
        return [], False
    # one parse for every pass
    return rules.unique_findings(taint.analyze_tree(tree) + api_rules.analyze_tree(tree) + rules.analyze_tree(tree)), parsed


def handle(req):
    op = req.get("op")
    code = req.get("code", "")
    if op == "parse":
        err = rules.syntax_error(code)
        return {"ok": err is None, "error": err}
    if op == "analyze":
        findings, parsed = analyze(code)
        return {"findings": findings, "parsed": parsed}
    if op == "taint":
        # the taint pass alone (its tests and measurements)
        findings, parsed = taint.analyze(code)
        return {"findings": findings, "parsed": parsed}
    if op == "ping":
        return {"pong": True}
    raise ValueError(f"unknown op {op!r}")


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        try:
            reply = handle(req)
        except Exception as exc:  # a bad request must not kill the worker serving the others
            reply = {"error": f"{type(exc).__name__}: {exc}", "failed": True}
        reply["id"] = req.get("id")
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
