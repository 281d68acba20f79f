//! Bank statements (银行对账单导入) and the opening-balance import (期初导入) (issue 21).
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::handler::Handler;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use crate::app::orders::opening;
use crate::app::orders::statements::{
    self as st, ConfirmLineIn, IgnoreLineIn, Imported, StatementLineView, StatementRow, StatementView,
};
use crate::app::spreadsheets::import::{Report, Source};
use crate::domain::DomainError;
use crate::web::api::contract::{self, Id, OnePage};
use crate::web::api::customers::accounts::{ImportReport, ImportRowError};
use crate::web::api::{Api, ApiResult, Op, Params, Query, Typed};
use crate::web::auth::ApiCtx;
use crate::web::i18n::Lang;
use crate::web::AppState;

/// The largest file accepted.
const MAX_BYTES: usize = 16 * 1024 * 1024;

const STATEMENT_DESCRIPTION: &str = "Finance (or the administrator). The file — multipart/form-data with the part \
    `file` (and optionally `dry_run`), or the bare CSV/XLSX body — is CSV (UTF-8 or GBK) or XLSX whose first row names \
    the columns: 日期/date, 付款人/payer, 金额/amount, 摘要/流水号/reference (several reference columns are joined). \
    Dates as 2027-03-10, 2027/3/10 or 20270310; amounts above 0 (`1,280,000.00`, `¥500`). All rows or none: a row \
    without an amount, with an amount that is no number or not above 0, or a bad date is 422 with the report (`errors` \
    by row, column, value, reason) and nothing is kept. Each line is proposed a match: by the reference (a contract \
    or invoice number in it, an earlier payment's reference), then by the amount (one open receivable owing it, or \
    one account's open receivables together; the payer's name or invoicing name chooses among several), then by the \
    payer's name. 201 with the statement; `?dry_run=true`: 200 with the statement as it would be, nothing kept.";

const OPENING_DESCRIPTION: &str = "The administrator or finance, when the company starts with KAM. CSV (UTF-8 or GBK) \
    or XLSX (multipart part `file`, or the bare body), one row per open order: 客户/account (name or credit code), \
    合同号/contract_no, 订单日期/order_date, 金额/amount, 到期日/due_date, 未收金额/owed, 负责人/owner (username; \
    the account's owner when empty), 备注/note. Each row becomes an order signed on its date (no sign-off; marked \
    imported, audited) with one receivable due on the due date, showing amount − owed as paid. All rows or none: an \
    unknown account or owner, a contract number in use or repeated in the file, owed above the amount, a bad date \
    or amount is 422 with the report naming the row and column; nothing is written. `?dry_run=true` checks only.";

pub fn routes(api: Api) -> Api {
    api.add(
        upload_body(Op::post(
            "/api/v1/bank-statements",
            "Import a bank statement (银行对账单) and propose matches",
            "receivables",
        ))
        .describe(STATEMENT_DESCRIPTION)
        .query::<DryRunQuery>()
        .ok::<StatementView>(201)
        .ok::<StatementView>(200),
        import_statement.layer(axum::extract::DefaultBodyLimit::max(MAX_BYTES)),
    )
    .add(
        Op::get("/api/v1/bank-statements", "The bank statements, the latest first (finance)", "receivables")
            .one_page::<StatementRow>(200),
        list,
    )
    .add(
        Op::get(
            "/api/v1/bank-statements/{id}",
            "A bank statement with its lines and their proposed matches",
            "receivables",
        )
        .ok::<StatementView>(200),
        get,
    )
    .add(
        Op::post(
            "/api/v1/bank-statements/{id}/confirm",
            "Confirm every proposed line as proposed (finance; all or none)",
            "receivables",
        )
        .ok::<StatementView>(200)
        .errors(&[409]),
        confirm_all,
    )
    .add(
        Op::post(
            "/api/v1/bank-statements/{id}/lines/{line_id}/confirm",
            "Confirm a statement line: record the payment and allocate it (finance)",
            "receivables",
        )
        .describe(
            "By default to the proposed account's proposed receivables (each what it still owes, the oldest due \
             first, the rest as credit) — or `account_id` (its oldest due first) and `allocations` by hand as for \
             `POST /api/v1/payments`. One transaction; the line keeps the payment. Confirmed or ignored already: 409.",
        )
        .body_example::<ConfirmLineIn>(json!({"account_id": 12}))
        .ok::<StatementLineView>(200)
        .errors(&[409]),
        confirm,
    )
    .add(
        Op::post(
            "/api/v1/bank-statements/{id}/lines/{line_id}/ignore",
            "Leave a statement line aside with a reason (finance)",
            "receivables",
        )
        .body_example::<IgnoreLineIn>(json!({"reason": "内部调拨，非客户回款"}))
        .ok::<StatementLineView>(200)
        .errors(&[409]),
        ignore,
    )
    .add(
        upload_body(Op::post(
            "/api/v1/imports/opening-balances",
            "Import opening balances (期初导入): open orders and receivables from the ERP",
            "import",
        ))
        .describe(OPENING_DESCRIPTION)
        .query::<DryRunQuery>()
        .ok::<ImportReport>(200),
        import_opening.layer(axum::extract::DefaultBodyLimit::max(MAX_BYTES)),
    )
}

