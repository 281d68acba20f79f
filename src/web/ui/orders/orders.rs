//! Order pages: the list (filters, paging, XLSX), an order with its lines, terms, versions and
//! sign-off, and the order form (lines, payment terms) reached from an account, a won
//! opportunity or an accepted quote. Every change goes through `app::orders::orders`.
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::app::orders::orders::{
    self as orders, Action, Filter, OrderIn, OrderInstallmentIn, OrderRow, OrderView, Origin,
};
use crate::app::quotes::quotes::{self as quotes, LineIn};
use crate::app::records::once;
use crate::db::WriteTx;
use crate::domain::order::OrderState;
use crate::domain::quote::InstallmentKind;
use crate::domain::DomainError;
use crate::web::api::{id_of, q, query_pairs};
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::forms::{
    missing_or_forbidden, once_done, once_of, posted_once, redisplay_or_redirect, with_flash, Redisplay,
};
use crate::web::ui::{enc, fail_page, render, Layout, Load};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orders", get(list))
        .route("/orders/export.xlsx", get(|s, ui, q| export(s, ui, q, "xlsx")))
        .route("/orders/export.csv", get(|s, ui, q| export(s, ui, q, "csv")))
        .route("/accounts/{id}/orders/new", get(new_on_account).post(create_on_account))
        .route("/opportunities/{id}/orders/new", get(new_on_opportunity).post(create_on_opportunity))
        .route("/quotes/{id}/orders/new", get(new_from_quote).post(create_from_quote))
        .route("/orders/{id}", get(show))
        .route("/orders/{id}/edit", get(edit_form).post(revise))
        .route("/orders/{id}/act", post(act))
}

// ---------------------------------------------------------------------------------------------
// The list

#[derive(Template)]
#[template(path = "orders.html")]
struct ListPage {
    l: Layout,
    rows: Vec<OrderRow>,
    q: String,
    owner: String,
    state: String,
    delivery_before: String,
    sort: String,
    states: Vec<&'static str>,
    sorts: &'static [&'static str],
    next_href: Option<String>,
    /// The filter's query, for the exports.
    base: String,
    /// The account the list is narrowed to (kept by the filter form).
    account_id: String,
}

/// The list's filter as the query gives it, and the query again (without the cursor) for the
/// next page's link and the exports.
struct Listed {
    f: Filter,
    account_id: String,
    base: String,
    q: String,
    owner: String,
    state: String,
    delivery_before: String,
    sort: String,
}

fn listed(p: &[(String, String)]) -> Result<Listed, DomainError> {
    let get = |k: &str| q(p, k).unwrap_or("").to_string();
    let (qv, owner, state, delivery_before, sort) =
        (get("q"), get("owner"), get("state"), get("delivery_before"), get("sort"));
    let account_id = match q(p, "account_id").map(str::parse::<i64>) {
        None => None,
        Some(Ok(a)) => Some(a),
        Some(Err(_)) => return Err(DomainError::invalid("account_id", "expected_integer")),
    };
    let account = account_id.map(|a| a.to_string()).unwrap_or_default();
    let base = enc(&[
        ("q", &qv),
        ("owner", &owner),
        ("state", &state),
        ("delivery_before", &delivery_before),
        ("account_id", &account),
        ("sort", &sort),
    ]);
    let f = Filter {
        q: Some(qv.clone()),
        owner: Some(owner.clone()),
        state: Some(state.clone()),
        delivery_before: Some(delivery_before.clone()),
        account_id,
        sort: (!sort.is_empty()).then(|| sort.clone()),
        cursor: q(p, "cursor").map(str::to_string),
        ..Default::default()
    };
    Ok(Listed { f, base, account_id: account, q: qv, owner, state, delivery_before, sort })
}

