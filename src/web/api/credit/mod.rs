//! Credit (seed 003 §三; issue 22): the company's credit rules, an account's credit evaluations
//! with their documents, and the credit lists. Only for callers who see credit: anyone else is
//! told there is nothing here (404).
pub mod changes;
use axum::extract::{DefaultBodyLimit, State};
use axum::handler::Handler;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use crate::app::credit::evaluations::{self, Documents, EvaluationIn, EvaluationView};
use crate::app::credit::lists::{self, CreditRow};
use crate::app::credit::settings::{self, CreditSettings, CreditSettingsIn};
use crate::app::records::attachments::{Attachment, MAX_BYTES};
use crate::domain::account::Status;
use crate::web::api::contract::{FormatQuery, Id, PageQuery};
use crate::web::api::quotes::attachments::{download, download_op, list as files, remove, upload, upload_body};
use crate::web::api::{export_response, Api, ApiResult, Op, Params, Query, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

const SETTINGS_RULES: &str = "`scale_max` 1–100 (each item marked 0 to it); `items`: every item of the form once \
    with a weight 0–100 (not all 0); `bands`: grades by transaction amount (trailing-12-month sales, yuan) from \
    `from` up to `to` (exclusive; null on the last), covering every amount from 0 without gaps or overlaps and no \
    grade twice, else 422 naming `bands` (`bands_gap`, `bands_overlap`, `bands_grade_repeated`); `fulfilment`: a \
    rate below `below` % makes the amount's grade `down` (1–3) steps worse; `limits`: score ranges `from`–`to` \
    (inclusive) covering 0–100 without gaps or overlaps, else 422 naming `limits` (`limits_gap`, \
    `limits_overlap`, `limits_range`); `measures`: one per grade. Nothing is saved on any error. The seed leaves \
    every figure blank, so the defaults are the company's choice (`is_default`).";

pub fn routes(api: Api) -> Api {
    let limit = || DefaultBodyLimit::max(MAX_BYTES + 64 * 1024);
    api.add(
        Op::get(
            "/api/v1/settings/credit",
            "The credit rules in force — scoring form, grade bands, fulfilment standard, limit table, measures — with their version",
            "credit",
        )
        .describe("Those who see credit and the administrator; anyone else 404.")
        .ok::<CreditSettings>(200)
        .errors(&[404]),
        get_settings,
    )
    .add(
        Op::put(
            "/api/v1/settings/credit",
            "Replace the credit rules (administrator, KA director or finance manager)",
            "credit",
        )
        .describe(SETTINGS_RULES)
        .body_example::<CreditSettingsIn>(settings_example())
        .ok::<CreditSettings>(200)
        .errors(&[404, 409]),
        put_settings,
    )
    .add(
        Op::get(
            "/api/v1/accounts/{id}/credit-evaluations",
            "An account's credit evaluations (客户信用评估), newest first, each with its documents",
            "credit",
        )
        .one_page::<EvaluationView>(200),
        of_account,
    )
    .add(
        Op::post(
            "/api/v1/accounts/{id}/credit-evaluations",
            "Evaluate an account's credit: the scoring form (信用等级评分表), the basic information sheet (客户基本情况表) and notes",
            "credit",
        )
        .describe(
            "Every item of the form marked on the scale (0 to the settings' `scale_max`); a mark outside it, a missing \
             or unknown item is 422 naming `items.<item>`. The score (0–100) is kept with the day and the evaluator and \
             becomes the account's `credit_score`; the grade and the limit change only through an approved credit \
             change. Attach the required documents afterwards (`/api/v1/credit-evaluations/{id}/attachments`).",
        )
        .body_example::<EvaluationIn>(evaluation_example())
        .ok::<EvaluationView>(201),
        create,
    )
    .add(
        Op::get("/api/v1/credit-evaluations/{id}", "One credit evaluation with its documents and those missing", "credit")
            .ok::<EvaluationView>(200),
        get_one,
    )
    .add(
        Op::get("/api/v1/credit-evaluations/{id}/attachments", "An evaluation's documents, oldest first", "credit")
            .one_page::<Attachment>(200),
        |s, c, p| files(s, c, p, Documents),
    )
    .add(
        upload_body(Op::post(
            "/api/v1/credit-evaluations/{id}/attachments",
            "Attach a document to an evaluation; `note` names its kind: business_licence, legal_rep_id, statements_year_end, statements_quarter_end or other",
            "credit",
        ))
        .ok::<Attachment>(201)
        .errors(&[413]),
        (|s, c, p, m| upload(s, c, p, m, Documents)).layer(limit()),
    )
    .add(download_op("/api/v1/credit-evaluations/{id}/attachments/{file_id}", "credit"), |s, c, p| {
        download(s, c, p, Documents)
    })
    .add(
        Op::delete("/api/v1/credit-evaluations/{id}/attachments/{file_id}", "Remove an evaluation's document", "credit")
            .no_content(),
        |s, c, p| remove(s, c, p, Documents),
    )
    .add(
        Op::get(
            "/api/v1/credit/accounts",
            "The credit lists (绿名单 / 黄名单 / 红名单 / 黑名单): accounts in scope by stored grade",
            "credit",
        )
        .describe("`grade=none` lists the accounts not graded yet; no `grade`, every account. Anyone who does not see credit: 404.")
        .query::<ListQuery>()
        .query::<SortQuery>()
        .query::<PageQuery>()
        .page::<CreditRow>()
        .errors(&[404]),
        list,
    )
    .add(
        Op::get("/api/v1/credit/accounts/export", "Export a credit list as CSV or XLSX (?format=xlsx)", "credit")
            .query::<ListQuery>()
            .query::<FormatQuery>()
            .download()
            .with_format_schema()
            .errors(&[404]),
        export,
    )
}

fn settings_example() -> serde_json::Value {
    let items: Vec<serde_json::Value> = crate::domain::credit::ITEMS
        .iter()
        .map(|(i, c)| json!({"item": i, "weight": if *c == "capital" { 7 } else { 5 }}))
        .collect();
    json!({
        "scale_max": 5,
        "items": items,
        "bands": [{"grade": "black", "from": "0.00", "to": "1000000.00"}, {"grade": "red", "from": "1000000.00", "to": "5000000.00"},
            {"grade": "yellow", "from": "5000000.00", "to": "20000000.00"}, {"grade": "green", "from": "20000000.00", "to": null}],
        "fulfilment": [{"below": "90.00", "down": 1}, {"below": "80.00", "down": 2}],
        "limits": [{"from": 0, "to": 59, "limit": "0.00"}, {"from": 60, "to": 79, "limit": "300000.00"}, {"from": 80, "to": 100, "limit": "1000000.00"}],
        "measures": [
            {"grade": "green", "max_credit_days": 90, "installments": ["advance", "on_delivery", "after_acceptance", "retention"], "max_discount": "15.00", "prepayment": false},
            {"grade": "yellow", "max_credit_days": 60, "installments": ["advance", "on_delivery", "after_acceptance"], "max_discount": "10.00", "prepayment": false},
            {"grade": "red", "max_credit_days": 30, "installments": ["advance", "on_delivery"], "max_discount": "5.00", "prepayment": true},
            {"grade": "black", "max_credit_days": 0, "installments": ["advance"], "max_discount": "0.00", "prepayment": true}
        ],
        "version": 0
    })
}

fn evaluation_example() -> serde_json::Value {
    let items: serde_json::Map<String, serde_json::Value> =
        crate::domain::credit::ITEMS.iter().map(|(i, _)| (i.to_string(), json!(4))).collect();
    json!({
        "items": items,
        "info": {"legal_representative": "王志远", "registered_capital": "50000000.00", "founded_on": "2006-04-18",
            "employees": 860, "main_business": "精密测量仪器的研发与制造", "bank_name": "中国工商银行北京海淀支行",
            "bank_account": "0200004509200123456", "revenue_last_year": "320000000.00"},
        "notes": "近三年营收稳定增长，无不良信用记录"
    })
}

/// Which credit list.
#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// `green`, `yellow`, `red`, `black`, or `none` (not graded yet).
    #[param(max_length = 10, pattern = "^(green|yellow|red|black|none)$")]
    pub grade: Option<String>,
    /// A region's org unit code.
    #[param(max_length = 100)]
    pub region: Option<String>,
    /// An owner's username.
    #[param(max_length = 100)]
    pub owner: Option<String>,
    /// Matches the name, the short name or the credit code.
    #[param(max_length = 200)]
    pub q: Option<String>,
    pub status: Option<Status>,
}

