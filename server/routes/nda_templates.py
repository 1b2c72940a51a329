"""NDA templates (a creator's NDA texts, in versions), the template a pitch requires as a
requester reads it, and the signed agreements: listed for both parties and served as a
standalone HTML document to them alone.

Signing itself happens in server/routes/ndas.py: the request carries the hash of the version the
requester accepted, the approval is the owner's countersignature. Expiry: server/nda_expiry.py.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from aiohttp import web
from markdown_it import MarkdownIt

from pitchey.storage.nda_templates import (
    Agreement,
    AgreementStore,
    NdaTemplateStore,
    Party,
    Template,
    TemplateInUse,
    TemplateVersion,
)

from ..api import Api, Call, Reply
from ..errors import Conflict, Forbidden, NotFound
from ..schemas import PageQuery, pagination
from ..schemas.catalog import UserSummary
from ..schemas.nda_templates import (
    AgreementOut,
    NdaTemplateCreate,
    NdaTemplateDeleted,
    NdaTemplateOut,
    NdaTemplateUpdate,
    NdaTemplateVersionOut,
    PitchNdaTemplateOut,
)
from ._shared import visible_pitch

api = Api()

TEMPLATE_NOT_FOUND = "NDA template not found"
AGREEMENT_NOT_FOUND = "Agreement not found"


def templates(call: Call[Any, Any]) -> NdaTemplateStore:
    return NdaTemplateStore(call.state.database)


def template_out(t: Template, versions: list[TemplateVersion] | None = None) -> NdaTemplateOut:
    v = t.current
    return NdaTemplateOut(
        id=t.id,
        owner_id=t.owner_id,
        version=v.version,
        title=v.title,
        body=v.body,
        term_months=v.term_months,
        jurisdiction=v.jurisdiction,
        content_hash=v.content_hash,
        created_at=t.created_at,
        updated_at=t.updated_at,
        pitch_count=t.pitch_count,
        agreement_count=t.agreement_count,
        versions=None if versions is None else [NdaTemplateVersionOut.model_validate(x) for x in versions],
    )


async def check_usable(call: Call[Any, Any], template_id: int | None) -> None:
    """A pitch may require only one of its owner's own (not archived) templates: 404 naming the
    field otherwise, the same for someone else's id and an unknown one (a well-formed id that
    names nothing the caller has; the document could not have said so, so never a 422)."""
    if template_id is None:
        return
    if not await templates(call).usable(template_id, call.user.user_id):
        raise template_not_usable()


def template_not_usable() -> NotFound:
    """The refusal of a pitch's `ndaTemplateId` that names none of the caller's templates (also
    when the template was deleted between the check and the write: `UnknownNdaTemplate`)."""
    return NotFound(
        "ndaTemplateId: choose one of your own NDA templates",
        details=[
            {"field": "ndaTemplateId", "message": "is not one of your templates", "type": "value_error"}
        ],
    )


# -- the creator's templates -------------------------------------------------------------------


@api.route(
    "GET",
    "/api/nda-templates",
    query=PageQuery,
    permission=("read", "nda_template"),
    response=NdaTemplateOut,
    response_list=True,
    tags=("nda-templates",),
    summary="The creator's NDA templates (current version of each), most recently changed first",
)
async def list_templates(call: Call[Any, PageQuery]) -> Reply:
    q = call.query
    page = await templates(call).owned(call.user.user_id, limit=q.limit, offset=q.offset)
    return Reply([template_out(t) for t in page.rows], meta=pagination(q, page.total))


@api.route(
    "POST",
    "/api/nda-templates",
    body=NdaTemplateCreate,
    response=NdaTemplateOut,
    status=201,
    permission=("create", "nda_template"),
    tags=("nda-templates",),
    summary="Write an NDA template (version 1)",
)
async def create_template(call: Call[NdaTemplateCreate, Any]) -> Reply:
    b = call.body
    t = await templates(call).create(
        call.user.user_id, title=b.title, body=b.body, term_months=b.term_months, jurisdiction=b.jurisdiction
    )
    return Reply(template_out(t, [t.current]), status=201)


@api.route(
    "GET",
    "/api/nda-templates/{id}",
    response=NdaTemplateOut,
    permission=("read", "nda_template"),
    tags=("nda-templates",),
    errors=(NotFound,),
    summary="One of the creator's NDA templates with every version, newest first",
)
async def get_template(call: Call[Any, Any]) -> NdaTemplateOut:
    store = templates(call)
    t = await store.get(call.path_id(), call.user.user_id)
    if t is None:
        raise NotFound(TEMPLATE_NOT_FOUND)
    return template_out(t, await store.versions(t.id))


@api.route(
    "PUT",
    "/api/nda-templates/{id}",
    body=NdaTemplateUpdate,
    response=NdaTemplateOut,
    permission=("update", "nda_template"),
    tags=("nda-templates",),
    errors=(NotFound,),
    summary="Edit an NDA template: a change writes the next version; NDAs signed keep theirs",
)
async def update_template(call: Call[NdaTemplateUpdate, Any]) -> NdaTemplateOut:
    store = templates(call)
    t = await store.update(call.path_id(), call.user.user_id, call.body.changes())
    if t is None:
        raise NotFound(TEMPLATE_NOT_FOUND)
    return template_out(t, await store.versions(t.id))


@api.route(
    "DELETE",
    "/api/nda-templates/{id}",
    response=NdaTemplateDeleted,
    permission=("delete", "nda_template"),
    tags=("nda-templates",),
    errors=(NotFound, Conflict),
    summary="Delete an NDA template; 409 while pitches require it; archived (kept for its "
    "agreements) when NDAs were requested under it",
)
async def delete_template(call: Call[Any, Any]) -> NdaTemplateDeleted:
    template_id = call.path_id()
    try:
        outcome = await templates(call).delete(template_id, call.user.user_id)
    except TemplateInUse as exc:
        named = ", ".join(f"\u201c{t}\u201d" for t in exc.titles)
        more = f" and {exc.count - len(exc.titles)} more" if exc.count > len(exc.titles) else ""
        raise Conflict(
            f"This template is required by {exc.count} pitch(es) ({named}{more}); "
            "choose another template for them first"
        ) from None
    if outcome is None:
        raise NotFound(TEMPLATE_NOT_FOUND)
    return NdaTemplateDeleted(id=template_id, outcome=outcome)


# -- the template a pitch requires, as a requester reads it --------------------------------------


@api.route(
    "GET",
    "/api/pitches/{id}/nda-template",
    response=PitchNdaTemplateOut,
    permission=("create", "nda_request"),
    tags=("nda-templates", "ndas"),
    errors=(NotFound, Forbidden),
    summary="The NDA text a pitch requires (current version and its hash), for whoever may "
    "request an NDA on it",
)
async def pitch_template(call: Call[Any, Any]) -> PitchNdaTemplateOut:
    pitch_id = call.path_id()
    await visible_pitch(call, pitch_id)  # 404/403 in the access decision's words
    version = await templates(call).for_pitch(pitch_id)
    return PitchNdaTemplateOut(
        pitch_id=pitch_id,
        template=NdaTemplateVersionOut.model_validate(version) if version is not None else None,
    )


# -- signed agreements ---------------------------------------------------------------------------


def document_url(nda_id: int) -> str:
    return f"/api/ndas/{nda_id}/document"


def _summary(p: Party) -> UserSummary:
    return UserSummary.model_validate(p)


def agreement_out(a: Agreement, me: int) -> AgreementOut:
    mine_requested = a.requester.id == me
    v = a.version
    return AgreementOut(
        nda_id=a.nda_id,
        status=a.status,
        role="requester" if mine_requested else "owner",
        pitch_id=a.pitch_id,
        pitch_title=a.pitch_title,
        other_party=_summary(a.owner if mine_requested else a.requester),
        template_id=v.template_id,
        template_title=v.title,
        template_version=v.version,
        template_hash=a.template_hash,
        term_months=v.term_months,
        jurisdiction=v.jurisdiction,
        accepted_at=a.accepted_at,
        countersigned_at=a.countersigned_at,
        expires_at=a.expires_at,
        expired_at=a.expired_at,
        document_url=document_url(a.nda_id),
    )


@api.route(
    "GET",
    "/api/ndas/agreements",
    query=PageQuery,
    permission=("read", "nda_agreements"),
    response=AgreementOut,
    response_list=True,
    tags=("nda-templates", "ndas"),
    summary="Countersigned NDA agreements the caller is a party to (either side), newest first",
)
async def list_agreements(call: Call[Any, PageQuery]) -> Reply:
    q = call.query
    me = call.user.user_id
    page = await AgreementStore(call.state.database).signed(me, limit=q.limit, offset=q.offset)
    return Reply([agreement_out(a, me) for a in page.rows], meta=pagination(q, page.total))


# The document is a page of its own: no script, no remote anything, styles only from its own
# <style> element (by hash would need recomputing on every edit; 'unsafe-inline' for styles alone
# cannot run code). Markdown is rendered with raw HTML off, so the template's text is escaped.
DOCUMENT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False})

_DOCUMENT_STYLE = """
body { font: 16px/1.55 Georgia, "Times New Roman", serif; color: #111; background: #fff;
       max-width: 46rem; margin: 2rem auto; padding: 0 1.25rem; }
