"""The bare pages' views: the rows each recorded statement returned, turned into what the
template shows (the same rows the app's page shows: tabs and 25 cases, one case with its
materials and timeline, the centres × months grid with its rates, one card per centre).
A statement is found by the tables and columns in its SQL, so PostgreSQL's and SQLite's
texts both match."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from tests.bench.load.capture import Statement

Results = list[tuple[Statement, Sequence[Any]]]

STATES = {
    "registered": "已登记",
    "supplement": "待补正",
    "accepted": "已受理",
    "review": "审核中",
    "decision": "待审批",
    "concluded": "已办结",
    "delivered": "已送达",
    "refused": "不予受理",
    "returned": "已退回",
}
LIGHTS = {"green": "绿灯", "yellow": "黄灯", "red": "红灯"}
KINDS = {"immediate": "即办件", "promised": "承诺件", "joint": "联办件", "escalated": "上报件"}
CELLS = {
    "none": "未填报",
    "draft": "草稿",
    "on_time": "按时报送",
    "late": "逾期报送",
    "returned": "已退回",
    "approved": "已审核",
}
TABS = ("我的办件", "本窗口办件", "本中心", "上报本级", "多次告知", "全部中心")


def _all(results: Results, *needles: str, without: str = "") -> list[Sequence[Any]]:
    out = []
    for statement, rows in results:
        sql = statement.sql.replace('"', "")
        if all(n in sql for n in needles) and not (without and without in sql):
            out.append(rows)
    return out


def _rows(results: Results, *needles: str, without: str = "") -> Sequence[Any]:
    found = _all(results, *needles, without=without)
    return found[0] if found else []


def _unread(results: Results) -> int:
    rows = _rows(results, "FROM inbox_item")
    return int(rows[0]["count"]) if rows else 0


def _centres(results: Results) -> list[Any]:
    tree = _rows(results, "FROM tenant", without="WHERE")
    return [t for t in tree if t["kind"] in ("regiment", "community")]


def mask_name(name: str) -> str:
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


def mask_id(value: str) -> str:
    return value[:6] + "*" * max(0, len(value) - 10) + value[-4:] if len(value) > 10 else value


def mask_phone(value: str) -> str:
    return value[:3] + "****" + value[-4:] if len(value) >= 7 else value


def _pct(n: int, d: int) -> Decimal | None:
    return None if not d else (Decimal(100 * n) / d).quantize(Decimal("0.1"))


def case_list(results: Results) -> dict[str, Any]:
    counts = [int(r[0]["count"]) for r in _all(results, "COUNT(*) AS count FROM service_case")]
    rows = []
    for r in _rows(results, "service_case.queue_tenant_id AS queue_tenant_id"):
        row = dict(r)
        person = row["applicant_kind"] == "person"
        row["applicant"] = (
            mask_name(row["applicant_name"] or "") if person else row["applicant_name"]
        )
        row["id_masked"] = mask_id(row["id_number"] or "")
        row["phone_masked"] = mask_phone(row["phone"] or "")
        rows.append(row)
    total = counts[-1] if counts else 0
    return {
        "tabs": list(zip(TABS, counts, strict=False)),
        "rows": rows,
        "total": total,
        "pages": max(1, (total + 24) // 25),
        "items": sorted({(r["item_code"], r["item_name"]) for r in _rows(results, "DISTINCT")}),
        "states": STATES,
        "lights": LIGHTS,
        "kinds": KINDS,
        "unread": _unread(results),
    }


def case_detail(results: Results) -> dict[str, Any]:
    found = _rows(results, "FROM service_case", "LIMIT 1")
    case = dict(found[0]) if found else {}
    files: dict[int, list[Any]] = {}
    for f in _rows(results, "FROM case_file"):
        files.setdefault(f["material_id"], []).append(f)
    return {
        "case": case,
        "applicant": {
            "name": mask_name(case.get("applicant_name") or ""),
            "id": mask_id(case.get("id_number") or ""),
            "phone": mask_phone(case.get("phone") or ""),
        },
        "materials": [(m, files.get(m["id"], [])) for m in _rows(results, "FROM case_material")],
        "documents": _rows(results, "FROM case_document"),
        "events": list(reversed(_rows(results, "FROM case_event"))),
        "departments": _rows(results, "FROM department"),
        "states": STATES,
        "lights": LIGHTS,
        "kinds": KINDS,
        "unread": _unread(results),
    }


def _cell(status: str | None, on_time: Any) -> str:
    if status is None:
        return "none"
    if status in ("draft", "returned", "approved"):
        return status
    return "on_time" if on_time in (True, 1) else "late"


def report_grid(results: Results) -> dict[str, Any]:
    statement = next((s for s, _ in results if "month >=" in s.sql and "submission" in s.sql), None)
    first, last = (statement.args[1], statement.args[2]) if statement else (0, 0)
    periods = _rows(results, "FROM report_period")
    months = sorted({int(p["month"]) for p in periods if first <= int(p["month"]) <= last})
    centres = _centres(results)
    found = _rows(results, "FROM submission", "month >=")
    cells = {(r["tenant_id"], int(r["month"])): _cell(r["status"], r["on_time"]) for r in found}
    timely = {(r["tenant_id"], int(r["month"])) for r in found if r["on_time"] in (True, 1)}
    filed = {"on_time", "late", "approved"}

    def rates(keys: list[tuple[int, int]]) -> dict[str, Any]:
        states = Counter(cells.get(k, "none") for k in keys)
        n_filed = sum(states[s] for s in filed)
        n_timely = sum(1 for k in keys if k in timely)
        return {
            "filed": n_filed,
            "on_time": n_timely,
            "expected": len(keys),
            "filed_rate": _pct(n_filed, len(keys)),
            "on_time_rate": _pct(n_timely, len(keys)),
        }

    return {
        "forms": _rows(results, "FROM report_form"),
        "months": months,
        "centres": [
            (
                c,
                [cells.get((c["id"], m), "none") for m in months],
                rates([(c["id"], m) for m in months]),
            )
            for c in centres
        ],
        "by_month": [rates([(c["id"], m) for c in centres]) for m in months],
        "overall": rates([(c["id"], m) for c in centres for m in months]),
        "waiting": _rows(results, "FROM submission", "status IN"),
        "names": {c["id"]: c["name"] for c in centres},
        "labels": CELLS,
        "unread": _unread(results),
    }


def supervision(results: Results) -> dict[str, Any]:
    lights: Counter[tuple[int, str]] = Counter()
    for r in _rows(results, "GROUP BY service_case.tenant_id"):
        if r["legal_exceeded"]:
            lights[(r["tenant_id"], "legal")] += int(r["n"])
        lights[(r["tenant_id"], r["light"])] += int(r["n"])
    stats = {r["tenant_id"]: r for r in _rows(results, "FROM case_month_stat")}
    rect = _all(results, "FROM rectification")
    open_rect = {r["tenant_id"]: int(r["n"]) for r in (rect[0] if rect else [])}
    late_rect = {r["tenant_id"]: int(r["n"]) for r in (rect[1] if len(rect) > 1 else [])}
    reports = {
        r["tenant_id"]: _cell(r["status"], r["on_time"]) for r in _rows(results, "FROM submission")
    }
    inspections: dict[int, Any] = {}
    for r in _rows(results, "FROM inspection"):
        inspections.setdefault(r["tenant_id"], r)
    cards = []
    for c in _centres(results):
        s = stats.get(c["id"])
        good = (s["level_5"] + s["level_4"] + s["level_3"]) if s else 0
        cards.append(
            {
                "centre": c,
                "overdue": lights[(c["id"], "red")],
                "due_soon": lights[(c["id"], "yellow")],
                "legal": lights[(c["id"], "legal")],
                "on_time_rate": _pct(s["on_time"], s["concluded"]) if s else None,
                "good_rate": _pct(good, s["rated"]) if s else None,
                "unrated_rate": _pct(s["unrated"], s["concluded"]) if s else None,
                "open_rect": open_rect.get(c["id"], 0),
                "late_rect": late_rect.get(c["id"], 0),
                "report": reports.get(c["id"], "none"),
                "inspection": inspections.get(c["id"]),
            }
        )
    return {
        "cards": cards,
        "totals": {
            k: sum(c[k] for c in cards) for k in ("overdue", "due_soon", "open_rect", "late_rect")
        },
        "labels": CELLS,
        "unread": _unread(results),
    }


VIEWS: dict[str, tuple[Callable[[Results], dict[str, Any]], str]] = {
    "case list": (case_list, "case_list.html"),
    "case detail": (case_detail, "case_detail.html"),
    "report grid": (report_grid, "report_grid.html"),
    "supervision": (supervision, "supervision.html"),
}
