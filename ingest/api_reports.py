"""GET /v1/reports/... (JSON or CSV) and the dashboard page, for the admin token only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from aitally.ingest import levels as level_reports
from aitally.ingest import reports
from aitally.ingest.api_people import record_read
from aitally.ingest.auth import AdminAuth, AdminPageAuth
from aitally.ingest.context import Context
from aitally.ingest.dashboard import Filters, render_dashboard
from aitally.ingest.responses import problem, problems
from aitally.ingest.storage import StorageBusy

router = APIRouter(dependencies=[AdminAuth])  # every report answers the admin only
pages = APIRouter(dependencies=[AdminPageAuth])  # the same for browsers (Basic challenge)
Format = Literal["json", "csv"]
Granularity = Literal["day", "week", "month"]
_REPORT_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "text/csv": {"schema": {"type": "string"}},
        }
    },
    **problems(400, 401, 429, 503),
}


async def _answer(
    request: Request, fmt: str, build: Callable[[Context], dict[str, Any]]
) -> Response:
    ctx: Context = request.app.state.ctx

    def read() -> dict[str, Any]:
        doc = build(ctx)
        record_read(ctx, request, f"report.{doc['report']}", dict(request.query_params))
        return doc

    try:
        doc = await run_in_threadpool(read)
    except reports.ReportError as exc:
        return problem(400, str(exc))
    except StorageBusy as exc:
        return problem(503, f"reports busy: {exc}")
    if fmt == "csv":
        return PlainTextResponse(reports.to_csv(doc), media_type="text/csv")
    return JSONResponse(doc)


def _period_route(name: str) -> Callable[..., Any]:
    """adoption and usage take the same parameters: whole periods between since and until."""

    async def endpoint(
        request: Request,
        granularity: Granularity = "week",
        since: dt.date | None = None,
        until: dt.date | None = None,
        format: Format = "json",
    ) -> Response:
        return await _answer(
            request,
            format,
            lambda c: c.reports.period_report(
                name, granularity, since, until, c.settings.min_group_size
            ),
        )

    return endpoint


for _name, _summary in (
    ("adoption",
     "Active people per day, ISO week or month, per tool and org unit; small groups merged."),
    ("usage",
     "Active time, sessions and tokens per tool, and tokens per tool and model (CSV: tools)."),
    ("effectiveness",
     "Acceptance, lines per active hour, kept-change share, failure rate and commits with AI "
     "per active person-week, per week or month, tool and org unit (docs/measuring.md)."),
):  # fmt: skip
    router.add_api_route(
        f"/v1/reports/{_name}",
        _period_route(_name),
        methods=["GET"],
        name=_name,
        description=_summary,
        responses=_REPORT_DOC,
    )


@router.get("/v1/reports/levels", responses=_REPORT_DOC)
async def levels(
    request: Request,
    recipe: Literal["volume", "consistency", "depth", "absolute"] = "volume",
    as_of: dt.date | None = None,
    tool: str | None = Query(None, max_length=64),
    format: Format = "json",
) -> Response:
    """How many people are at each usage level, per org unit (versioned recipes)."""
    return await _answer(
        request,
        format,
        lambda c: c.reports.levels(recipe, as_of, tool, c.settings.min_group_size),
    )


def _day(name: str, text: str) -> dt.date | None:
    """A date filter of the dashboard form; empty: none."""
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise reports.ReportError(f"{name}: {text[:16]!r} is not a date; use YYYY-MM-DD") from None


@pages.get(
    "/dashboard",
    response_class=HTMLResponse,
    responses={
        400: {"content": {"application/json": {"schema": {"type": "object"}}}},
        401: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        429: {"content": {"application/json": {"schema": {"type": "object"}}}},
    },
)
async def dashboard(
    request: Request,
    granularity: Literal["week", "month"] = "week",
    since: str = Query("", max_length=10),
    until: str = Query("", max_length=10),
    tool: str = Query("", max_length=64),
    org_unit: str = Query("", max_length=128),
) -> Response:
    """Adoption, levels, usage and effectiveness on one page (inline SVG and tables, no
    script), filtered by period, tool and org unit; each table downloadable as CSV."""
    ctx: Context = request.app.state.ctx
    k = ctx.settings.min_group_size
    f = Filters(granularity, since, until, tool, org_unit)

    def build() -> str:
        first, last = _day("since", since), _day("until", until)
        record_read(ctx, request, "dashboard", dict(request.query_params))
        r = ctx.reports
        return render_dashboard(
            f,
            r.period_report("adoption", granularity, first, last, k),
            r.period_report("usage", granularity, first, last, k),
            r.period_report("effectiveness", granularity, first, last, k),
            [r.levels(recipe, last, tool or None, k) for recipe in level_reports.RECIPES],
        )

    try:
        page = await run_in_threadpool(build)
    except reports.ReportError as exc:
        return problem(400, str(exc))
    except StorageBusy as exc:
        return problem(503, f"reports busy: {exc}")
    # Everything is inline: the policy forbids any fetch, script or external asset (the CSV
    # downloads are data: links, which need no fetch).
    csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'"
    return HTMLResponse(page, headers={"Content-Security-Policy": csp})
