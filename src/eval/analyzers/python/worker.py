"""Long-lived Python helper for cosec's evaluation: one JSON request a line on stdin, one JSON reply
a line on stdout. Requests: {"id", "op": "parse", "code"} checks syntax with `ast`;
{"id", "op": "analyze", "code"} runs the built-in security rules (rules.py) and returns findings.
Keeping one process avoids starting Python per sample."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rules  # noqa: E402


def handle(req):
    op = req.get("op")
    code = req.get("code", "")
    if op == "parse":
        err = rules.syntax_error(code)
        return {"ok": err is None, "error": err}
    if op == "analyze":
        findings, parsed = rules.analyze(code)
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
