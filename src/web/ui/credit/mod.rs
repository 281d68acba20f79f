//! Credit on the pages (seed 003 §三; issue 22): the credit rules' settings page, the evaluation
//! form (信用等级评分表 and 客户基本情况表), an account's credit page (its evaluations with their
//! documents), the credit lists (绿/黄/红/黑名单) with their export, and the account page's
//! credit section. Only for those who see credit; everything goes through `app::credit`.
pub mod changes;
use askama::Template;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::app::credit::evaluations::{self, BasicInfo, Documents, EvaluationIn, EvaluationView};
use crate::app::credit::grades::{self, Panel};
use crate::app::credit::lists::{self, CreditRow, LISTS};
use crate::app::credit::settings::{
    self, BandIo, CreditSettings, CreditSettingsIn, ItemIn, ItemOut, LimitIo, MeasuresIo, WorseningIo,
};
use crate::app::customers::accounts::{self, Seen};
use crate::app::records::attachments::{FileHolder, MAX_BYTES};
use crate::app::records::once::{self, Once};
use crate::domain::account::CreditGrade;
use crate::domain::credit::{self as cr, REQUIRED_DOCUMENTS};
use crate::domain::money::{format_fen, parse_amount};
use crate::domain::quote::InstallmentKind;
use crate::domain::DomainError;
use crate::web::api::quotes::attachments::file_in;
use crate::web::api::{id_of, q, query_pairs};
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::forms::{once_of, posted_once, with_flash};
use crate::web::ui::quotes::attachments::{download, parts};
use crate::web::ui::{error_lines, fail_page, render, Layout, Load, Section};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    let limit = || axum::extract::DefaultBodyLimit::max(MAX_BYTES + 64 * 1024);
    Router::new()
        .route("/settings/credit", get(settings_get).post(settings_post))
        .route("/accounts/{id}/credit", get(account_page))
        .route("/accounts/{id}/credit/evaluate", get(evaluate_form).post(evaluate_post))
        .route("/credit-evaluations/{id}/print", get(evaluation_print))
        .route("/credit-evaluations/{id}/attachments", post(upload).layer(limit()))
        .route("/credit-evaluations/{id}/attachments/{file_id}", get(|s, ui, p| download(s, ui, p, Documents)))
        .route("/credit-evaluations/{id}/attachments/{file_id}/remove", post(remove))
        .route("/credit/lists", get(lists_page))
        .route("/credit/lists/export", get(|s, ui, q| export(s, ui, q, "xlsx")))
        .route("/credit/lists/export.csv", get(|s, ui, q| export(s, ui, q, "csv")))
}

