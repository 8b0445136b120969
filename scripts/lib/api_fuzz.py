"""Helpers of scripts/api-fuzz.sh, run with the Python of its virtual environment.

    api_fuzz.py seed --server URL --tokens DIR --out SEED.json --config schemathesis.toml
        Loads demo-like data through the API (procedures, a household, documents, a share, a
        submitted request and a draft, notifications) and writes the ids it created, and a
        schemathesis configuration that feeds those ids to the operations' path parameters.

    api_fuzz.py report --runs DIR --out-md FILE --out-json FILE --commit SHA --version V ...
        Turns the schemathesis JSON reports and the server's request counters of each run into
        bench/api-fuzz.md and bench/api-fuzz.json.

Standard library plus `requests` (a dependency of schemathesis, hence in the same venv).
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import json
import os
import re
import struct
import sys
import zlib

# --------------------------------------------------------------------------- sample files


def pdf(text: str) -> bytes:
    """A valid one-page PDF showing `text` (ASCII), with a correct cross-reference table."""
    content = f"BT /F1 24 Tf 72 760 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def png(width: int = 32, height: int = 40) -> bytes:
    """A valid RGB PNG (a grey gradient)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes((x * 7 + y * 3) % 256 for x in range(width) for _ in range(3)) for y in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# --------------------------------------------------------------------------- seeding


class Api:
    def __init__(self, server: str, token: str, who: str):
        import requests

        self.base = server.rstrip("/") + "/api/v1"
        self.s = requests.Session()
        self.s.headers["Authorization"] = f"Bearer {token}"
        self.who = who

    def call(self, method: str, path: str, expect: tuple[int, ...] = (200, 201, 204), **kw):
        r = self.s.request(method, self.base + path, timeout=60, **kw)
        if r.status_code not in expect:
            sys.exit(f"seed: {self.who} {method} {path} answered {r.status_code}: {r.text[:500]}")
        if r.status_code == 204 or not r.content:
            return None
        return r.json()

    def upload(self, type_code: str, name: str, data: bytes, mime: str, **fields):
        form = {"type": type_code, **fields}
        return self.call("POST", "/documents", data=form, files={"file": (name, data, mime)})


