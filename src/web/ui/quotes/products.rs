//! The product catalogue's pages (产品目录): the list with its filters and exports, a product,
//! the form (create once per token, edit over the version), deactivation, and the import.
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::app::quotes::products::{self, ProductView, MONEY_FIELDS};
use crate::app::records::audit::AuditFilter;
use crate::app::records::input::Input;
use crate::app::records::once;
use crate::app::spreadsheets::import::{Report, Source};
use crate::db::WriteTx;
use crate::domain::DomainError;
use crate::web::api::{id_of, q, query_pairs};
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::forms::{
    missing_or_forbidden, once_done, once_of, posted_once, redisplay_or_redirect, with_flash, Field, FormPage,
};
use crate::web::ui::{fail_page, history_rows, render, HistoryRow, Layout, Load, Section};
use crate::web::AppState;

/// The largest import upload (a catalogue is a few thousand rows).
const UPLOAD_LIMIT: usize = 16 * 1024 * 1024;
/// A file checked by a dry run is carried in the report page (so "import now" needs no second
/// upload) when it is at most this large; a larger one is uploaded again.
const CARRY_LIMIT: usize = 2 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/products", get(list))
        .route("/products/export.csv", get(|s, ui, q| export(s, ui, q, "csv")))
        .route("/products/export.xlsx", get(|s, ui, q| export(s, ui, q, "xlsx")))
        .route("/products/new", get(new_form).post(create))
        .route(
            "/products/import",
            get(import_page).post(import).layer(axum::extract::DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route("/products/{id}", get(show))
        .route("/products/{id}/edit", get(edit_form).post(update))
        .route("/products/{id}/active", post(set_active))
}

const FILTER_KEYS: &[&str] = &["q", "category", "active", "sort"];

fn qs(pairs: &[(&str, String)]) -> String {
    serde_urlencoded::to_string(pairs.iter().filter(|(_, v)| !v.is_empty()).collect::<Vec<_>>()).unwrap_or_default()
}

/// An amount of the catalogue as the pages show it: always in 元 (unit prices are small).
fn yuan(v: &Option<String>) -> String {
    crate::web::ui::money(v)
}

/// A row of the list, ready to show.
struct Row {
    id: i64,
    code: String,
    name: String,
    category: String,
    specification: String,
    unit: String,
    list_price: String,
    floor_price: String,
    tax_rate: String,
    standard_cost: String,
    active: bool,
}

impl Row {
    fn of(p: ProductView) -> Row {
        let dash = |v: Option<String>| v.filter(|s| !s.is_empty()).unwrap_or_else(|| "—".into());
        Row {
            id: p.id,
            list_price: yuan(&Some(p.list_price)),
            floor_price: yuan(&p.floor_price),
            tax_rate: format!("{}%", p.tax_rate.trim_end_matches(".00")),
            standard_cost: yuan(&p.standard_cost),
            code: p.code,
            name: p.name,
            category: dash(p.category),
            specification: dash(p.specification),
            unit: p.unit,
            active: p.active,
        }
    }
}

#[derive(Template)]
#[template(path = "products.html")]
struct ListPage {
    l: Layout,
    f_q: String,
    f_category: String,
    f_active: String,
    categories: Section<Vec<String>>,
    rows: Vec<Row>,
    /// Column headers: label, sort link, numeric.
    columns: Vec<(String, Option<String>, bool)>,
    count_text: String,
    filter_qs: String,
    has_cursor: bool,
    next_href: Option<String>,
    can_edit: bool,
    sees_floor: bool,
}

async fn list(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let caller = &ui.ctx.caller;
    let db = &s.app.db;
    let res = async {
        let f = crate::web::api::quotes::products::filter_from(&p)?;
        tokio::try_join!(products::list(db, caller, &f), products::count(db, caller, &f))
    }
    .await;
    let (page, n) = match res {
        Ok(x) => x,
        Err(e) => return fail_page(&ui, e),
    };
    let l = Layout::new(&ui, "products", ui.lang.t("products.title"));
    let val = |k: &str| q(&p, k).unwrap_or("").to_string();
    let kept: Vec<(&str, String)> = FILTER_KEYS.iter().map(|k| (*k, val(k))).collect();
    let sort = val("sort");
    let sort_link = |key: &str| {
        let next = if sort == key { format!("-{key}") } else { key.to_string() };
        let mut k: Vec<(&str, String)> = kept.iter().filter(|(n, _)| *n != "sort").cloned().collect();
        k.push(("sort", next));
        Some(format!("/products?{}", qs(&k)))
    };
    let sees_floor = caller.role.sees_floor_price();
    let mut columns = vec![
        (l.t("field.product_code"), sort_link("code"), false),
        (l.t("field.product_name"), sort_link("name"), false),
        (l.t("field.category"), None, false),
        (l.t("field.specification"), None, false),
        (l.t("field.unit"), None, false),
        (l.t("field.list_price"), sort_link("list_price"), true),
    ];
    if sees_floor {
        columns.push((l.t("field.floor_price"), None, true));
    }
    columns.push((l.t("field.tax_rate"), None, true));
    if sees_floor {
        columns.push((l.t("field.standard_cost"), None, true));
    }
    columns.push((l.t("products.status"), None, false));
    let next_href = page.next_cursor.as_ref().map(|c| {
        let mut k = kept.clone();
        k.push(("cursor", c.clone()));
        format!("/products?{}", qs(&k))
    });
    let categories = products::categories(db, caller).await.section("products", "categories");
    let page_t = ListPage {
        count_text: l.t("products.count").replace("{n}", &n.to_string()),
        f_q: val("q"),
        f_category: val("category"),
        f_active: val("active"),
        categories,
        rows: page.items.into_iter().map(Row::of).collect(),
        columns,
        filter_qs: qs(&kept),
        has_cursor: q(&p, "cursor").is_some(),
        next_href,
        can_edit: products::may_edit(caller),
        sees_floor,
        l,
    };
    render(&page_t)
}

async fn export(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery, format: &str) -> Response {
    let p = query_pairs(raw);
    let res = async {
        let f = crate::web::api::quotes::products::filter_from(&p)?;
        let f = products::Filter { cursor: None, limit: None, ..f };
        let rows = products::export(&s.app.db, &ui.ctx.caller, &f).await?;
        crate::web::api::quotes::products::download(&rows, &ui.ctx.caller, ui.lang, format)
    }
    .await;
    res.unwrap_or_else(|e| fail_page(&ui, e))
}

// ---------------------------------------------------------------------------------------------
// The form.

/// Amounts as people type them (`1,280,000`, `128万`) in the API's decimal form, so the use case
/// checks one format; what cannot be read stays as typed and is refused naming the field.
fn read_amounts(fields: &mut [(String, String)]) {
    for (k, v) in fields.iter_mut() {
        if MONEY_FIELDS.contains(&k.as_str()) && !v.trim().is_empty() {
            *v = crate::domain::money::normalize_amount(v);
        }
    }
}

/// A code in use, shown beside the code field like any other refusal of it.
fn code_taken(e: DomainError) -> DomainError {
    match e {
        DomainError::Duplicate { field: "code", .. } => DomainError::invalid("code", "code_taken"),
        e => e,
    }
}

fn product_form(l: Layout, ui: &UiCtx, p: Option<&ProductView>) -> FormPage {
    let g = |f: fn(&ProductView) -> Option<String>| p.and_then(f);
    let mut code = Field::new(&l, "code", "text", g(|p| Some(p.code.clone()))).required();
    code.label = l.t("field.product_code");
    let mut name = Field::new(&l, "name", "text", g(|p| Some(p.name.clone()))).required();
    name.label = l.t("field.product_name");
    let mut fields = vec![
        code,
        name,
        Field::new(&l, "category", "text", g(|p| p.category.clone())),
        Field::new(&l, "specification", "text", g(|p| p.specification.clone())),
        Field::new(&l, "unit", "text", g(|p| Some(p.unit.clone()))).required(),
        Field::new(&l, "list_price", "text", g(|p| Some(p.list_price.clone()))).required().help(l.t("help.money")),
    ];
    if ui.ctx.caller.role.sees_floor_price() {
        fields.push(Field::new(&l, "floor_price", "text", g(|p| p.floor_price.clone())).help(l.t("help.floor_price")));
    }
    fields.push(
        Field::new(&l, "tax_rate", "text", Some(g(|p| Some(p.tax_rate.clone())).unwrap_or_else(|| "13".into())))
            .help(l.t("help.tax_rate")),
    );
    if ui.ctx.caller.role.sees_floor_price() {
        fields.push(Field::new(&l, "standard_cost", "text", g(|p| p.standard_cost.clone())).help(l.t("help.money")));
    }
    let active = p.is_none_or(|p| p.active).to_string();
    let mut status =
        Field::new(&l, "active", "select", Some(active)).choices(&l, "active", &["true", "false"]).required();
    status.label = l.t("products.status");
    fields.push(status);
    let (heading, action, cancel, submit) = match p {
        Some(p) => (
            format!("{} · {}", l.t("action.edit"), p.name),
            format!("/products/{}/edit", p.id),
            format!("/products/{}", p.id),
            l.t("action.save"),
        ),
        None => (l.t("products.new"), "/products/new".into(), "/products".into(), l.t("action.create")),
    };
    FormPage {
        heading,
        action,
        fields,
        version: p.map(|p| p.version),
        submit,
        cancel,
        errors: vec![],
        duplicate_of: None,
        once: None,
        l,
    }
}

async fn new_form(ui: UiCtx, uri: Uri) -> Response {
    if !products::may_edit(&ui.ctx.caller) {
        return fail_page(&ui, DomainError::Forbidden);
    }
    let once = match once_of(&uri) {
        Ok(t) => t,
        Err(redirect) => return redirect.into_response(),
    };
    let l = Layout::new(&ui, "products", ui.lang.t("products.new"));
    render(&FormPage { once: Some(once), ..product_form(l, &ui, None) })
}

async fn create(State(s): State<AppState>, mut form: UiForm) -> Response {
    read_amounts(&mut form.fields);
    let ui = &form.ui;
    let res = match Input::from_form(&form.fields) {
        Ok(inp) => {
            let page = |p: &ProductView| format!("/products/{}", p.id);
            let create = async |tx: &mut WriteTx| products::create_in(tx, &ui.ctx, &inp).await;
            once::create(&s.app.db, &ui.ctx, posted_once(&form.fields), page, create).await.map_err(code_taken)
        }
        Err(e) => Err(e),
    };
    redisplay_or_redirect(
        ui,
        res,
        |o| once_done(o, |p| format!("/products/{}", p.id)),
        |e| matches!(e, DomainError::Forbidden),
        Some(&form.fields),
        async |_| Ok(product_form(Layout::new(ui, "products", ui.lang.t("products.new")), ui, None)),
    )
    .await
}

async fn edit_form(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    let p = match async { products::get(&s.app.db, &ui.ctx.caller, id_of(&id)?).await }.await {
        Ok(p) => p,
        Err(e) => return fail_page(&ui, e),
    };
    if !products::may_edit(&ui.ctx.caller) {
        return fail_page(&ui, DomainError::Forbidden);
    }
    let l = Layout::new(&ui, "products", p.name.clone());
    render(&product_form(l, &ui, Some(&p)))
}

async fn update(State(s): State<AppState>, Path(id): Path<String>, mut form: UiForm) -> Response {
    read_amounts(&mut form.fields);
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let res = match Input::from_form(&form.fields) {
        Ok(inp) => products::update(&s.app.db, &ui.ctx, id, &inp).await.map_err(code_taken),
        Err(e) => Err(e),
    };
    redisplay_or_redirect(
        ui,
        res,
        |p| with_flash(&format!("/products/{}", p.id), "saved"),
        missing_or_forbidden,
        Some(&form.fields),
        async |e| {
            let cur = products::get(&s.app.db, &ui.ctx.caller, id).await.page_data("product form", "product")?;
            let mut page = product_form(Layout::new(ui, "products", ui.lang.t("action.edit")), ui, Some(&cur));
            page.keep_posted_version(e, &form.fields);
            Ok(page)
        },
    )
    .await
}

/// Deactivates or reactivates (`active` = `true`/`false`) over the version shown.
async fn set_active(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let res = async {
        let id = id_of(&id)?;
        let version = form
            .get("version")
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| DomainError::invalid("version", "required"))?;
        let active =
            products::parse_flag(form.get("active").unwrap_or("")).map_err(|c| DomainError::invalid("active", c))?;
        products::set_active(&s.app.db, &ui.ctx, id, active, version).await
    }
    .await;
    match res {
        Ok(p) => Redirect::to(&with_flash(&format!("/products/{}", p.id), "saved")).into_response(),
        Err(e) => fail_page(ui, e),
    }
}

