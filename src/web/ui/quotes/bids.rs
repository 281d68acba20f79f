//! Bid pages: the list, a bid with its decision and result forms, the tender form (create and
//! edit), and the bids and negotiation rounds on the opportunity's page. Every change goes
//! through `app::quotes::bids` (and `negotiations`).
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::app::quotes::bids::{self, BidIn, BidView, DecideIn, Filter, ResultIn};
use crate::app::quotes::negotiations::{self, RoundView};
use crate::app::records::once;
use crate::db::WriteTx;
use crate::domain::bid::{BidDecision, BidResult};
use crate::domain::DomainError;
use crate::web::api::{id_of, q, query_pairs};
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::forms::{
    missing_or_forbidden, once_done, once_of, posted_once, redisplay_or_redirect, with_flash, Field, FormPage,
};
use crate::web::ui::{enc, fail_page, render, Layout, Load, Section};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/bids", get(list))
        .route("/bids/export.xlsx", get(|s, ui, q| export(s, ui, q, "xlsx")))
        .route("/bids/export.csv", get(|s, ui, q| export(s, ui, q, "csv")))
        .route("/opportunities/{id}/bids/new", get(new_form).post(create))
        .route("/bids/{id}", get(show))
        .route("/bids/{id}/edit", get(edit_form).post(update))
        .route("/bids/{id}/decide", post(decide))
        .route("/bids/{id}/result", post(result))
        .merge(super::negotiations::routes())
}

// ---------------------------------------------------------------------------------------------
// The list

#[derive(Template)]
#[template(path = "bids.html")]
struct ListPage {
    l: Layout,
    rows: Vec<BidView>,
    q: String,
    owner: String,
    decision: String,
    result: String,
    open: String,
    due_within: String,
    sort: String,
    decisions: Vec<&'static str>,
    results: Vec<&'static str>,
    sorts: &'static [&'static str],
    next_href: Option<String>,
    /// The filter's query, for the exports.
    base: String,
}

/// The list's filter as the page's address gives it, and that address's query (without the
/// cursor) for the next page's link and the exports.
struct Listed {
    f: Filter,
    base: String,
    vals: [String; 7],
}

fn listed(p: &[(String, String)]) -> Result<Listed, DomainError> {
    let get = |k: &str| q(p, k).unwrap_or("").to_string();
    let (qv, owner, decision, result, open, due, sort) =
        (get("q"), get("owner"), get("decision"), get("result"), get("open"), get("due_within"), get("sort"));
    let due_within = match due.trim() {
        "" => None,
        v => Some(v.parse::<i64>().map_err(|_| DomainError::invalid("due_within", "expected_integer"))?),
    };
    let f = Filter {
        q: Some(qv.clone()),
        owner: Some(owner.clone()),
        decision: Some(decision.clone()),
        result: Some(result.clone()),
        open: match open.as_str() {
            "open" => Some(true),
            "closed" => Some(false),
            _ => None,
        },
        due_within,
        sort: (!sort.is_empty()).then(|| sort.clone()),
        cursor: q(p, "cursor").map(str::to_string),
        ..Default::default()
    };
    let base = enc(&[
        ("q", &qv),
        ("owner", &owner),
        ("decision", &decision),
        ("result", &result),
        ("open", &open),
        ("due_within", &due),
        ("sort", &sort),
    ]);
    Ok(Listed { f, base, vals: [qv, owner, decision, result, open, due, sort] })
}

async fn list(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = crate::web::ui::pick::people_in(&s.app.db, query_pairs(raw), &["owner"]).await;
    let Listed { f, base, vals } = match listed(&p) {
        Ok(x) => x,
        Err(e) => return fail_page(&ui, e),
    };
    let [qv, owner, decision, result, open, due, sort] = vals;
    let page = match bids::list(&s.app.db, &ui.ctx.caller, &f, &ui.ctx.caller.today()).await {
        Ok(p) => p,
        Err(e) => return fail_page(&ui, e),
    };
    let l = Layout::new(&ui, "bids", ui.lang.t("bids.title"));
    render(&ListPage {
        next_href: page.next_cursor.map(|c| format!("/bids?{base}&cursor={c}")),
        rows: page.items,
        q: qv,
        owner,
        decision,
        result,
        open,
        due_within: due,
        sort,
        decisions: BidDecision::ALL.iter().map(|d| d.code()).collect(),
        results: BidResult::ALL.iter().map(|r| r.code()).collect(),
        sorts: bids::SORTS,
        l,
        base,
    })
}