h1 { font-size: 1.6rem; margin-bottom: .25rem; }
.sub { color: #444; margin-top: 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dt { font-weight: bold; }
dd { margin: 0; overflow-wrap: anywhere; }
.terms { border-top: 1px solid #999; border-bottom: 1px solid #999; padding: .5rem 0; margin: 1.5rem 0; }
.sigs { display: grid; grid-template-columns: repeat(auto-fit, minmax(15rem, 1fr)); gap: 1rem; }
.sig { border: 1px solid #999; padding: .75rem 1rem; }
.sig h3 { margin: 0 0 .25rem; font-size: 1rem; }
code { font-family: ui-monospace, monospace; font-size: .85rem; overflow-wrap: anywhere; }
.status { display: inline-block; border: 1px solid #111; padding: 0 .4rem; font-size: .85rem; }
@media print { body { margin: 0; max-width: none; } a { color: inherit; text-decoration: none; } }
"""


def _when(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S UTC") if t is not None else "\u2014"


def _who(p: Party) -> str:
    name = p.name or p.username or f"User {p.id}"
    extra = [x for x in (p.company_name, f"@{p.username}" if p.username and p.name else None) if x]
    return html.escape(name + (f" ({', '.join(extra)})" if extra else ""))


_STATUS_WORDS = {
    "approved": "In force",
    "expired": "Expired",
    "revoked": "Revoked",
}


def render_document(a: Agreement) -> str:
    """The signed agreement as one standalone, printable HTML page; every user-written string
    is escaped (names, titles) or rendered from Markdown with raw HTML off (the body)."""
    v = a.version
    e = html.escape
    status = _STATUS_WORDS.get(a.status, a.status.capitalize())
    body_html = _MARKDOWN.render(v.body)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{e(v.title)} \u2014 NDA {a.nda_id}</title>
<style>{_DOCUMENT_STYLE}</style>
</head>
<body>
<main>
<h1>{e(v.title)}</h1>
<p class="sub">Non-disclosure agreement no. {a.nda_id} for the pitch \u201c{e(a.pitch_title)}\u201d
\u00b7 <span class="status">{e(status)}</span></p>
<dl>
<dt>Disclosing party</dt><dd>{_who(a.owner)}</dd>
<dt>Receiving party</dt><dd>{_who(a.requester)}</dd>
<dt>Term</dt><dd>{v.term_months} month(s) from the countersignature</dd>
<dt>Jurisdiction</dt><dd>{e(v.jurisdiction)}</dd>
<dt>Template version</dt><dd>{v.version} (written {_when(v.created_at)})</dd>
<dt>Version hash</dt><dd><code>SHA-256 {e(a.template_hash)}</code></dd>
<dt>Expires</dt><dd>{_when(a.expires_at)}</dd>
{f"<dt>Expired</dt><dd>{_when(a.expired_at)}</dd>" if a.expired_at else ""}
</dl>
<section class="terms" aria-label="Terms">
{body_html}
</section>
<h2>Signatures</h2>
<div class="sigs">
<div class="sig"><h3>Receiving party</h3><p>{_who(a.requester)}</p>
<p>Accepted version {v.version} on {_when(a.accepted_at)}</p></div>
<div class="sig"><h3>Disclosing party</h3><p>{_who(a.owner)}</p>
<p>{"Countersigned on " + _when(a.countersigned_at) if a.countersigned_at else "Not countersigned"}</p></div>
</div>
<p class="sub">Each signature was given on Pitchey by the signed-in account named above; the time
and network address of each are kept with the agreement. The version hash is the SHA-256 of the
canonical JSON of the terms above (body, jurisdiction, termMonths, title), as accepted.</p>
</main>
</body>
</html>
"""


_DOCUMENT_RESPONSES = {
    "responses": {
        "200": {
            "description": "The signed agreement as a standalone HTML page (strict CSP, no script)",
            "content": {"text/html": {"schema": {"type": "string"}}},
        },
    },
}


@api.route(
    "GET",
    "/api/ndas/{id}/document",
    permission=("read", "nda_agreements"),
    tags=("nda-templates", "ndas"),
    openapi_extra=_DOCUMENT_RESPONSES,
    errors=(NotFound, Conflict),
    summary="The signed agreement (both parties, the text, signature times, version hash) as "
    "HTML; only its two parties may read it (anyone else: 404)",
)
async def agreement_document(call: Call[Any, Any]) -> web.StreamResponse:
    nda_id = call.path_id()
    agreement = await AgreementStore(call.state.database).for_party(nda_id, call.user.user_id)
    if agreement is None:
        raise NotFound(AGREEMENT_NOT_FOUND)
    if agreement.countersigned_at is None:
        raise Conflict("The agreement is not countersigned: the creator has not approved this NDA")
    filename = f"nda-{agreement.nda_id}.html"
    return web.Response(
        text=render_document(agreement),
        content_type="text/html",
        charset="utf-8",
        headers={
            "Content-Security-Policy": DOCUMENT_CSP,
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "private, no-store",
            "Content-Disposition": f'inline; filename="{filename}"',
        },
    )