async fn list(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = crate::web::ui::pick::people_in(&s.app.db, query_pairs(raw), &["owner"]).await;
    let x = match listed(&p) {
        Ok(x) => x,
        Err(e) => return fail_page(&ui, e),
    };
    let page = match orders::list(&s.app.db, &ui.ctx.caller, &x.f).await {
        Ok(p) => p,
        Err(e) => return fail_page(&ui, e),
    };
    let l = Layout::new(&ui, "orders", ui.lang.t("orders.title"));
    let base = x.base;
    render(&ListPage {
        next_href: page.next_cursor.map(|c| format!("/orders?{base}&cursor={c}")),
        base,
        account_id: x.account_id,
        rows: page.items,
        q: x.q,
        owner: x.owner,
        state: x.state,
        delivery_before: x.delivery_before,
        sort: x.sort,
        states: OrderState::ALL.iter().map(|s| s.code()).collect(),
        sorts: orders::SORTS,
        l,
    })
}

/// The list as filtered, every row (not the page), as XLSX or CSV: amounts as numbers, states
/// by their label.
async fn export(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery, format: &str) -> Response {
    let p = crate::web::ui::pick::people_in(&s.app.db, query_pairs(raw), &["owner"]).await;
    let res = async {
        let Listed { f, .. } = listed(&p)?;
        let rows = orders::export_rows(&s.app.db, &ui.ctx.caller, &Filter { cursor: None, ..f }).await?;
        crate::web::api::person_download(&orders::table(&rows), &ui.ctx.caller, ui.lang, format, "orders")
    }
    .await;
    res.unwrap_or_else(|e| fail_page(&ui, e))
}

// ---------------------------------------------------------------------------------------------
// One order

#[derive(Template)]
#[template(path = "order.html")]
struct ShowPage {
    l: Layout,
    v: OrderView,
    can_write: bool,
    sees_margin: bool,
    errors: Vec<String>,
    /// What was typed in a refused form on the page.
    typed: Vec<(String, String)>,
    /// The order's invoices and receivables, and whether the caller records invoices.
    money: crate::web::ui::Section<crate::app::orders::receivables::OrderMoney>,
    keeps_books: bool,
    today: String,
    /// The order's delivery (出库与验收) and whether the caller prepares and moves outbounds.
    delivery: crate::web::ui::Section<crate::app::orders::deliveries::OrderDelivery>,
    can_deliver: bool,
    /// The order's returns (退货), for `return_section.html`.
    returns: crate::web::ui::Section<crate::app::orders::returns::OrderReturns>,
    /// The order's files (the signed contract), for `attachments_section.html`.
    files: crate::web::ui::Section<Vec<crate::app::records::attachments::Attachment>>,
    files_base: String,
    files_versioned: bool,
    can_attach: bool,
    /// The holds covering the order, for `holds_section.html`.
    oh: super::holds::OrderHolds,
}

impl ShowPage {
    /// The outbound quantity field's value as typed in a refused form (else what is left).
    fn typed_qty(&self, position: &i64, left: &str) -> String {
        self.typed
            .iter()
            .find(|(k, _)| *k == format!("q_{position}"))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| left.to_string())
    }
    fn is_latest(&self) -> bool {
        self.v.latest.version_no == self.v.current_version
    }
    fn state_is(&self, s: &str) -> bool {
        self.v.state.code() == s
    }
}

pub(super) async fn show_page(
    s: &AppState,
    ui: &UiCtx,
    id: i64,
    version_no: Option<i64>,
    err: Option<DomainError>,
) -> Response {
    show_page_typed(s, ui, id, version_no, err, vec![]).await
}