/// A file upload: multipart (`file`) or the file as the body.
fn upload_body(mut op: Op) -> Op {
    op.body = Some(json!({"required": true, "content": {
        "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary", "description": "The CSV or XLSX file"},
            "dry_run": {"type": "string", "description": "`true`: check and report only"}
        }}},
        "text/csv": {"schema": {"type": "string", "format": "binary"}},
        (contract::XLSX): {"schema": {"type": "string", "format": "binary"}}
    }}));
    op
}

/// How an import treats the file.
#[derive(Deserialize, IntoParams)]
pub struct DryRunQuery {
    /// `true` (or `1`): check every row and answer, keep nothing.
    pub dry_run: Option<String>,
}

fn truthy(v: Option<&str>) -> bool {
    matches!(v, Some("true" | "1"))
}

/// The file of an upload (its name, its bytes) and whether it is a dry run.
async fn file_of(req: Request, dry_run: bool) -> Result<(Option<String>, Bytes, bool), DomainError> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if multipart {
        let m = Multipart::from_request(req, &()).await.map_err(|_| DomainError::invalid("file", "invalid_form"))?;
        let p = crate::web::api::customers::documents::read_multipart(m).await?;
        if p.bytes.is_empty() {
            return Err(DomainError::invalid("file", "required"));
        }
        let dry = dry_run || truthy(p.get("dry_run"));
        Ok((Some(p.file_name.clone()).filter(|n| !n.is_empty()), p.bytes, dry))
    } else {
        let b = Bytes::from_request(req, &()).await.map_err(|_| DomainError::PayloadTooLarge)?;
        Ok((None, b, dry_run))
    }
}

/// A refused import's answer: 422, the error object beside the report (as the other imports).
pub fn refused(lang: Lang, r: Report) -> Response {
    let listed = r.errors.iter().map(|e| e.row).collect::<std::collections::BTreeSet<_>>().len();
    let mut message = lang.msg("err", "invalid_input");
    if r.errors_truncated {
        message = format!("{message} ({})", crate::web::ui::more_errors_text(lang, listed));
    }
    let mut report = report_of(lang, r);
    report.error = Some(json!({"code": "invalid_input", "message": message, "details": {}}));
    (StatusCode::UNPROCESSABLE_ENTITY, Json(report)).into_response()
}

pub fn report_of(lang: Lang, r: Report) -> ImportReport {
    let errors = r
        .errors
        .into_iter()
        .map(|e| {
            let message = crate::web::ui::import_reason(lang, &e.code).to_string();
            ImportRowError { row: e.row, column: e.column, value: e.value, code: e.code, message }
        })
        .collect();
    ImportReport {
        rows: r.rows,
        created: r.created,
        updated: r.updated,
        dry_run: r.dry_run,
        committed: r.committed,
        unknown_columns: r.unknown_columns,
        errors,
        errors_truncated: r.errors_truncated,
        error: None,
    }
}

async fn import_statement(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(q): Query<DryRunQuery>,
    req: Request,
) -> ApiResult {
    if !st::may_read(&c.ctx.caller) {
        return Err(DomainError::Forbidden.into());
    }
    let (name, bytes, dry_run) = file_of(req, truthy(q.dry_run.as_deref())).await?;
    let max = s.app.settings.import_max_errors;
    match st::import(&s.app.db, &c.ctx, name.as_deref(), Source::bytes(bytes), dry_run, max).await? {
        Imported::Refused(r) => Ok(refused(c.lang, r)),
        Imported::Statement(v) if v.dry_run => Ok(Json(*v).into_response()),
        Imported::Statement(v) => Ok((StatusCode::CREATED, Json(*v)).into_response()),
    }
}

async fn list(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    Ok(OnePage::of(st::list(&s.app.db, &c.ctx.caller).await?).into_response())
}

async fn get(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(st::get(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn confirm_all(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    st::confirm_proposed(&s.app.db, &c.ctx, id).await?;
    Ok(Json(st::get(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn confirm(
    State(s): State<AppState>,
    c: ApiCtx,
    Params((Id(id), Id(line))): Params<(Id, Id)>,
    b: Typed<ConfirmLineIn>,
) -> ApiResult {
    Ok(Json(st::confirm(&s.app.db, &c.ctx, id, line, &b.typed).await?).into_response())
}

async fn ignore(
    State(s): State<AppState>,
    c: ApiCtx,
    Params((Id(id), Id(line))): Params<(Id, Id)>,
    b: Typed<IgnoreLineIn>,
) -> ApiResult {
    Ok(Json(st::ignore(&s.app.db, &c.ctx, id, line, &b.typed).await?).into_response())
}

async fn import_opening(State(s): State<AppState>, c: ApiCtx, Query(q): Query<DryRunQuery>, req: Request) -> ApiResult {
    if !opening::may_import(&c.ctx.caller) {
        return Err(DomainError::Forbidden.into());
    }
    let (_, bytes, dry_run) = file_of(req, truthy(q.dry_run.as_deref())).await?;
    let max = s.app.settings.import_max_errors;
    let r = opening::import(&s.app.db, &c.ctx, Source::bytes(bytes), dry_run, max).await?;
    if r.refused() {
        return Ok(refused(c.lang, r));
    }
    Ok(Json(report_of(c.lang, r)).into_response())
}