/// The list's order.
#[derive(Deserialize, IntoParams)]
pub struct SortQuery {
    /// `name` (default), `score`, `limit`, `sales_12m`; `-` before for descending.
    #[param(max_length = 20, pattern = "^-?(name|score|limit|sales_12m)$")]
    pub sort: Option<String>,
}

impl ListQuery {
    fn filter(self, sort: Option<String>, p: Option<PageQuery>) -> lists::Filter {
        let (cursor, limit) = p.map(|p| (p.cursor, p.limit)).unwrap_or((None, None));
        lists::Filter {
            grade: self.grade,
            region: self.region,
            owner: self.owner,
            q: self.q,
            status: self.status.map(|s| s.code().to_string()),
            sort,
            cursor,
            limit,
        }
    }
}

async fn get_settings(State(s): State<AppState>, c: ApiCtx) -> ApiResult {
    Ok(Json(settings::load(&s.app.db, &c.ctx.caller).await?).into_response())
}

async fn put_settings(State(s): State<AppState>, c: ApiCtx, b: Typed<CreditSettingsIn>) -> ApiResult {
    Ok(Json(settings::save(&s.app.db, &c.ctx, &b.typed).await?).into_response())
}

async fn of_account(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    let items = evaluations::of_account(&s.app.db, &c.ctx.caller, id).await?;
    Ok(crate::web::api::contract::OnePage::of(items).into_response())
}

async fn create(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<EvaluationIn>) -> ApiResult {
    let v = evaluations::create(&s.app.db, &c.ctx, id, &b.typed).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn get_one(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(evaluations::get(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn list(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(f): Query<ListQuery>,
    Query(o): Query<SortQuery>,
    Query(p): Query<PageQuery>,
) -> ApiResult {
    Ok(Json(lists::list(&s.app.db, &c.ctx.caller, &f.filter(o.sort, Some(p))).await?).into_response())
}

async fn export(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(f): Query<ListQuery>,
    Query(fmt): Query<FormatQuery>,
) -> ApiResult {
    let t = lists::export(&s.app.db, &c.ctx.caller, &f.filter(None, None)).await?;
    Ok(export_response(&t, fmt.code(), "credit_accounts")?)
}