/// A query string of the pairs.
fn enc_pairs(pairs: &[(String, String)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

fn text(form: &UiForm, k: &str) -> String {
    form.get(k).map(str::trim).unwrap_or("").to_string()
}

fn with_status(mut res: Response, err: &Option<DomainError>) -> Response {
    if let Some(e) = err {
        *res.status_mut() = crate::web::ui::status_and_code(e).0;
    }
    res
}

// ---------------------------------------------------------------------------------------------
// The settings

/// The rules as the settings form shows them (those in force, or those just typed).
struct Shown {
    scale_max: String,
    items: Vec<ItemOut>,
    bands: Vec<BandIo>,
    fulfilment: Vec<WorseningIo>,
    limits: Vec<(String, String, String)>,
    measures: Vec<MeasuresIo>,
}

impl Shown {
    fn of(p: &CreditSettings) -> Shown {
        Shown {
            scale_max: p.scale_max.to_string(),
            items: p.items.clone(),
            bands: p.bands.clone(),
            fulfilment: p.fulfilment.clone(),
            limits: p.limits.iter().map(|l| (l.from.to_string(), l.to.to_string(), l.limit.clone())).collect(),
            measures: p.measures.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "credit_settings.html")]
struct SettingsPage {
    l: Layout,
    p: CreditSettings,
    f: Shown,
    grades: Vec<&'static str>,
    kinds: Vec<&'static str>,
    can_edit: bool,
    errors: Vec<String>,
}

impl SettingsPage {
    fn has_kind(&self, m: &MeasuresIo, k: &str) -> bool {
        m.installments.iter().any(|x| x.code() == k)
    }
}

const BAND_ROWS: usize = 4;
const FULFILMENT_ROWS: usize = 3;
const LIMIT_ROWS: usize = 8;

async fn settings_page(s: &AppState, ui: &UiCtx, typed: Option<Shown>, err: Option<DomainError>) -> Response {
    let p = match settings::load(&s.app.db, &ui.ctx.caller).await {
        Ok(p) => p,
        Err(e) => return fail_page(ui, e),
    };
    let mut f = typed.unwrap_or_else(|| Shown::of(&p));
    while f.bands.len() < BAND_ROWS {
        f.bands.push(BandIo { grade: CreditGrade::Black, from: String::new(), to: None });
    }
    while f.fulfilment.len() < FULFILMENT_ROWS {
        f.fulfilment.push(WorseningIo { below: String::new(), down: 0 });
    }
    while f.limits.len() < LIMIT_ROWS {
        f.limits.push(Default::default());
    }
    let l = Layout::new(ui, "credit_settings", ui.lang.t("credit.settings_title"));
    let errors = err.as_ref().map(|e| error_lines(&l, e)).unwrap_or_default();
    let page = SettingsPage {
        l,
        p,
        f,
        grades: CreditGrade::ALL.iter().map(|g| g.code()).collect(),
        kinds: InstallmentKind::ALL.iter().map(|k| k.code()).collect(),
        can_edit: settings::may_edit(ui.ctx.caller.role),
        errors,
    };
    with_status(render(&page), &err)
}

async fn settings_get(State(s): State<AppState>, ui: UiCtx) -> Response {
    settings_page(&s, &ui, None, None).await
}

/// An amount as typed (`100万`, `1,000,000`) as the API's decimal string; what does not read
/// is passed on as typed, for the rules to name.
fn amount(v: &str) -> String {
    parse_amount(v).map(format_fen).unwrap_or_else(|_| v.to_string())
}

async fn settings_post(State(s): State<AppState>, form: UiForm) -> Response {
    let ui = &form.ui;
    let mut e: Option<DomainError> = None;
    let int = |k: &str, e: &mut Option<DomainError>| -> i64 {
        let v = text(&form, k);
        if v.is_empty() {
            return 0;
        }
        v.parse().unwrap_or_else(|_| {
            e.get_or_insert_with(|| DomainError::invalid(k.split('_').next().unwrap_or(k), "expected_integer"));
            -1
        })
    };
    let scale_max = int("scale_max", &mut e);
    let items: Vec<ItemIn> =
        cr::ITEMS.iter().map(|(i, _)| ItemIn { item: i.to_string(), weight: int(&format!("w_{i}"), &mut e) }).collect();
    let mut bands = vec![];
    for i in 0..BAND_ROWS {
        let (from, to, g) = (
            text(&form, &format!("band_from_{i}")),
            text(&form, &format!("band_to_{i}")),
            text(&form, &format!("band_grade_{i}")),
        );
        if from.is_empty() && to.is_empty() {
            continue;
        }
        let grade = CreditGrade::parse(&g).unwrap_or(CreditGrade::Black);
        bands.push(BandIo { grade, from: amount(&from), to: (!to.is_empty()).then(|| amount(&to)) });
    }
    let mut fulfilment = vec![];
    for i in 0..FULFILMENT_ROWS {
        let below = text(&form, &format!("ful_below_{i}"));
        if below.is_empty() {
            continue;
        }
        fulfilment.push(WorseningIo { below, down: int(&format!("ful_down_{i}"), &mut e) });
    }
    let mut limits = vec![];
    let mut typed_limits = vec![];
    for i in 0..LIMIT_ROWS {
        let (a, b, c) = (
            text(&form, &format!("lim_from_{i}")),
            text(&form, &format!("lim_to_{i}")),
            text(&form, &format!("lim_amount_{i}")),
        );
        if a.is_empty() && b.is_empty() && c.is_empty() {
            continue;
        }
        typed_limits.push((a.clone(), b.clone(), c.clone()));
        limits.push(LimitIo {
            from: int(&format!("lim_from_{i}"), &mut e),
            to: int(&format!("lim_to_{i}"), &mut e),
            limit: amount(&c),
        });
    }
    let measures: Vec<MeasuresIo> = CreditGrade::ALL
        .iter()
        .map(|g| MeasuresIo {
            grade: *g,
            max_credit_days: int(&format!("m_days_{g}"), &mut e),
            installments: InstallmentKind::ALL
                .iter()
                .filter(|k| form.get(&format!("m_kind_{g}_{k}")).is_some())
                .copied()
                .collect(),
            max_discount: text(&form, &format!("m_discount_{g}")),
            prepayment: form.get(&format!("m_prepay_{g}")).is_some(),
        })
        .collect();
    let typed = Shown {
        scale_max: text(&form, "scale_max"),
        items: items
            .iter()
            .map(|i| ItemOut {
                item: i.item.clone(),
                category: cr::category_of(&i.item).unwrap_or("basic").into(),
                weight: i.weight,
            })
            .collect(),
        bands: bands.clone(),
        fulfilment: fulfilment.clone(),
        limits: typed_limits,
        measures: measures.clone(),
    };
    if let Some(err) = e {
        return settings_page(&s, ui, Some(typed), Some(err)).await;
    }
    let version = text(&form, "version").parse().unwrap_or(0);
    let inp = CreditSettingsIn { scale_max, items, bands, fulfilment, limits, measures, version };
    match settings::save(&s.app.db, &ui.ctx, &inp).await {
        Ok(_) => Redirect::to(&with_flash("/settings/credit", "saved")).into_response(),
        Err(e @ (DomainError::Forbidden | DomainError::NotFound)) => fail_page(ui, e),
        Err(e) => settings_page(&s, ui, Some(typed), Some(e)).await,
    }
}

// ---------------------------------------------------------------------------------------------
// The evaluation form

struct MarkRow {
    item: &'static str,
    category: &'static str,
    weight: i64,
    value: String,
    error: Option<String>,
}

struct InfoRow {
    name: &'static str,
    kind: &'static str,
    max: usize,
    value: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "credit_evaluate.html")]
struct EvaluatePage {
    l: Layout,
    account_id: i64,
    account_name: String,
    scale: Vec<i64>,
    marks: Vec<MarkRow>,
    info: Vec<InfoRow>,
    notes: String,
    errors: Vec<String>,
    /// The form's one-time token (Back and submit again saves once).
    once: String,
}

const INFO_FIELDS: &[(&str, &str, usize)] = &[
    ("legal_representative", "text", 100),
    ("registered_capital", "money", 30),
    ("founded_on", "date", 10),
    ("employees", "number", 10),
    ("main_business", "text", 500),
    ("bank_name", "text", 100),
    ("bank_account", "text", 40),
    ("revenue_last_year", "money", 30),
    ("total_assets", "money", 30),
    ("phone", "text", 40),
];

fn info_value(i: &BasicInfo, name: &str) -> String {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    match name {
        "legal_representative" => o(&i.legal_representative),
        "registered_capital" => o(&i.registered_capital),
        "founded_on" => o(&i.founded_on),
        "employees" => i.employees.map(|n| n.to_string()).unwrap_or_default(),
        "main_business" => o(&i.main_business),
        "bank_name" => o(&i.bank_name),
        "bank_account" => o(&i.bank_account),
        "revenue_last_year" => o(&i.revenue_last_year),
        "total_assets" => o(&i.total_assets),
        _ => o(&i.phone),
    }
}

async fn evaluate_page(
    s: &AppState,
    ui: &UiCtx,
    id: &str,
    typed: Option<(Vec<(String, String)>, String)>,
    err: Option<DomainError>,
    once: String,
) -> Response {
    let caller = &ui.ctx.caller;
    let res = async {
        if !caller.sees_credit() {
            return Err(DomainError::NotFound);
        }
        let id = id_of(id)?;
        let a = accounts::get(&s.app.db, caller, id).await?;
        let p = settings::load(&s.app.db, caller).await?;
        let latest = evaluations::of_account(&s.app.db, caller, a.seen()).await?.into_iter().next();
        Ok::<_, DomainError>((a, p, latest))
    }
    .await;
    let (a, p, latest) = match res {
        Ok(x) => x,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "credit_lists", format!("{} · {}", ui.lang.t("credit.evaluate_title"), a.name));
    let field_error = |f: &str| match &err {
        Some(DomainError::Invalid(fs)) => fs.iter().find(|x| x.field == f).map(|x| l.lang.msg("invalid", x.code)),
        _ => None,
    };
    let (fields, notes) = match typed {
        Some(t) => t,
        None => {
            // A new evaluation starts from the latest one's sheet (the company's facts change slowly).
            let info = latest.as_ref().map(|v| v.info.clone()).unwrap_or_default();
            let fields = INFO_FIELDS.iter().map(|(n, _, _)| (format!("info.{n}"), info_value(&info, n))).collect();
            (fields, String::new())
        }
    };
    let val = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let marks = cr::ITEMS
        .iter()
        .map(|&(item, category)| MarkRow {
            item,
            category,
            weight: p.items.iter().find(|x| x.item == item).map(|x| x.weight).unwrap_or(0),
            value: val(&format!("items.{item}")),
            error: field_error(&format!("items.{item}")),
        })
        .collect();
    let info = INFO_FIELDS
        .iter()
        .map(|&(name, kind, max)| InfoRow {
            name,
            kind,
            max,
            value: val(&format!("info.{name}")),
            error: field_error(&format!("info.{name}")),
        })
        .collect();
    let errors = err.as_ref().map(|e| error_lines(&l, e)).unwrap_or_default();
    let page = EvaluatePage {
        account_id: a.id,
        account_name: a.name.clone(),
        scale: (0..=p.scale_max).collect(),
        marks,
        info,
        notes,
        errors,
        once,
        l,
    };
    with_status(render(&page), &err)
}

async fn evaluate_form(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>, uri: Uri) -> Response {
    if !ui.ctx.caller.sees_credit() {
        return fail_page(&ui, DomainError::NotFound);
    }
    let once = match once_of(&uri) {
        Ok(t) => t,
        Err(redirect) => return redirect.into_response(),
    };
    evaluate_page(&s, &ui, &id, None, None, once).await
}

async fn evaluate_post(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let account_id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let mut items = std::collections::BTreeMap::new();
    let mut bad: Vec<crate::domain::FieldError> = vec![];
    for (item, _) in cr::ITEMS {
        let k = format!("items.{item}");
        let v = text(&form, &k);
        match v.parse::<i64>() {
            Ok(n) => {
                items.insert(item.to_string(), n);
            }
            Err(_) if v.is_empty() => bad.push(crate::domain::FieldError::new(k, "required")),
            Err(_) => bad.push(crate::domain::FieldError::new(k, "expected_integer")),
        }
    }
    let opt = |k: &str| Some(text(&form, k)).filter(|v| !v.is_empty());
    let employees = match opt("info.employees").map(|v| v.parse::<i64>()) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => {
            bad.push(crate::domain::FieldError::new("info.employees", "expected_integer"));
            None
        }
    };
    let money = |k: &str| opt(k).map(|v| amount(&v));
    let info = BasicInfo {
        legal_representative: opt("info.legal_representative"),
        registered_capital: money("info.registered_capital"),
        founded_on: opt("info.founded_on"),
        employees,
        main_business: opt("info.main_business"),
        bank_name: opt("info.bank_name"),
        bank_account: opt("info.bank_account"),
        revenue_last_year: money("info.revenue_last_year"),
        total_assets: money("info.total_assets"),
        phone: opt("info.phone"),
    };
    let notes = text(&form, "notes");
    let typed = Some((form.fields.clone(), notes.clone()));
    let token = posted_once(&form.fields).map(str::to_string).unwrap_or_default();
    if !bad.is_empty() {
        return evaluate_page(&s, ui, &id, typed, Some(DomainError::Invalid(bad)), token).await;
    }
    let inp = EvaluationIn { items, info, notes: Some(notes).filter(|n| !n.is_empty()) };
    let target = |v: &EvaluationView| format!("/accounts/{account_id}/credit#evaluation-{}", v.id);
    let make = async |tx: &mut crate::db::WriteTx| evaluations::create_in(tx, &ui.ctx, account_id, &inp).await;
    match once::create(&s.app.db, &ui.ctx, posted_once(&form.fields), target, make).await {
        Ok(Once::Created(v)) => Redirect::to(&with_flash(&target(&v), "saved")).into_response(),
        // Saved by an earlier post of this form (Back and submit again): where it is shown.
        Ok(Once::Already(to)) => Redirect::to(&to).into_response(),
        Err(e @ (DomainError::Forbidden | DomainError::NotFound)) => fail_page(ui, e),
        Err(e) => evaluate_page(&s, ui, &id, typed, Some(e), token).await,
    }
}

// ---------------------------------------------------------------------------------------------
// An account's credit page and the account page's section

#[derive(Template)]
#[template(path = "credit_account.html")]
struct AccountCreditPage {
    l: Layout,
    account_id: i64,
    account_name: String,
    panel: Panel,
    evaluations: Vec<EvaluationView>,
    documents: Vec<&'static str>,
    errors: Vec<String>,
}

impl AccountCreditPage {
    fn fen(&self, v: &str) -> String {
        self.l.money(Some(&v.to_string()))
    }
    /// The kind the upload form offers first: the first required document missing.
    fn preselect(&self, e: &EvaluationView, d: &str) -> bool {
        e.missing_documents.first().is_some_and(|m| m == d)
    }
}

async fn account_credit(s: &AppState, ui: &UiCtx, id: &str, err: Option<DomainError>) -> Response {
    let caller = &ui.ctx.caller;
    let res = async {
        if !caller.sees_credit() {
            return Err(DomainError::NotFound);
        }
        let id = id_of(id)?;
        let a = accounts::get(&s.app.db, caller, id).await?;
        let f = crate::app::classification::downgrade::fulfilment_of(&s.app.db, caller, a.seen())
            .await
            .page_data("account credit", "fulfilment")?;
        let panel = grades::panel(&s.app.db, caller, a.seen(), Some(f)).await.page_data("account credit", "panel")?;
        let evaluations =
            evaluations::of_account(&s.app.db, caller, a.seen()).await.page_data("account credit", "evaluations")?;
        Ok::<_, DomainError>((a, panel, evaluations))
    }
    .await;
    let (a, panel, evaluations) = match res {
        Ok(x) => x,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "credit_lists", format!("{} · {}", ui.lang.t("credit.title"), a.name));
    let errors = err.as_ref().map(|e| error_lines(&l, e)).unwrap_or_default();
    let page = AccountCreditPage {
        l,
        account_id: a.id,
        account_name: a.name,
        panel,
        evaluations,
        documents: REQUIRED_DOCUMENTS.iter().copied().chain(std::iter::once(cr::OTHER_DOCUMENT)).collect(),
        errors,
    };
    with_status(render(&page), &err)
}

async fn account_page(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    account_credit(&s, &ui, &id, None).await
}

/// The account page's credit part: for those who see credit the panel; for others at most
/// whether the account's terms need approval (never the grade, limit or score).
pub enum AccountSection {
    Credit(Box<Section<Panel>>),
    TermsNeedApproval,
    Nothing,
}

pub async fn account_section(s: &AppState, ui: &UiCtx, seen: Seen) -> AccountSection {
    if ui.ctx.caller.sees_credit() {
        AccountSection::Credit(Box::new(
            match crate::app::classification::downgrade::fulfilment_of(&s.app.db, &ui.ctx.caller, seen).await {
                Ok(f) => grades::panel(&s.app.db, &ui.ctx.caller, seen, Some(f)).await,
                Err(e) => Err(e),
            }
            .section("account", "credit"),
        ))
    } else {
        match grades::terms_need_approval(&s.app.db, seen).await {
            Ok(true) => AccountSection::TermsNeedApproval,
            _ => AccountSection::Nothing,
        }
    }
}

/// The account page's credit section, rendered.
#[derive(Template)]
#[template(path = "credit_section.html")]
pub struct SectionView<'a> {
    pub l: &'a Layout,
    pub account_id: i64,
    pub section: &'a AccountSection,
}