/// The list as filtered, every row (not the page), as XLSX or CSV.
async fn export(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery, format: &str) -> Response {
    let p = crate::web::ui::pick::people_in(&s.app.db, query_pairs(raw), &["owner"]).await;
    let res = async {
        let Listed { f, .. } = listed(&p)?;
        let rows =
            bids::export(&s.app.db, &ui.ctx.caller, &Filter { cursor: None, ..f }, &ui.ctx.caller.today()).await?;
        crate::web::api::person_download(&bids::table(&rows), &ui.ctx.caller, ui.lang, format, "bids")
    }
    .await;
    res.unwrap_or_else(|e| fail_page(&ui, e))
}

// ---------------------------------------------------------------------------------------------
// One bid

#[derive(Template)]
#[template(path = "bid.html")]
struct ShowPage {
    l: Layout,
    b: BidView,
    can_write: bool,
    /// The flow's bond limit (decimal yuan).
    bond_limit: String,
    /// What was typed in the form the refusal came from.
    typed: Vec<(String, String)>,
    /// The form a refusal belongs to (`decide` or `result`) and its messages.
    failed_form: &'static str,
    errors: Vec<String>,
    /// Fields refused.
    bad: Vec<String>,
    /// The tender's documents, and whether the caller may add one.
    files: Vec<crate::app::records::attachments::Attachment>,
    files_base: String,
    files_versioned: bool,
    can_attach: bool,
}

impl ShowPage {
    /// A field of the refused form as typed (empty when the page is fresh).
    fn tv(&self, name: &str) -> &str {
        self.typed.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }
    fn ticked(&self, name: &str) -> bool {
        matches!(self.tv(name), "1" | "on" | "true")
    }
    fn is_bad(&self, name: &str) -> bool {
        self.bad.iter().any(|b| b == name)
    }
}

pub(super) async fn show_page(
    s: &AppState,
    ui: &UiCtx,
    id: i64,
    form: &'static str,
    typed: Vec<(String, String)>,
    err: Option<DomainError>,
) -> Response {
    let db = &s.app.db;
    let b = match bids::get(db, &ui.ctx.caller, id).await {
        Ok(v) => v,
        Err(e) => return fail_page(ui, e),
    };
    let (can_write, bond_limit, files) = match tokio::try_join!(
        bids::may_write(db, &ui.ctx.caller, b.opportunity_id),
        bids::bond_limit_text(db),
        crate::app::records::attachments::FileHolder::list(
            crate::app::quotes::files::Holder::Bid,
            db,
            &ui.ctx.caller,
            id
        )
    ) {
        Ok(x) => x,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "bids", format!("{} · {}", ui.lang.t("bid.title"), b.issuer));
    let status = err.as_ref().map(|e| crate::web::ui::status_and_code(e).0);
    let mut bad = vec![];
    let errors = match &err {
        Some(DomainError::Invalid(fs)) => fs
            .iter()
            .map(|f| {
                bad.push(f.field.clone());
                format!("{}: {}", l.e("field", &f.field), l.lang.msg("invalid", f.code))
            })
            .collect(),
        Some(e) => crate::web::ui::error_lines(&l, e),
        None => vec![],
    };
    let files_base = format!("/bids/{}", b.id);
    let mut res = render(&ShowPage {
        l,
        b,
        can_write,
        bond_limit,
        typed,
        failed_form: form,
        errors,
        bad,
        files,
        files_base,
        files_versioned: false,
        can_attach: can_write,
    });
    if let Some(st) = status {
        *res.status_mut() = st;
    }
    res
}

async fn show(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    match id_of(&id) {
        Ok(id) => show_page(&s, &ui, id, "", vec![], None).await,
        Err(e) => fail_page(&ui, e),
    }
}