/// The order's page, with what was typed in a refused form (the new outbound's quantities).
pub(super) async fn show_page_typed(
    s: &AppState,
    ui: &UiCtx,
    id: i64,
    version_no: Option<i64>,
    err: Option<DomainError>,
    typed: Vec<(String, String)>,
) -> Response {
    let v = match orders::get(&s.app.db, &ui.ctx.caller, id, version_no).await {
        Ok(v) => v,
        Err(e) => return fail_page(ui, e),
    };
    let can_write = orders::may_write(&s.app.db, &ui.ctx.caller, v.account_id).await.unwrap_or(false);
    let l = Layout::new(ui, "orders", format!("{} · {}", v.number, v.account_name));
    let status = err.as_ref().map(|e| crate::web::ui::status_and_code(e).0);
    let errors = err
        .map(|e| match &e {
            DomainError::Invalid(fs) => fs
                .iter()
                .map(|f| {
                    // An outbound's `lines[1].quantity` → 「第 2 行 · 数量」.
                    let label = match row_field(&f.field, "lines") {
                        Some((n, field)) => format!(
                            "{} · {}",
                            l.t("quote.line_n").replace("{n}", &(n + 1).to_string()),
                            l.e("quote_field", if field.is_empty() { "line" } else { field })
                        ),
                        None => l.e("order_field", &f.field),
                    };
                    format!("{label}: {}", l.lang.msg("invalid", f.code))
                })
                .collect(),
            _ => crate::web::ui::error_lines(&l, &e),
        })
        .unwrap_or_default();
    let money = super::receivables::of_order(s, ui, id).await;
    let delivery = super::deliveries::of_order(s, ui, id).await;
    let can_deliver = super::deliveries::may_write(s, ui, id).await;
    let files = crate::app::records::attachments::FileHolder::list(
        crate::app::orders::files::Holder::Order,
        &s.app.db,
        &ui.ctx.caller,
        id,
    )
    .await
    .section("order", "files");
    let oh = super::holds::of_order(s, ui, id).await;
    let returns = super::writeoffs::of_order(s, ui, id).await;
    let mut res = render(&ShowPage {
        oh,
        returns,
        delivery,
        can_deliver,
        files,
        files_base: format!("/orders/{id}"),
        files_versioned: true,
        can_attach: can_write && !v.state.is_final(),
        typed,
        sees_margin: ui.ctx.caller.role.sees_floor_price(),
        l,
        v,
        can_write,
        errors,
        money,
        keeps_books: super::receivables::keeps_books(ui),
        today: ui.ctx.caller.today(),
    });
    if let Some(st) = status {
        *res.status_mut() = st;
    }
    res
}

async fn show(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let version_no = q(&p, "version_no").and_then(|v| v.parse().ok());
    match id_of(&id) {
        Ok(id) => show_page(&s, &ui, id, version_no, None).await,
        Err(e) => fail_page(&ui, e),
    }
}