impl SectionView<'_> {
    pub fn html(&self) -> String {
        self.render().unwrap_or_default()
    }
}

/// The evaluation whose documents changed: its account's credit page.
async fn evaluation_account(s: &AppState, ui: &UiCtx, id: i64) -> Result<i64, DomainError> {
    Ok(evaluations::get(&s.app.db, &ui.ctx.caller, id).await?.account_id)
}

async fn upload(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>, m: Multipart) -> Response {
    let res = async {
        let id = id_of(&id)?;
        Ok::<_, DomainError>((id, evaluation_account(&s, &ui, id).await?))
    }
    .await;
    let (id, account) = match res {
        Ok(x) => x,
        Err(e) => return fail_page(&ui, e),
    };
    let res = async {
        let p = parts(&ui, m).await?;
        Documents.attach(&s.app.db, &ui.ctx, &s.app.settings.files(), id, &file_in(&p)).await
    }
    .await;
    match res {
        Ok(_) => Redirect::to(&with_flash(&format!("/accounts/{account}/credit#evaluation-{id}"), "attached"))
            .into_response(),
        Err(e @ DomainError::Invalid(_)) => account_credit(&s, &ui, &account.to_string(), Some(e)).await,
        Err(e) => fail_page(&ui, e),
    }
}

async fn remove(State(s): State<AppState>, Path((id, f)): Path<(String, String)>, form: UiForm) -> Response {
    let ui = &form.ui;
    let res = async {
        let (id, f) = (id_of(&id)?, id_of(&f)?);
        let account = evaluation_account(&s, ui, id).await?;
        Documents.detach(&s.app.db, &ui.ctx, id, f).await?;
        Ok::<_, DomainError>((id, account))
    }
    .await;
    match res {
        Ok((id, account)) => {
            Redirect::to(&with_flash(&format!("/accounts/{account}/credit#evaluation-{id}"), "detached"))
                .into_response()
        }
        Err(e) => fail_page(ui, e),
    }
}