// ---------------------------------------------------------------------------------------------
// A product.

#[derive(Template)]
#[template(path = "product.html")]
struct ProductPage {
    l: Layout,
    p: ProductView,
    fields: Vec<(String, String, &'static str)>,
    updated: String,
    by: String,
    can_edit: bool,
    history: Section<Vec<HistoryRow>>,
}

async fn show(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    let caller = &ui.ctx.caller;
    let p = match async { products::get(&s.app.db, caller, id_of(&id)?).await }.await {
        Ok(p) => p,
        Err(e) => return fail_page(&ui, e),
    };
    let l = Layout::new(&ui, "products", p.name.clone());
    let dash = |v: &Option<String>| v.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "—".into());
    let mut fields = vec![
        (l.t("field.product_code"), p.code.clone(), "code"),
        (l.t("field.category"), dash(&p.category), "category"),
        (l.t("field.specification"), dash(&p.specification), "specification"),
        (l.t("field.unit"), p.unit.clone(), "unit"),
        (l.t("field.list_price"), yuan(&Some(p.list_price.clone())), "list_price"),
    ];
    if caller.role.sees_floor_price() {
        fields.push((l.t("field.floor_price"), yuan(&p.floor_price), "floor_price"));
        fields.push((l.t("field.standard_cost"), yuan(&p.standard_cost), "standard_cost"));
    }
    fields.push((l.t("field.tax_rate"), format!("{}%", p.tax_rate.trim_end_matches(".00")), "tax_rate"));
    fields.push((l.t("products.status"), l.e("active", p.active.to_string()), "active"));
    let f = AuditFilter {
        entity: Some("product".into()),
        entity_id: Some(p.id.to_string()),
        limit: 100,
        ..Default::default()
    };
    let history = crate::app::records::history::list(&s.app.db, &ui.ctx, &f, None)
        .await
        .section("product", "history")
        .map(|h| history_rows(&l, h.items));
    let by = if p.updated_by == "system" { l.t("audit.system") } else { p.updated_by_name.clone() };
    let page =
        ProductPage { updated: l.time(&p.updated_at), by, can_edit: products::may_edit(caller), fields, history, p, l };
    render(&page)
}