/// One of the order's actions (`action`: submit, cancel).
async fn act(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let a = Action {
        version: form.get("version").and_then(|v| v.trim().parse().ok()).unwrap_or(0),
        reason: form.get("reason").map(str::to_string),
    };
    let db = &s.app.db;
    let res = match form.get("action").unwrap_or("") {
        "submit" => orders::submit(db, &ui.ctx, id, &a).await,
        "cancel" => orders::cancel(db, &ui.ctx, id, &a).await,
        _ => Err(DomainError::invalid("action", "invalid_choice")),
    };
    match res {
        Ok(_) => axum::response::Redirect::to(&with_flash(&format!("/orders/{id}"), "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => show_page(&s, ui, id, None, Some(e)).await,
    }
}

// ---------------------------------------------------------------------------------------------
// The form

/// One line as the form shows it (what was typed, or the stored line).
#[derive(Debug, Clone, Default)]
struct RowVals {
    product: String,
    description: String,
    specification: String,
    unit: String,
    quantity: String,
    list_price: String,
    unit_price: String,
    discount: String,
    bad: bool,
}

#[derive(Debug, Clone)]
struct TermVals {
    kind: String,
    percent: String,
    due: String,
    bad: bool,
}

#[derive(Template)]
#[template(path = "order_form.html")]
struct FormPage {
    l: Layout,
    heading: String,
    action: String,
    cancel: String,
    once: Option<String>,
    version: Option<i64>,
    account_name: String,
    /// Where the order comes from, in words (the opportunity, the quote).
    origin: String,
    products: Vec<quotes::ProductChoice>,
    /// Header fields: (name, value).
    header: Vec<(&'static str, String)>,
    rows: Vec<RowVals>,
    terms: Vec<TermVals>,
    kinds: Vec<&'static str>,
    errors: Vec<String>,
    bad: Vec<String>,
}

const BLANK_ROWS: usize = 3;

impl FormPage {
    fn hv(&self, name: &str) -> &str {
        self.header.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }
    fn is_bad(&self, name: &str) -> bool {
        self.bad.iter().any(|b| b == name)
    }
}

/// `lines[2].unit_price` → (2, "unit_price").
fn row_field<'a>(field: &'a str, list: &str) -> Option<(usize, &'a str)> {
    let (i, rest) = field.strip_prefix(list)?.strip_prefix('[')?.split_once(']')?;
    Some((i.parse().ok()?, rest.trim_start_matches('.')))
}

impl Redisplay for FormPage {
    fn refill(&mut self, typed: &[(String, String)]) {
        for (name, value) in self.header.iter_mut() {
            if let Some((_, v)) = typed.iter().find(|(k, _)| k == name) {
                *value = v.clone();
            }
        }
        self.rows = rows_of(typed);
        self.rows.extend((0..BLANK_ROWS).map(|_| RowVals::default()));
        self.terms = terms_of(typed);
        pad_terms(&mut self.terms);
        if let Some(t) = posted_once(typed) {
            self.once = Some(t.to_string());
        }
    }

    fn with_error(mut self, err: &DomainError) -> Response {
        let (status, _) = crate::web::ui::status_and_code(err);
        self.errors = match err {
            DomainError::Invalid(fs) => fs
                .iter()
                .map(|f| {
                    self.bad.push(f.field.clone());
                    // `lines[2].unit_price` → 「第 3 行 · 单价」; `payment_terms[1].due` →
                    // 「第 2 期 · 到期规则」; the row marked.
                    let label = if let Some((n, field)) = row_field(&f.field, "lines") {
                        if let Some(r) = self.rows.get_mut(n) {
                            r.bad = true;
                        }
                        format!(
                            "{} · {}",
                            self.l.t("quote.line_n").replace("{n}", &(n + 1).to_string()),
                            self.l.e("quote_field", if field.is_empty() { "line" } else { field })
                        )
                    } else if let Some((n, field)) = row_field(&f.field, "payment_terms") {
                        if let Some(t) = self.terms.get_mut(n) {
                            t.bad = true;
                        }
                        format!(
                            "{} · {}",
                            self.l.t("order.term_n").replace("{n}", &(n + 1).to_string()),
                            self.l.e("order_field", field)
                        )
                    } else {
                        self.l.e("order_field", &f.field)
                    };
                    format!("{label}: {}", self.l.lang.msg("invalid", f.code))
                })
                .collect(),
            DomainError::StaleVersion { .. } => vec![self.l.lang.msg("err", "stale_version")],
            other => vec![self.l.lang.msg("err", crate::web::ui::status_and_code(other).1)],
        };
        let mut res = render(&self);
        *res.status_mut() = status;
        res
    }
}

fn all<'a>(typed: &'a [(String, String)], k: &str) -> Vec<&'a str> {
    typed.iter().filter(|(n, _)| n == k).map(|(_, v)| v.as_str()).collect()
}

/// The typed rows (each `l_*` field once per row, in order), blank ones dropped.
fn rows_of(typed: &[(String, String)]) -> Vec<RowVals> {
    let cols = ["l_product", "l_desc", "l_spec", "l_unit", "l_qty", "l_list", "l_price", "l_discount"];
    let got: Vec<Vec<&str>> = cols.iter().map(|c| all(typed, c)).collect();
    let n = got.iter().map(Vec::len).max().unwrap_or(0);
    let at = |c: usize, i: usize| got[c].get(i).map(|s| s.trim().to_string()).unwrap_or_default();
    (0..n)
        .map(|i| RowVals {
            product: at(0, i),
            description: at(1, i),
            specification: at(2, i),
            unit: at(3, i),
            quantity: at(4, i),
            list_price: at(5, i),
            unit_price: at(6, i),
            discount: at(7, i),
            bad: false,
        })
        .filter(|r| {
            ![&r.product, &r.description, &r.quantity, &r.unit_price, &r.discount, &r.list_price]
                .iter()
                .all(|s| s.is_empty())
        })
        .collect()
}