def seed(args: argparse.Namespace) -> None:
    tok = {role: open(os.path.join(args.tokens, role)).read().strip() for role in ("citizen", "agent", "manager", "admin")}
    citizen = Api(args.server, tok["citizen"], "citizen")
    agent = Api(args.server, tok["agent"], "agent")
    admin = Api(args.server, tok["admin"], "admin")
    today = dt.date.today()
    later = (today + dt.timedelta(days=200)).isoformat()

    # The procedures of the demo tenant, through the admin API.
    procedures = json.load(open(args.procedures, encoding="utf-8"))
    for p in procedures:
        admin.call("PUT", f"/procedures/{p['code']}", json=p)

    # A household: a child (kept) and a lodger (for the DELETE route).
    leo = citizen.call("POST", "/household-members", json={"name": "Léo Martin", "birth_date": "2019-05-04", "relation": "enfant"})
    lodger = citizen.call("POST", "/household-members", json={"name": "Sacha Bernard", "relation": "hébergé"})

    # Documents: kept ones, and ones the fuzzer may delete.
    domicile = citizen.upload("justificatif-domicile", "facture-edf.pdf", pdf("Facture EDF"), "application/pdf", title="Facture EDF")
    citizen.call("PUT", f"/documents/{domicile['id']}/content", files={"file": ("facture-edf-2.pdf", pdf("Facture EDF v2"), "application/pdf")})
    identite = citizen.upload(
        "carte-nationale-identite", "cni.pdf", pdf("Carte nationale d'identite"), "application/pdf",
        valid_until=(today + dt.timedelta(days=3000)).isoformat(),
    )
    photo = citizen.upload("photo-identite", "photo.png", png(), "image/png")
    vaccins = citizen.upload("carnet-vaccination", "vaccins.pdf", pdf("Vaccinations"), "application/pdf", subject=leo["id"])
    livret = citizen.upload("livret-famille", "livret.pdf", pdf("Livret de famille"), "application/pdf", metadata='{"pages": 4}')
    doomed_docs = [
        citizen.upload("attestation-assurance-habitation", f"assurance-{i}.pdf", pdf(f"Assurance {i}"), "application/pdf")["id"]
        for i in range(2)
    ]

    # Shares: one kept, one for the DELETE route.
    grant = citizen.call("POST", "/grants", json={"domain": "scolaire", "types": ["justificatif-domicile"], "purpose": "Inscription scolaire", "until": later})
    doomed_grant = citizen.call("POST", "/grants", json={"domain": "etat-civil", "documents": [identite["id"]], "purpose": "Acte de naissance", "until": later})

    # A request submitted to the agent's domain, and a draft.
    answers = {"separated_parents": False, "canteen": False, "school_year": f"{today.year}-{today.year + 1}"}
    submitted = citizen.call("POST", "/requests", json={"procedure": "inscription-scolaire", "answers": answers, "members": [leo["id"]]})
    fits = {"justificatif-domicile": domicile, "carte-nationale-identite": identite, "carnet-vaccination": vaccins, "livret-famille": livret}
    requirement_ids = []
    for req in submitted["requirements"]:
        requirement_ids.append(req["id"])
        doc = fits.get(req["type"])
        if doc is not None:
            citizen.call("PUT", f"/requests/{submitted['id']}/attachments/{req['id']}", json={"document": doc["id"]})
    submitted = citizen.call("POST", f"/requests/{submitted['id']}/transitions", json={"to": "submitted"})
    draft = citizen.call("POST", "/requests", json={"procedure": "inscription-scolaire", "answers": answers, "members": []})
    requirement_ids += [r["id"] for r in draft["requirements"] if r["id"] not in requirement_ids]

    # The agent looks at the request (journalled reads) and leaves a note visible to the citizen.
    agent.call("GET", f"/requests/{submitted['id']}")
    agent.call("POST", f"/requests/{submitted['id']}/lock")
    agent.call("POST", f"/requests/{submitted['id']}/notes", json={"body": "Dossier reçu, merci.", "visible": True})
    agent.call("DELETE", f"/requests/{submitted['id']}/lock")

    notifications = [n["id"] for who in (citizen, agent) for n in (who.call("GET", "/notifications") or {}).get("items", []) if "id" in n]
    providers = [p["id"] for p in citizen.call("GET", "/providers") or []]
    types = [t["code"] for t in citizen.call("GET", "/document-types")]

    ids = {
        "documents": [domicile["id"], identite["id"], photo["id"], vaccins["id"], livret["id"]],
        "doomed_documents": doomed_docs,
        "members": [leo["id"]],
        "doomed_members": [lodger["id"]],
        "grants": [grant["id"]],
        "doomed_grants": [doomed_grant["id"]],
        "requests": [submitted["id"], draft["id"]],
        "requirements": requirement_ids,
        "citizens": [submitted["citizen_id"]],
        "notifications": notifications,
        "providers": providers,
        "tracking": [submitted.get("tracking_code") or "inconnu"],
        "types": types[:8],
        "procedures": [p["code"] for p in procedures],
        "versions": [1, 2],
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(ids, f, indent=1)
    with open(args.config, "w", encoding="utf-8") as f:
        f.write(schemathesis_config(ids, args.probability))
    print(
        f"seed: {len(procedures)} procedures, 2 household members, {len(ids['documents']) + len(doomed_docs)} documents, "
        f"2 shares, 2 requests (one submitted), {len(notifications)} notifications",
        file=sys.stderr,
    )


def toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def schemathesis_config(ids: dict, probability: float) -> str:
    """Dictionaries of real ids, bound to the path parameters of the operations they fit.

    The generated values still come through (1 - probability of the time), so unknown ids keep
    being tested; DELETE routes get their own throw-away ids so that the other operations keep
    finding something to work on."""
    lines = ["# Written by scripts/lib/api_fuzz.py seed: real ids for the path parameters.", ""]
    for name, values in ids.items():
        if not values:
            values = ["inexistant"]
        rendered = ", ".join(str(v) if isinstance(v, int) else toml_str(v) for v in values)
        lines += [f"[dictionaries.{name}]", f"values = [{rendered}]", ""]

    def bind(filters: dict, params: dict) -> None:
        lines.append("[[operations]]")
        for k, v in filters.items():
            lines.append(f"{k} = {toml_str(v)}")
        inner = ", ".join(f'"{p}" = {{ dictionary = "{d}", probability = {probability} }}' for p, d in params.items())
        lines.extend([f"parameters = {{ {inner} }}", ""])

    bind({"include-path-regex": r"^/documents/\{id\}", "exclude-method": "DELETE"}, {"path.id": "documents", "path.version": "versions"})
    bind({"include-path": "/documents/{id}", "include-method": "DELETE"}, {"path.id": "doomed_documents"})
    bind({"include-path-regex": r"^/requests/\{id\}"}, {"path.id": "requests", "path.requirement": "requirements"})
    bind({"include-path": "/citizens/{id}/documents"}, {"path.id": "citizens"})
    bind({"include-path": "/household-members/{id}"}, {"path.id": "doomed_members"})
    bind({"include-path": "/grants/{id}"}, {"path.id": "doomed_grants"})
    bind({"include-path": "/notifications/{id}/read"}, {"path.id": "notifications"})
    bind({"include-path": "/providers/{id}/consent"}, {"path.id": "providers"})
    bind({"include-path": "/tracking/{code}"}, {"path.code": "tracking"})
    bind({"include-path": "/document-types/{code}"}, {"path.code": "types"})
    bind({"include-path": "/procedures/{code}"}, {"path.code": "procedures"})
    return "\n".join(lines)


# --------------------------------------------------------------------------- report

# Failure codes of schemathesis 4 and the check that raises each.
CHECK_OF_CODE = {
    "ST101": "not_a_server_error",
    "ST102": "not_a_server_error",
    "ST103": "status_code_conformance",
    "ST104": "content_type_conformance",
    "ST105": "content_type_conformance",
    "ST106": "content_type_conformance",
    "ST107": "response_headers_conformance",
    "ST108": "response_schema_conformance",
    "ST109": "response_schema_conformance",
    "ST110": "response_schema_conformance",
    "ST111": "response_schema_conformance",
    "ST112": "max_response_time",
    "ST201": "negative_data_rejection",
    "ST202": "positive_data_acceptance",
    "ST203": "missing_required_header",
    "ST204": "unsupported_method",
    "ST205": "allow_header_conformance",
    "ST301": "use_after_free",
    "ST302": "ensure_resource_availability",
    "ST401": "ignored_auth",
    "ST402": "object_level_authorization",
}

METRIC = re.compile(r'^liasse_http_requests_total\{([^}]*)\}\s+([0-9.eE+]+)$')


def counters(path: str) -> dict[str, int]:
    """Requests the server answered, by status, from a /metrics snapshot."""
    out: dict[str, int] = {}
    if not os.path.exists(path):
        return out
    for line in open(path, encoding="utf-8"):
        m = METRIC.match(line.strip())
        if not m:
            continue
        labels = dict(kv.split("=", 1) for kv in m.group(1).split(","))
        status = labels.get("status", "").strip('"')
        out[status] = out.get(status, 0) + int(float(m.group(2)))
    return out


def run_summary(run_dir: str) -> dict:
    reports = sorted(glob.glob(os.path.join(run_dir, "report", "*.json")))
    if not reports:
        return {"error": "no schemathesis report (the run did not finish)"}
    r = json.load(open(reports[-1], encoding="utf-8"))
    before, after = counters(os.path.join(run_dir, "metrics.before")), counters(os.path.join(run_dir, "metrics.after"))
    by_status = {s: after.get(s, 0) - before.get(s, 0) for s in sorted(set(after) | set(before))}
    by_status = {s: n for s, n in by_status.items() if n}
    # The snapshot request itself is counted once in "after".
    if by_status.get("200"):
        by_status["200"] -= 1
    failures = []
    by_check: dict[str, int] = {}
    for f in r.get("failures", []):
        check = CHECK_OF_CODE.get(f.get("code", ""), f.get("type", "?"))
        by_check[check] = by_check.get(check, 0) + int(f.get("count", 0))
        failures.append({"code": f.get("code"), "check": check, "title": f.get("title"), "count": f.get("count"), "operations": f.get("operations", [])})
    return {
        "operations": r["operations"],
        "test_cases": r["test_cases"],
        "phases": {k: v.get("status") for k, v in r.get("phases", {}).items()},
        "seconds": round(r.get("running_time", 0), 1),
        "stop_reason": r.get("stop_reason"),
        "exit_code": r.get("exit_code"),
        "errors": [e.get("title") or e.get("message") or str(e) for e in r.get("errors", [])],
        "failures_by_check": by_check,
        "failures": failures,
        "http_calls": sum(by_status.values()),
        "http_calls_by_status": by_status,
        "server_errors": sum(n for s, n in by_status.items() if s.startswith("5")),
    }


def report(args: argparse.Namespace) -> None:
    roles = args.roles.split(",")
    runs = {role: run_summary(os.path.join(args.runs, role)) for role in roles}
    seed_ids = json.load(open(args.seed, encoding="utf-8")) if args.seed and os.path.exists(args.seed) else {}
    total_failures = sum(sum(r.get("failures_by_check", {}).values()) for r in runs.values())
    total_errors = sum(len(r.get("errors", [])) + (1 if "error" in r else 0) for r in runs.values())
    data = {
        "date": args.date,
        "commit": args.commit,
        "uncommitted_changes": [d for d in args.dirty.split(",") if d],
        "machine": args.machine,
        "schemathesis": args.version,
        "seed": int(args.seed_value),
        "max_examples": int(args.max_examples),
        "checks": args.checks.split(","),
        "excluded_checks": [c for c in args.excluded.split(",") if c],
        "phases": args.phases.split(","),
        "wall_seconds": int(args.wall_seconds),
        "failures": total_failures,
        "errors": total_errors,
        "runs": runs,
    }
    with open(args.out_json, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, ensure_ascii=False)
        f.write("\n")

    md = []
    md.append("# API fuzzing: latest results\n")
    md.append(
        "Written by [`scripts/api-fuzz.sh`](../scripts/api-fuzz.sh) (see [README.md](README.md#api-fuzzing)); "
        "every number below comes from the run that wrote this file.\n"
    )
    md.append(f"- Date: {args.date}")
    dirty = data["uncommitted_changes"]
    md.append(f"- Commit: `{args.commit}`" + (f" plus uncommitted changes in {', '.join(dirty)}" if dirty else ""))
    md.append(f"- Machine: {args.machine}")
    md.append(f"- schemathesis {args.version}, seed {args.seed_value}, at most {args.max_examples} examples per operation and phase, phases {', '.join(data['phases'])}")
    md.append(f"- Checks: {', '.join(data['checks'])}")
    md.append("  (object_level_authorization needs several identities in one run, so it checks nothing here; "
              "cross-account access is walked by `crates/liasse/tests/it/access.rs`)")
    if data["excluded_checks"]:
        md.append(f"- Not run: {', '.join(data['excluded_checks'])} (why: header of the script)")
    md.append(f"- Wall time of the whole script: {args.wall_seconds} s (build, set-up and the {len(roles)} runs)")
    if seed_ids:
        md.append(
            f"- Data: tenant `fuzz` with the French catalogue and {len(seed_ids.get('procedures', []))} procedures; the citizen has "
            f"{len(seed_ids.get('documents', [])) + len(seed_ids.get('doomed_documents', []))} documents, "
            f"{len(seed_ids.get('members', [])) + len(seed_ids.get('doomed_members', []))} household members, 2 shares, "
            "a request submitted to the agent's domain and a draft; real ids are fed to the path parameters"
        )
    md.append(f"- Result: **{'PASS' if total_failures == 0 and total_errors == 0 else 'FAIL'}**, {total_failures} failure(s), {total_errors} error(s)\n")

    md.append("| token | operations tested | test cases | HTTP calls answered | 2xx | 4xx | 5xx | failures | time (s) |")
    md.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for role, r in runs.items():
        if "error" in r:
            md.append(f"| {role} | {r['error']} | | | | | | | |")
            continue
        st = r["http_calls_by_status"]
        cls = lambda c: sum(n for s, n in st.items() if s.startswith(c))  # noqa: E731
        md.append(
            f"| {role} | {r['operations']['tested']}/{r['operations']['total']} | {r['test_cases']['generated']} | "
            f"{r['http_calls']} | {cls('2')} | {cls('4')} | {cls('5')} | {sum(r['failures_by_check'].values())} | {r['seconds']} |"
        )
    md.append("")
    md.append("Test cases are those schemathesis generated (all phases, stateful steps included); HTTP calls "
              "are the requests the server answered during the run, by its own count (`liasse_http_requests_total` "
              "of `/metrics`, read before and after), so they also include schemathesis's download of the "
              "document and any extra request a check makes.\n")

    md.append("## Failures by check\n")
    checks = data["checks"]
    md.append("| check | " + " | ".join(roles) + " |")
    md.append("| --- | " + " | ".join("---" for _ in roles) + " |")
    for c in checks:
        md.append(f"| {c} | " + " | ".join(str(runs[r].get("failures_by_check", {}).get(c, 0)) for r in roles) + " |")
    md.append("")

    md.append("## Status codes answered\n")
    for role, r in runs.items():
        if "error" in r:
            continue
        md.append(f"- {role}: " + ", ".join(f"{s}: {n}" for s, n in r["http_calls_by_status"].items()))
    md.append("")

    md.append("## Remaining failures\n")
    any_failure = False
    for role, r in runs.items():
        for f in r.get("failures", []):
            any_failure = True
            md.append(f"- {role}: {f['code']} {f['title']} ({f['check']}, {f['count']}): {', '.join(f['operations'])}")
        for e in r.get("errors", []):
            any_failure = True
            md.append(f"- {role}: error: {e}")
        if "error" in r:
            any_failure = True
            md.append(f"- {role}: {r['error']}")
    if not any_failure:
        md.append("None.")
    md.append("")
    with open(args.out_md, "w", encoding="utf-8") as f:
        f.write("\n".join(md))


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("seed")
    s.add_argument("--server", required=True)
    s.add_argument("--tokens", required=True)
    s.add_argument("--procedures", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--config", required=True)
    s.add_argument("--probability", type=float, default=0.75)
    r = sub.add_parser("report")
    for name in ("runs", "roles", "out-md", "out-json", "commit", "dirty", "version", "date", "seed-value",
                 "max-examples", "checks", "excluded", "phases", "wall-seconds", "machine"):
        r.add_argument(f"--{name}", required=True)
    r.add_argument("--seed")
    args = ap.parse_args()
    {"seed": seed, "report": report}[args.cmd](args)


if __name__ == "__main__":
    main()
