//! Quote pages: the list, a quote with its versions and actions, the quote form (lines,
//! payment terms), the printable A4 quote (商务报价单) and its XLSX. Every change goes through
//! `app::quotes::quotes`.
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::app::quotes::quotes::{self as quotes, Action, Filter, InstallmentIn, LineIn, QuoteIn, QuoteRow, QuoteView};
use crate::app::records::once;
use crate::db::WriteTx;
use crate::domain::quote::{InstallmentKind, QuoteState};
use crate::domain::DomainError;
use crate::web::api::{id_of, q, query_pairs};
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::forms::{
    missing_or_forbidden, once_done, once_of, posted_once, redisplay_or_redirect, with_flash, Redisplay,
};
use crate::web::ui::{enc, fail_page, render, Layout};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/quotes", get(list))
        .route("/quotes/export.xlsx", get(|s, ui, q| export(s, ui, q, "xlsx")))
        .route("/quotes/export.csv", get(|s, ui, q| export(s, ui, q, "csv")))
        .route("/opportunities/{id}/quotes/new", get(new_form).post(create))
        .route("/quotes/{id}", get(show))
        .route("/quotes/{id}/edit", get(edit_form).post(revise))
        .route("/quotes/{id}/act", post(act))
        .route("/quotes/{id}/print", get(print))
        .route("/quotes/{id}/xlsx", get(xlsx))
        .route("/static/quote.js", get(quote_js))
}

/// The quote form's script (line amounts, price ↔ discount, product facts; the form works
/// without it).
async fn quote_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")],
        include_str!("../../../../static/quote.js"),
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// The list

#[derive(Template)]
#[template(path = "quotes.html")]
struct ListPage {
    l: Layout,
    rows: Vec<QuoteRow>,
    q: String,
    owner: String,
    state: String,
    expiring: String,
    discount_over: String,
    sort: String,
    states: Vec<&'static str>,
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
    vals: [String; 6],
}

fn listed(p: &[(String, String)]) -> Result<Listed, DomainError> {
    let get = |k: &str| q(p, k).unwrap_or("").to_string();
    let (qv, owner, state, expiring, discount_over, sort) =
        (get("q"), get("owner"), get("state"), get("expiring_within"), get("discount_over"), get("sort"));
    let expiring_within = match expiring.trim() {
        "" => None,
        v => Some(v.parse::<i64>().map_err(|_| DomainError::invalid("expiring_within", "invalid_number"))?),
    };
    let f = Filter {
        q: Some(qv.clone()),
        owner: Some(owner.clone()),
        state: Some(state.clone()),
        expiring_within,
        discount_over: Some(discount_over.clone()),
        sort: (!sort.is_empty()).then(|| sort.clone()),
        cursor: q(p, "cursor").map(str::to_string),
        ..Default::default()
    };
    let base = enc(&[
        ("q", &qv),
        ("owner", &owner),
        ("state", &state),
        ("expiring_within", &expiring),
        ("discount_over", &discount_over),
        ("sort", &sort),
    ]);
    Ok(Listed { f, base, vals: [qv, owner, state, expiring, discount_over, sort] })
}