fn terms_of(typed: &[(String, String)]) -> Vec<TermVals> {
    let (k, p, d) = (all(typed, "t_kind"), all(typed, "t_percent"), all(typed, "t_due"));
    (0..k.len().max(p.len()))
        .map(|i| TermVals {
            kind: k.get(i).unwrap_or(&"").to_string(),
            percent: p.get(i).unwrap_or(&"").trim().to_string(),
            due: d.get(i).unwrap_or(&"").trim().to_string(),
            bad: false,
        })
        .filter(|t| !t.percent.is_empty())
        .collect()
}

fn pad_terms(t: &mut Vec<TermVals>) {
    let kinds = InstallmentKind::ALL;
    while t.len() < 4 {
        let kind = kinds.get(t.len()).map(|k| k.code()).unwrap_or("advance").to_string();
        t.push(TermVals { kind, percent: String::new(), due: String::new(), bad: false });
    }
}

/// What the form posted, as the use case reads it.
fn order_in(typed: &[(String, String)]) -> Result<OrderIn, DomainError> {
    let get = |k: &str| typed.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_string());
    let mut e = crate::domain::error::Errors::default();
    let lines = rows_of(typed)
        .into_iter()
        .map(|r| {
            let opt = |s: String| (!s.is_empty()).then_some(s);
            LineIn {
                product_code: r.product.split_whitespace().next().map(str::to_string),
                description: opt(r.description),
                specification: opt(r.specification),
                unit: opt(r.unit),
                quantity: r.quantity,
                list_price: opt(r.list_price),
                unit_price: opt(r.unit_price),
                discount: opt(r.discount),
                ..Default::default()
            }
        })
        .collect();
    let mut payment_terms = vec![];
    for (i, t) in terms_of(typed).into_iter().enumerate() {
        match InstallmentKind::parse(&t.kind) {
            Ok(kind) => payment_terms.push(OrderInstallmentIn {
                kind,
                percent: t.percent.trim_end_matches('%').to_string(),
                due: (!t.due.is_empty()).then_some(t.due),
            }),
            Err(c) => e.add(&format!("payment_terms[{i}].kind"), c),
        }
    }
    e.finish()?;
    Ok(OrderIn {
        version: get("version").and_then(|v| v.parse().ok()),
        account_id: None,
        contract_no: get("contract_no"),
        requested_delivery: get("requested_delivery"),
        lines: Some(lines),
        payment_terms: Some(payment_terms),
        notes: get("notes"),
    })
}