fn version_of(form: &UiForm) -> i64 {
    form.get("version").and_then(|v| v.trim().parse().ok()).unwrap_or(0)
}

fn text_of(form: &UiForm, k: &str) -> Option<String> {
    form.get(k).map(str::to_string).filter(|v| !v.trim().is_empty())
}

fn ticked(form: &UiForm, k: &str) -> bool {
    matches!(form.get(k), Some("1" | "on" | "true"))
}

async fn decide(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let d = DecideIn {
        version: version_of(&form),
        decision: form.get("decision").unwrap_or("").to_string(),
        reasons: text_of(&form, "reasons"),
        bid_price: text_of(&form, "bid_price"),
        below_floor: ticked(&form, "below_floor"),
        terms_outside_policy: ticked(&form, "terms_outside_policy"),
        exception_note: text_of(&form, "exception_note"),
    };
    match bids::decide(&s.app.db, &ui.ctx, id, &d).await {
        Ok(_) => axum::response::Redirect::to(&with_flash(&format!("/bids/{id}"), "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => show_page(&s, ui, id, "decide", form.fields.clone(), Some(e)).await,
    }
}

async fn result(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let r = ResultIn {
        version: version_of(&form),
        result: form.get("result").unwrap_or("").to_string(),
        winner: text_of(&form, "winner"),
        winning_price: text_of(&form, "winning_price"),
        note: text_of(&form, "note"),
        close_opportunity: ticked(&form, "close_opportunity"),
    };
    match bids::record_result(&s.app.db, &ui.ctx, id, &r).await {
        Ok(_) => axum::response::Redirect::to(&with_flash(&format!("/bids/{id}"), "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => show_page(&s, ui, id, "result", form.fields.clone(), Some(e)).await,
    }
}

// ---------------------------------------------------------------------------------------------
// The tender form

const FIELDS: &[(&str, &str)] = &[
    ("issuer", "text"),
    ("tender_no", "text"),
    ("questions_due", "date"),
    ("submission_due", "date"),
    ("bond_amount", "text"),
    ("bond_return_on", "date"),
    ("documents", "textarea"),
];

async fn form_page(
    s: &AppState,
    ui: &UiCtx,
    opportunity_id: i64,
    existing: Option<&BidView>,
) -> Result<FormPage, DomainError> {
    let db = &s.app.db;
    let o = crate::app::funnel::opportunities::get(db, &ui.ctx.caller, opportunity_id).await?;
    let limit = bids::bond_limit_text(db).await?;
    let heading = match existing {
        Some(b) => format!("{} · {}", ui.lang.t("bid.edit"), b.issuer),
        None => format!("{} · {}", ui.lang.t("bid.new"), o.name),
    };
    let l = Layout::new(ui, "bids", heading.clone());
    let value = |name: &str| -> String {
        match existing {
            None => match name {
                "issuer" => o.account_name.clone(),
                _ => String::new(),
            },
            Some(b) => match name {
                "issuer" => b.issuer.clone(),
                "tender_no" => b.tender_no.clone().unwrap_or_default(),
                "questions_due" => b.questions_due.clone().unwrap_or_default(),
                "submission_due" => b.submission_due.clone(),
                "bond_amount" => b.bond_amount.clone().unwrap_or_default(),
                "bond_return_on" => b.bond_return_on.clone().unwrap_or_default(),
                "documents" => b.documents.clone().unwrap_or_default(),
                _ => String::new(),
            },
        }
    };
    let fields = FIELDS
        .iter()
        .map(|(name, kind)| {
            let f = Field::new(&l, name, kind, Some(value(name)));
            match *name {
                "issuer" | "submission_due" => f.required(),
                "bond_amount" => f.help(l.t("bid.bond_help").replace("{limit}", &l.yuan(Some(&limit)))),
                "questions_due" => f.help(l.t("bid.questions_help")),
                "documents" => f.help(l.t("bid.documents_help")),
                _ => f,
            }
        })
        .collect();
    Ok(FormPage {
        heading,
        action: match existing {
            Some(b) => format!("/bids/{}/edit", b.id),
            None => format!("/opportunities/{opportunity_id}/bids/new"),
        },
        fields,
        version: existing.map(|b| b.version),
        submit: l.t("action.save"),
        cancel: match existing {
            Some(b) => format!("/bids/{}", b.id),
            None => format!("/opportunities/{opportunity_id}"),
        },
        errors: vec![],
        duplicate_of: None,
        once: None,
        l,
    })
}

fn bid_in(form: &UiForm) -> BidIn {
    let get = |k: &str| form.get(k).map(str::to_string);
    BidIn {
        version: form.get("version").and_then(|v| v.trim().parse().ok()),
        issuer: get("issuer"),
        tender_no: get("tender_no"),
        questions_due: get("questions_due"),
        submission_due: get("submission_due"),
        bond_amount: get("bond_amount"),
        bond_return_on: get("bond_return_on"),
        documents: get("documents"),
    }
}

async fn new_form(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>, uri: Uri) -> Response {
    let once = match once_of(&uri) {
        Ok(t) => t,
        Err(redirect) => return redirect.into_response(),
    };
    match async { form_page(&s, &ui, id_of(&id)?, None).await }.await {
        Ok(mut page) => {
            page.once = Some(once);
            render(&page)
        }
        Err(e) => fail_page(&ui, e),
    }
}

async fn create(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let inp = bid_in(&form);
    let page = |v: &BidView| format!("/bids/{}", v.id);
    let make = async |tx: &mut WriteTx| bids::create_in(tx, &ui.ctx, id, &inp).await;
    let res = once::create(&s.app.db, &ui.ctx, posted_once(&form.fields), page, make).await;
    redisplay_or_redirect(
        ui,
        res,
        |o| once_done(o, |v| format!("/bids/{}", v.id)),
        missing_or_forbidden,
        Some(&form.fields),
        async |_| form_page(&s, ui, id, None).await,
    )
    .await
}

async fn edit_form(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    let res = async {
        let b = bids::get(&s.app.db, &ui.ctx.caller, id_of(&id)?).await?;
        form_page(&s, &ui, b.opportunity_id, Some(&b)).await
    }
    .await;
    match res {
        Ok(page) => render(&page),
        Err(e) => fail_page(&ui, e),
    }
}

async fn update(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let res = bids::update(&s.app.db, &ui.ctx, id, &bid_in(&form)).await;
    redisplay_or_redirect(
        ui,
        res,
        |_| with_flash(&format!("/bids/{id}"), "saved"),
        missing_or_forbidden,
        Some(&form.fields),
        async |err| {
            let b = bids::get(&s.app.db, &ui.ctx.caller, id).await?;
            let mut p = form_page(&s, ui, b.opportunity_id, Some(&b)).await?;
            p.keep_posted_version(err, &form.fields);
            Ok(p)
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// On the opportunity's page

/// The opportunity page's tenders and negotiation rounds, each a part of its own.
pub struct OpportunityDeals {
    pub bids: Section<Vec<BidView>>,
    pub rounds: Section<Vec<RoundView>>,
    /// The caller may record tenders and rounds here.
    pub can_write: bool,
    /// The round form's one-time token.
    pub once: String,
    /// Today (the round form's default day).
    pub today: String,
}

/// Loads [`OpportunityDeals`] for the opportunity page (the opportunity already read in scope).
pub async fn opportunity_deals(db: &crate::db::Db, ui: &UiCtx, opportunity_id: i64) -> OpportunityDeals {
    let caller = &ui.ctx.caller;
    let (b, r, w) = tokio::join!(
        bids::of_opportunity(db, caller, opportunity_id),
        negotiations::of_opportunity(db, caller, opportunity_id),
        bids::may_write(db, caller, opportunity_id),
    );
    OpportunityDeals {
        bids: b.section("opportunity", "bids"),
        rounds: r.section("opportunity", "negotiations"),
        can_write: w.unwrap_or(false),
        once: crate::app::people::auth::random_token("")[..32].to_string(),
        today: caller.today(),
    }
}