// ---------------------------------------------------------------------------------------------
// The import.

#[derive(Template)]
#[template(path = "product_import.html")]
struct ImportPage {
    l: Layout,
    dry_run: bool,
    report: Option<Report>,
    summary: String,
    more_errors: String,
    /// Each refused cell: row, column, value, reason.
    errors: Vec<(usize, String, String, String)>,
    /// The file a clean dry run checked (base64), for "import now".
    carried: Option<String>,
    /// A clean dry run of a file too large to carry: upload it again to import.
    reupload: bool,
    /// The file could not be read at all.
    file_errors: Vec<String>,
}

impl ImportPage {
    fn new(ui: &UiCtx) -> ImportPage {
        ImportPage {
            l: Layout::new(ui, "products", ui.lang.t("products.import")),
            dry_run: true,
            report: None,
            summary: String::new(),
            more_errors: String::new(),
            errors: vec![],
            carried: None,
            reupload: false,
            file_errors: vec![],
        }
    }
}

async fn import_page(ui: UiCtx) -> Response {
    if !products::may_edit(&ui.ctx.caller) {
        return fail_page(&ui, DomainError::Forbidden);
    }
    render(&ImportPage::new(&ui))
}

async fn import(State(s): State<AppState>, ui: UiCtx, m: axum::extract::Multipart) -> Response {
    use base64::Engine as _;
    // URL-safe: the page carries it in an attribute as it is.
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let res = async {
        let parts = crate::web::api::customers::documents::read_multipart(m).await?;
        if !crate::web::auth::same_secret(parts.get("_csrf").unwrap_or(""), &ui.csrf) {
            return Err(DomainError::Csrf);
        }
        // The file itself, or the one a dry run checked and carried in its page.
        let bytes: Vec<u8> = match parts.get("carried") {
            Some(c) if parts.bytes.is_empty() => {
                b64.decode(c.trim()).map_err(|_| DomainError::invalid("file", "file_unreadable"))?
            }
            _ => parts.bytes.to_vec(),
        };
        if bytes.is_empty() {
            return Err(DomainError::invalid("file", "file_empty"));
        }
        let dry_run = parts.get("dry_run").is_some();
        let max = s.app.settings.import_max_errors;
        let r = products::import(&s.app.db, &ui.ctx, Source::bytes(bytes.clone()), dry_run, max).await?;
        Ok((r, bytes))
    }
    .await;
    let mut page = ImportPage::new(&ui);
    let lang = ui.lang;
    match res {
        Ok((r, bytes)) => {
            let key = match (r.refused(), r.dry_run) {
                (true, _) => "products.summary_rejected",
                (false, true) => "products.summary_dry",
                (false, false) => "products.summary_done",
            };
            page.summary = lang
                .t(key)
                .replace("{rows}", &r.rows.to_string())
                .replace("{n}", &r.created.to_string())
                .replace("{u}", &r.updated.to_string())
                .replace("{e}", &r.errors.len().to_string());
            let listed = r.errors.iter().map(|e| e.row).collect::<std::collections::BTreeSet<_>>().len();
            if r.errors_truncated {
                page.more_errors = crate::web::ui::more_errors_text(lang, listed);
            }
            page.errors = r
                .errors
                .iter()
                .map(|e| {
                    (
                        e.row,
                        column_label(lang, &e.column),
                        e.value.clone(),
                        crate::web::ui::import_reason(lang, &e.code),
                    )
                })
                .collect();
            if r.dry_run && !r.refused() {
                if bytes.len() <= CARRY_LIMIT {
                    page.carried = Some(b64.encode(&bytes));
                } else {
                    page.reupload = true;
                }
            }
            page.dry_run = r.dry_run;
            let refused = r.refused();
            page.report = Some(r);
            let mut res = render(&page);
            if refused {
                *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            }
            res
        }
        Err(e @ DomainError::Invalid(_)) => {
            page.file_errors = crate::web::ui::error_lines(&page.l, &e);
            let mut res = render(&page);
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            res
        }
        Err(e) => fail_page(&ui, e),
    }
}

/// A column of the import's report as the user knows it.
fn column_label(lang: crate::web::i18n::Lang, field: &str) -> String {
    match field {
        "code" => lang.t("field.product_code"),
        "name" => lang.t("field.product_name"),
        f => lang.msg("field", f),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn amounts_are_read_as_typed() {
        let mut f = vec![("list_price".to_string(), "128万".to_string()), ("name".to_string(), "128万".to_string())];
        super::read_amounts(&mut f);
        assert_eq!(f[0].1, "1280000.00");
        assert_eq!(f[1].1, "128万", "only amounts");
    }
}