/// The form: empty on an account or a won opportunity; an accepted quote's lines and terms
/// for an order made from it; the order's latest version to revise it.
async fn form_page(
    s: &AppState,
    ui: &UiCtx,
    origin: Origin,
    existing: Option<&OrderView>,
) -> Result<FormPage, DomainError> {
    let db = &s.app.db;
    let caller = &ui.ctx.caller;
    let products = quotes::product_choices(db).await?;
    let product_label = |code: &Option<String>| {
        code.as_ref()
            .map(|c| {
                let name = products.iter().find(|p| &p.code == c).map(|p| p.name.as_str()).unwrap_or("");
                format!("{c} {name}").trim().to_string()
            })
            .unwrap_or_default()
    };
    let mut header: Vec<(&'static str, String)> =
        ["contract_no", "requested_delivery", "notes"].iter().map(|h| (*h, String::new())).collect();
    let set = |header: &mut Vec<(&'static str, String)>, k: &str, v: String| {
        if let Some(x) = header.iter_mut().find(|(n, _)| *n == k) {
            x.1 = v;
        }
    };
    let mut rows = vec![];
    let mut terms = vec![];
    let (account_name, origin_text, action, cancel) = match (existing, origin) {
        (Some(v), _) => {
            let x = &v.latest;
            set(&mut header, "contract_no", x.contract_no.clone().unwrap_or_default());
            set(&mut header, "requested_delivery", x.requested_delivery.clone().unwrap_or_default());
            set(&mut header, "notes", x.notes.clone().unwrap_or_default());
            rows = x
                .lines
                .iter()
                .map(|li| RowVals {
                    product: product_label(&li.product_code),
                    description: li.description.clone(),
                    specification: li.specification.clone().unwrap_or_default(),
                    unit: li.unit.clone(),
                    quantity: li.quantity.clone(),
                    list_price: if li.product_id.is_none() {
                        li.list_price.clone().unwrap_or_default()
                    } else {
                        String::new()
                    },
                    unit_price: li.unit_price.clone(),
                    ..Default::default()
                })
                .collect();
            terms = x
                .payment_terms
                .iter()
                .map(|t| TermVals {
                    kind: t.kind.code().to_string(),
                    percent: t.percent.clone(),
                    due: t.due.clone(),
                    bad: false,
                })
                .collect();
            (
                v.account_name.clone(),
                format!("{} v{}", v.number, x.version_no),
                format!("/orders/{}/edit", v.id),
                format!("/orders/{}", v.id),
            )
        }
        (None, Origin::Account(a)) => {
            let acc = crate::app::customers::accounts::get(db, caller, a).await?;
            (acc.name, String::new(), format!("/accounts/{a}/orders/new"), format!("/accounts/{a}"))
        }
        (None, Origin::Opportunity(o)) => {
            let opp = crate::app::funnel::opportunities::get(db, caller, o).await?;
            let text = format!("{}: {}", ui.lang.t("quote_field.opportunity"), opp.name);
            (opp.account_name, text, format!("/opportunities/{o}/orders/new"), format!("/opportunities/{o}"))
        }
        (None, Origin::Quote(qid)) => {
            let qv = quotes::get(db, caller, qid, None).await?;
            let x = &qv.latest;
            rows = x
                .lines
                .iter()
                .map(|li| RowVals {
                    product: product_label(&li.product_code),
                    description: li.description.clone(),
                    specification: li.specification.clone().unwrap_or_default(),
                    unit: li.unit.clone(),
                    quantity: li.quantity.clone(),
                    list_price: if li.product_id.is_none() {
                        li.list_price.clone().unwrap_or_default()
                    } else {
                        String::new()
                    },
                    unit_price: li.unit_price.clone(),
                    ..Default::default()
                })
                .collect();
            terms = x
                .payment_terms
                .iter()
                .map(|t| {
                    let ev = crate::domain::order::DueEvent::default_for(t.kind);
                    TermVals {
                        kind: t.kind.code().to_string(),
                        percent: t.percent.clone(),
                        due: crate::domain::order::format_due(t.days, ev),
                        bad: false,
                    }
                })
                .collect();
            let notes: Vec<String> = [x.payment_note.clone(), x.delivery_terms.clone()].into_iter().flatten().collect();
            set(&mut header, "notes", notes.join("\n"));
            let text = format!("{}: {} v{}", ui.lang.t("order.from_quote"), qv.number, x.version_no);
            (qv.account_name, text, format!("/quotes/{qid}/orders/new"), format!("/quotes/{qid}"))
        }
    };
    rows.extend((0..BLANK_ROWS).map(|_| RowVals::default()));
    pad_terms(&mut terms);
    let l = Layout::new(
        ui,
        "orders",
        match existing {
            Some(v) => format!("{} · {}", ui.lang.t("order.revise"), v.number),
            None => ui.lang.t("order.new"),
        },
    );
    Ok(FormPage {
        heading: l.title.clone(),
        action,
        cancel,
        once: None,
        version: existing.map(|v| v.version),
        account_name,
        origin: origin_text,
        products,
        header,
        rows,
        terms,
        kinds: InstallmentKind::ALL.iter().map(|k| k.code()).collect(),
        errors: vec![],
        bad: vec![],
        l,
    })
}

async fn new_form(s: &AppState, ui: &UiCtx, uri: &Uri, origin: impl FnOnce(i64) -> Origin, id: &str) -> Response {
    let once = match once_of(uri) {
        Ok(t) => t,
        Err(redirect) => return redirect.into_response(),
    };
    let res = async {
        let origin = origin(id_of(id)?);
        let account = match origin {
            Origin::Account(a) => Some(a),
            _ => None,
        };
        let page = form_page(s, ui, origin, None).await?;
        if let Some(a) = account {
            if !orders::may_write(&s.app.db, &ui.ctx.caller, a).await? {
                return Err(DomainError::Forbidden);
            }
        }
        Ok(page)
    };
    match res.await {
        Ok(mut page) => {
            page.once = Some(once);
            render(&page)
        }
        Err(e) => fail_page(ui, e),
    }
}

async fn create_with(s: &AppState, form: UiForm, origin: impl FnOnce(i64) -> Origin, id: &str) -> Response {
    let ui = &form.ui;
    let origin = match id_of(id) {
        Ok(i) => origin(i),
        Err(e) => return fail_page(ui, e),
    };
    let res = match order_in(&form.fields) {
        Ok(inp) => {
            let page = |v: &OrderView| format!("/orders/{}", v.id);
            let create = async |tx: &mut WriteTx| orders::create_in(tx, &ui.ctx, origin, &inp).await;
            once::create(&s.app.db, &ui.ctx, posted_once(&form.fields), page, create).await
        }
        Err(e) => Err(e),
    };
    redisplay_or_redirect(
        ui,
        res,
        |o| once_done(o, |v| format!("/orders/{}", v.id)),
        missing_or_forbidden,
        Some(&form.fields),
        async |_| form_page(s, ui, origin, None).await,
    )
    .await
}

async fn new_on_account(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>, uri: Uri) -> Response {
    new_form(&s, &ui, &uri, Origin::Account, &id).await
}

async fn create_on_account(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    create_with(&s, form, Origin::Account, &id).await
}

async fn new_on_opportunity(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>, uri: Uri) -> Response {
    new_form(&s, &ui, &uri, Origin::Opportunity, &id).await
}

async fn create_on_opportunity(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    create_with(&s, form, Origin::Opportunity, &id).await
}

async fn new_from_quote(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>, uri: Uri) -> Response {
    new_form(&s, &ui, &uri, Origin::Quote, &id).await
}

async fn create_from_quote(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    create_with(&s, form, Origin::Quote, &id).await
}

async fn edit_form(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    let res = async {
        let v = orders::get(&s.app.db, &ui.ctx.caller, id_of(&id)?, None).await?;
        form_page(&s, &ui, Origin::Account(v.account_id), Some(&v)).await
    }
    .await;
    match res {
        Ok(page) => render(&page),
        Err(e) => fail_page(&ui, e),
    }
}

async fn revise(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let res = match order_in(&form.fields) {
        Ok(inp) => orders::revise(&s.app.db, &ui.ctx, id, &inp).await,
        Err(e) => Err(e),
    };
    redisplay_or_redirect(
        ui,
        res,
        |_| with_flash(&format!("/orders/{id}"), "saved"),
        missing_or_forbidden,
        Some(&form.fields),
        async |_| {
            let v = orders::get(&s.app.db, &ui.ctx.caller, id, None).await?;
            let mut p = form_page(&s, ui, Origin::Account(v.account_id), Some(&v)).await?;
            p.version = form.get("version").and_then(|v| v.parse().ok()).or(p.version);
            Ok(p)
        },
    )
    .await
}