// ---------------------------------------------------------------------------------------------
// The credit lists

#[derive(Template)]
#[template(path = "credit_lists.html")]
struct ListsPage {
    l: Layout,
    /// (list, label, count, href, current)
    tabs: Vec<(&'static str, String, i64, String, bool)>,
    grade: String,
    f_q: String,
    f_region: String,
    f_owner: String,
    f_status: String,
    regions: Section<Vec<(String, String)>>,
    owners: Section<Vec<(String, String)>>,
    statuses: Vec<(String, String)>,
    rows: Vec<CreditRow>,
    /// (label, sort href)
    columns: Vec<(String, Option<String>)>,
    next_href: Option<String>,
    export_qs: String,
}

fn list_filter(p: &[(String, String)]) -> lists::Filter {
    let v = |k: &str| q(p, k).map(str::to_string);
    lists::Filter {
        grade: v("grade"),
        region: v("region"),
        owner: v("owner"),
        q: v("q"),
        status: v("status"),
        sort: v("sort"),
        cursor: v("cursor"),
        limit: None,
    }
}

async fn lists_page(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let caller = &ui.ctx.caller;
    let p = query_pairs(raw);
    let f = list_filter(&p);
    let res = async {
        let page = lists::list(&s.app.db, caller, &f).await?;
        let counts = lists::counts(&s.app.db, caller, &f).await?;
        Ok::<_, DomainError>((page, counts))
    }
    .await;
    let (page, counts) = match res {
        Ok(x) => x,
        Err(e) => return fail_page(&ui, e),
    };
    let l = Layout::new(&ui, "credit_lists", ui.lang.t("credit.lists_title"));
    let grade = f.grade.clone().unwrap_or_default();
    let kept = |skip: &[&str]| -> Vec<(String, String)> {
        ["grade", "q", "region", "owner", "status", "sort"]
            .iter()
            .filter(|k| !skip.contains(k))
            .filter_map(|k| q(&p, k).map(|v| (k.to_string(), v.to_string())))
            .collect()
    };
    let tabs = LISTS
        .iter()
        .map(|g| {
            let mut k = kept(&["grade"]);
            k.push(("grade".into(), g.to_string()));
            let n = counts.iter().find(|(x, _)| x == g).map(|(_, n)| *n).unwrap_or(0);
            (*g, l.t(&format!("credit.list_{g}")), n, format!("/credit/lists?{}", enc_pairs(&k)), grade == *g)
        })
        .collect();
    let sort = q(&p, "sort").unwrap_or("name").to_string();
    let sort_link = |key: &str| {
        let next = if sort == key { format!("-{key}") } else { key.to_string() };
        let mut k = kept(&["sort"]);
        k.push(("sort".into(), next));
        Some(format!("/credit/lists?{}", enc_pairs(&k)))
    };
    let columns = vec![
        (l.t("field.name"), sort_link("name")),
        (l.t("field.region"), None),
        (l.t("field.owner"), None),
        (l.t("field.status"), None),
        (l.t("field.credit_grade"), None),
        (l.t("field.credit_score"), sort_link("score")),
        (l.t("field.credit_limit"), sort_link("limit")),
        (l.t("field.sales_12m"), sort_link("sales_12m")),
        (l.t("field.last_evaluated_on"), None),
    ];
    let next_href = page.next_cursor.as_ref().map(|c| {
        let mut k = kept(&[]);
        k.push(("cursor".into(), c.clone()));
        format!("/credit/lists?{}", enc_pairs(&k))
    });
    let regions = crate::app::people::org::list(&s.app.db)
        .await
        .section("credit lists", "regions")
        .map(|us| us.into_iter().filter(|o| o.kind == "region").map(|o| (o.code, o.name)).collect());
    let owners = crate::app::people::users::list(&s.app.db).await.section("credit lists", "owners").map(|us| {
        let mut v: Vec<(String, String)> =
            us.into_iter().filter(|u| u.role.works_accounts()).map(|u| (u.username, u.display_name)).collect();
        v.sort_by_cached_key(|(_, n)| crate::domain::pinyin::sort_key(n));
        v
    });
    let statuses =
        crate::domain::account::Status::ALL.iter().map(|s| (s.code().to_string(), l.e("status", s.code()))).collect();
    let page_t = ListsPage {
        tabs,
        grade,
        f_q: q(&p, "q").unwrap_or("").to_string(),
        f_region: q(&p, "region").unwrap_or("").to_string(),
        f_owner: q(&p, "owner").unwrap_or("").to_string(),
        f_status: q(&p, "status").unwrap_or("").to_string(),
        regions,
        owners,
        statuses,
        rows: page.items,
        columns,
        next_href,
        export_qs: enc_pairs(&kept(&["sort"])),
        l,
    };
    render(&page_t)
}

async fn export(s: State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery, format: &str) -> Response {
    let p = query_pairs(raw);
    let res = async {
        let t = lists::export(&s.app.db, &ui.ctx.caller, &list_filter(&p)).await?;
        crate::web::ui::export_download(&s.app.db, &ui, &t, format, "credit_accounts").await
    }
    .await;
    res.unwrap_or_else(|e| fail_page(&ui, e))
}

// ---------------------------------------------------------------------------------------------
// The printed form (A4): 信用等级评分表 with the customer basic information sheet

#[derive(Template)]
#[template(path = "credit_evaluation_print.html")]
struct EvaluationPrint {
    l: Layout,
    e: EvaluationView,
    account_name: String,
    company: crate::app::quotes::quotes::Company,
    today: String,
}

async fn evaluation_print(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    let caller = &ui.ctx.caller;
    let res = async {
        let e = evaluations::get(&s.app.db, caller, id_of(&id)?).await?;
        let a = accounts::get(&s.app.db, caller, e.account_id).await?;
        let company = crate::app::quotes::quotes::company(&s.app.db).await?;
        Ok::<_, DomainError>((e, a.name, company))
    }
    .await;
    match res {
        Ok((e, account_name, company)) => {
            let l = Layout::new(&ui, "credit_lists", format!("{} · {}", ui.lang.t("credit.form_title"), account_name));
            render(&EvaluationPrint { l, e, account_name, company, today: caller.today() })
        }
        Err(e) => fail_page(&ui, e),
    }
}