async fn list(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = crate::web::ui::pick::people_in(&s.app.db, query_pairs(raw), &["owner"]).await;
    let Listed { f, base, vals } = match listed(&p) {
        Ok(x) => x,
        Err(e) => return fail_page(&ui, e),
    };
    let [qv, owner, state, expiring, discount_over, sort] = vals;
    let page = match quotes::list(&s.app.db, &ui.ctx.caller, &f, &ui.ctx.caller.today()).await {
        Ok(p) => p,
        Err(e) => return fail_page(&ui, e),
    };
    let l = Layout::new(&ui, "quotes", ui.lang.t("quotes.title"));
    render(&ListPage {
        next_href: page.next_cursor.map(|c| format!("/quotes?{base}&cursor={c}")),
        rows: page.items,
        q: qv,
        owner,
        state,
        expiring,
        discount_over,
        sort,
        states: QuoteState::ALL.iter().map(|s| s.code()).collect(),
        sorts: quotes::SORTS,
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
            quotes::export(&s.app.db, &ui.ctx.caller, &Filter { cursor: None, ..f }, &ui.ctx.caller.today()).await?;
        crate::web::api::person_download(&quotes::table(&rows), &ui.ctx.caller, ui.lang, format, "quotes")
    }
    .await;
    res.unwrap_or_else(|e| fail_page(&ui, e))
}

// ---------------------------------------------------------------------------------------------
// One quote

#[derive(Template)]
#[template(path = "quote.html")]
struct ShowPage {
    l: Layout,
    v: QuoteView,
    /// The caller may change the quote (owner, team, a manager in scope).
    can_write: bool,
    sees_floor: bool,
    /// A refused action's message.
    errors: Vec<String>,
    /// The quote's files, and whether the caller may add one now.
    files: Vec<crate::app::records::attachments::Attachment>,
    files_base: String,
    files_versioned: bool,
    can_attach: bool,
}

pub(super) async fn show_page(
    s: &AppState,
    ui: &UiCtx,
    id: i64,
    version_no: Option<i64>,
    err: Option<DomainError>,
) -> Response {
    let v = match quotes::get(&s.app.db, &ui.ctx.caller, id, version_no).await {
        Ok(v) => v,
        Err(e) => return fail_page(ui, e),
    };
    let can_write = quotes::may_write(&s.app.db, &ui.ctx.caller, v.opportunity_id).await.unwrap_or(false);
    let l = Layout::new(ui, "quotes", format!("{} · {}", v.number, v.title));
    let status = err.as_ref().map(|e| crate::web::ui::status_and_code(e).0);
    let errors = err.map(|e| crate::web::ui::error_lines(&l, &e)).unwrap_or_default();
    let can_attach = can_write && !matches!(v.state, QuoteState::Lost | QuoteState::Expired);
    let page = ShowPage {
        sees_floor: ui.ctx.caller.role.sees_floor_price(),
        files: v.attachments.clone(),
        files_base: format!("/quotes/{}", v.id),
        files_versioned: true,
        can_attach,
        l,
        v,
        can_write,
        errors,
    };
    let mut res = render(&page);
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

/// One of the quote's actions (`action`: submit, send, accept, lose, current).
async fn act(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let a = Action {
        version: form.get("version").and_then(|v| v.trim().parse().ok()).unwrap_or(0),
        reason: form.get("reason").map(str::to_string),
        update_amount: matches!(form.get("update_amount"), Some("1" | "on" | "true")),
    };
    let db = &s.app.db;
    let res = match form.get("action").unwrap_or("") {
        "submit" => quotes::submit(db, &ui.ctx, id, &a).await,
        "send" => quotes::send(db, &ui.ctx, id, &a).await,
        "accept" => quotes::accept(db, &ui.ctx, id, &a).await,
        "lose" => quotes::lose(db, &ui.ctx, id, &a).await,
        "current" => quotes::make_current(db, &ui.ctx, id, &a).await,
        _ => Err(DomainError::invalid("action", "invalid_choice")),
    };
    match res {
        Ok(_) => axum::response::Redirect::to(&with_flash(&format!("/quotes/{id}"), "saved")).into_response(),
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
    /// This row has a refused field.
    bad: bool,
}

#[derive(Debug, Clone)]
struct TermVals {
    kind: String,
    percent: String,
    days: String,
}

#[derive(Template)]
#[template(path = "quote_form.html")]
struct FormPage {
    l: Layout,
    heading: String,
    action: String,
    cancel: String,
    once: Option<String>,
    version: Option<i64>,
    account_name: String,
    opportunity_name: String,
    contacts: Vec<(i64, String)>,
    products: Vec<quotes::ProductChoice>,
    /// Header fields: (name, value).
    header: Vec<(&'static str, String)>,
    rows: Vec<RowVals>,
    terms: Vec<TermVals>,
    kinds: Vec<&'static str>,
    errors: Vec<String>,
    /// Header fields refused.
    bad: Vec<String>,
    author_limit: String,
}

const HEADER: &[&str] = &[
    "title",
    "contact_id",
    "contact_name",
    "contact_title",
    "phone",
    "fax",
    "quote_date",
    "valid_until",
    "payment_note",
    "delivery_terms",
    "notes",
];

/// Blank rows offered below the lines (more with the script's "add a line").
const BLANK_ROWS: usize = 3;

impl FormPage {
    fn hv(&self, name: &str) -> &str {
        self.header.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }
    fn is_bad(&self, name: &str) -> bool {
        self.bad.iter().any(|b| b == name)
    }
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
    }

    fn with_error(mut self, err: &DomainError) -> Response {
        let (status, _) = crate::web::ui::status_and_code(err);
        self.errors = match err {
            DomainError::Invalid(fs) => fs
                .iter()
                .map(|f| {
                    self.bad.push(f.field.clone());
                    // `lines[2].unit_price` → 「第 3 行 · 单价」, and the row marked.
                    let label = match f.field.strip_prefix("lines[").and_then(|r| r.split_once("]")) {
                        Some((i, rest)) => {
                            let n: usize = i.parse().unwrap_or(0);
                            // Rows as shown: the non-blank typed rows come first, in order.
                            if let Some(r) = self.rows.get_mut(n) {
                                r.bad = true;
                            }
                            let field = rest.trim_start_matches('.');
                            format!(
                                "{} · {}",
                                self.l.t("quote.line_n").replace("{n}", &(n + 1).to_string()),
                                self.l.e("quote_field", if field.is_empty() { "line" } else { field })
                            )
                        }
                        None => self.l.e("quote_field", &f.field),
                    };
                    format!("{label}: {}", self.l.lang.msg("invalid", f.code))
                })
                .collect(),
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
    let (k, p, d) = (all(typed, "t_kind"), all(typed, "t_percent"), all(typed, "t_days"));
    (0..k.len().max(p.len()))
        .map(|i| TermVals {
            kind: k.get(i).unwrap_or(&"").to_string(),
            percent: p.get(i).unwrap_or(&"").trim().to_string(),
            days: d.get(i).unwrap_or(&"").trim().to_string(),
        })
        .filter(|t| !t.percent.is_empty())
        .collect()
}

fn pad_terms(t: &mut Vec<TermVals>) {
    let kinds = InstallmentKind::ALL;
    while t.len() < 4 {
        let kind = kinds.get(t.len()).map(|k| k.code()).unwrap_or("advance").to_string();
        t.push(TermVals { kind, percent: String::new(), days: String::new() });
    }
}

/// What the form posted, as the use case reads it. A product is typed as `CODE 名称` (the
/// catalogue's list offers it); its code is what counts.
fn quote_in(typed: &[(String, String)]) -> Result<QuoteIn, DomainError> {
    let get = |k: &str| typed.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_string());
    let text = |k: &str| get(k).filter(|v| !v.is_empty());
    let mut e = crate::domain::error::Errors::default();
    let contact_id = match text("contact_id") {
        None => None,
        Some(v) => match v.parse::<i64>() {
            Ok(i) => Some(i),
            Err(_) => {
                e.add("contact_id", "invalid_choice");
                None
            }
        },
    };
    let lines = rows_of(typed)
        .into_iter()
        .map(|r| {
            let opt = |s: String| (!s.is_empty()).then_some(s);
            let code = r.product.split_whitespace().next().map(str::to_string);
            LineIn {
                product_code: code,
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
        let kind = match InstallmentKind::parse(&t.kind) {
            Ok(k) => k,
            Err(c) => {
                e.add(&format!("payment_terms[{i}].kind"), c);
                continue;
            }
        };
        let days = if t.days.is_empty() {
            0
        } else {
            match t.days.parse::<i64>() {
                Ok(d) => d,
                Err(_) => {
                    e.add(&format!("payment_terms[{i}].days"), "invalid_number");
                    0
                }
            }
        };
        payment_terms.push(InstallmentIn { kind, percent: t.percent.trim_end_matches('%').to_string(), days });
    }
    e.finish()?;
    Ok(QuoteIn {
        version: get("version").and_then(|v| v.parse().ok()),
        title: get("title"),
        contact_id,
        contact_name: get("contact_name"),
        contact_title: get("contact_title"),
        phone: get("phone"),
        fax: get("fax"),
        quote_date: get("quote_date"),
        valid_until: get("valid_until"),
        lines: Some(lines),
        payment_terms: Some(payment_terms),
        payment_note: get("payment_note"),
        delivery_terms: get("delivery_terms"),
        notes: get("notes"),
    })
}

async fn form_page(
    s: &AppState,
    ui: &UiCtx,
    opportunity_id: i64,
    existing: Option<&QuoteView>,
) -> Result<FormPage, DomainError> {
    let db = &s.app.db;
    let o = crate::app::funnel::opportunities::get(db, &ui.ctx.caller, opportunity_id).await?;
    let (contacts, products, limit) = tokio::try_join!(
        quotes::contact_choices(db, &ui.ctx.caller, o.account_id),
        quotes::product_choices(db),
        quotes::author_limit(db, &ui.ctx.caller),
    )?;
    let l = Layout::new(
        ui,
        "quotes",
        match existing {
            Some(v) => format!("{} · {}", ui.lang.t("quote.revise"), v.number),
            None => ui.lang.t("quote.new"),
        },
    );
    let today = ui.ctx.caller.today();
    let (header, rows, terms) = match existing {
        Some(v) => {
            let x = &v.latest;
            let header = vec![
                ("title", v.title.clone()),
                ("contact_id", x.contact_id.map(|i| i.to_string()).unwrap_or_default()),
                ("contact_name", x.contact_name.clone().unwrap_or_default()),
                ("contact_title", x.contact_title.clone().unwrap_or_default()),
                ("phone", x.phone.clone().unwrap_or_default()),
                ("fax", x.fax.clone().unwrap_or_default()),
                ("quote_date", x.quote_date.clone()),
                ("valid_until", x.valid_until.clone()),
                ("payment_note", x.payment_note.clone().unwrap_or_default()),
                ("delivery_terms", x.delivery_terms.clone().unwrap_or_default()),
                ("notes", x.notes.clone().unwrap_or_default()),
            ];
            let rows = x
                .lines
                .iter()
                .map(|li| RowVals {
                    product: li
                        .product_code
                        .as_ref()
                        .map(|c| {
                            let name = products.iter().find(|p| &p.code == c).map(|p| p.name.as_str()).unwrap_or("");
                            format!("{c} {name}").trim().to_string()
                        })
                        .unwrap_or_default(),
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
                    discount: String::new(),
                    bad: false,
                })
                .collect();
            let terms = x
                .payment_terms
                .iter()
                .map(|t| TermVals {
                    kind: t.kind.code().to_string(),
                    percent: t.percent.clone(),
                    days: t.days.to_string(),
                })
                .collect();
            (header, rows, terms)
        }
        None => {
            let mut header: Vec<(&'static str, String)> = HEADER.iter().map(|h| (*h, String::new())).collect();
            for (n, v) in header.iter_mut() {
                match *n {
                    "title" => *v = o.name.clone(),
                    "quote_date" => *v = today.clone(),
                    _ => {}
                }
            }
            (header, vec![], vec![])
        }
    };
    let mut rows: Vec<RowVals> = rows;
    rows.extend((0..BLANK_ROWS).map(|_| RowVals::default()));
    let mut terms = terms;
    pad_terms(&mut terms);
    Ok(FormPage {
        heading: l.title.clone(),
        action: match existing {
            Some(v) => format!("/quotes/{}/edit", v.id),
            None => format!("/opportunities/{opportunity_id}/quotes/new"),
        },
        cancel: match existing {
            Some(v) => format!("/quotes/{}", v.id),
            None => format!("/opportunities/{opportunity_id}"),
        },
        once: None,
        version: existing.map(|v| v.version),
        account_name: o.account_name.clone(),
        opportunity_name: o.name.clone(),
        contacts,
        products,
        header,
        rows,
        terms,
        kinds: InstallmentKind::ALL.iter().map(|k| k.code()).collect(),
        errors: vec![],
        bad: vec![],
        author_limit: crate::domain::money::format_bp(limit),
        l,
    })
}

async fn new_form(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>, uri: Uri) -> Response {
    let once = match once_of(&uri) {
        Ok(t) => t,
        Err(redirect) => return redirect.into_response(),
    };
    let res = async { form_page(&s, &ui, id_of(&id)?, None).await }.await;
    match res {
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
    let res = match quote_in(&form.fields) {
        Ok(inp) => {
            let page = |v: &QuoteView| format!("/quotes/{}", v.id);
            let create = async |tx: &mut WriteTx| quotes::create_in(tx, &ui.ctx, id, &inp).await;
            once::create(&s.app.db, &ui.ctx, posted_once(&form.fields), page, create).await
        }
        Err(e) => Err(e),
    };
    let token = posted_once(&form.fields).map(str::to_string);
    redisplay_or_redirect(
        ui,
        res,
        |o| once_done(o, |v| format!("/quotes/{}", v.id)),
        missing_or_forbidden,
        Some(&form.fields),
        async |_| {
            let mut p = form_page(&s, ui, id, None).await?;
            p.once = token;
            Ok(p)
        },
    )
    .await
}

async fn edit_form(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    let res = async {
        let v = quotes::get(&s.app.db, &ui.ctx.caller, id_of(&id)?, None).await?;
        form_page(&s, &ui, v.opportunity_id, Some(&v)).await
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
    let res = match quote_in(&form.fields) {
        Ok(inp) => quotes::revise(&s.app.db, &ui.ctx, id, &inp).await,
        Err(e) => Err(e),
    };
    redisplay_or_redirect(
        ui,
        res,
        |_| with_flash(&format!("/quotes/{id}"), "saved"),
        missing_or_forbidden,
        Some(&form.fields),
        async |_| {
            let v = quotes::get(&s.app.db, &ui.ctx.caller, id, None).await?;
            let mut p = form_page(&s, ui, v.opportunity_id, Some(&v)).await?;
            // A stale form keeps what was typed over the version it started from.
            p.version = form.get("version").and_then(|v| v.parse().ok()).or(p.version);
            Ok(p)
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// The document the customer receives

#[derive(Template)]
#[template(path = "quote_print.html")]
struct PrintPage {
    l: Layout,
    v: QuoteView,
    company: quotes::Company,
}

async fn print(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let version_no = q(&p, "version_no").and_then(|v| v.parse().ok());
    let res = async {
        let v = quotes::get(&s.app.db, &ui.ctx.caller, id_of(&id)?, version_no).await?;
        let company = quotes::company(&s.app.db).await?;
        Ok::<_, DomainError>((v, company))
    }
    .await;
    match res {
        Ok((v, company)) => {
            let l = Layout::new(&ui, "quotes", format!("{} {}", ui.lang.t("quote.document"), v.number));
            render(&PrintPage { l, v, company })
        }
        Err(e) => fail_page(&ui, e),
    }
}

async fn xlsx(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let version_no = q(&p, "version_no").and_then(|v| v.parse().ok());
    let res = async {
        let v = quotes::get(&s.app.db, &ui.ctx.caller, id_of(&id)?, version_no).await?;
        let company = quotes::company(&s.app.db).await?;
        let bytes = quotes::xlsx(&v, &company, ui.lang.code())?;
        Ok::<_, DomainError>((v, bytes))
    }
    .await;
    match res {
        Ok((v, bytes)) => {
            let name = format!("{}_{}_v{}.xlsx", ui.lang.t("quote.document"), v.number, v.latest.version_no);
            (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, crate::web::api::contract::XLSX.to_string()),
                    (header::CONTENT_DISPOSITION, crate::web::api::attachment(&name)),
                ],
                bytes,
            )
                .into_response()
        }
        Err(e) => fail_page(&ui, e),
    }
}
