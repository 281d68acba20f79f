//! The budgets' pages (issue 25 items 3–4): the cost centres × the year, a budget with its
//! lines, the 质询 questions and answers, its revisions and what is next (edit, submit, ask,
//! answer, close); spending — the list with the KA director's signature, the form; budget
//! against actual by cost centre and month (with its CSV and XLSX); executive resource
//! requests — the list, the form from the account, one request. Every change goes through
//! `app::budgets`.
use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Datelike;

use crate::app::budgets::budgets::{
    self as bg, BudgetActual, BudgetAnswerIn, BudgetCategory, BudgetIn, BudgetLineIn, BudgetLinesIn, BudgetQuestionIn,
    BudgetVersionIn, BudgetView, CentreYear,
};
use crate::app::budgets::exec::{self as ex, ExecRequestIn, ExecRequestView, Executive};
use crate::app::budgets::spending::{self as sp, SpendingIn, SpendingView};
use crate::domain::DomainError;
use crate::web::api::{id_of, q, query_pairs};
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::approvals::{PanelGroup, PanelRow, PanelTable, SubjectPanel};
use crate::web::ui::forms::with_flash;
use crate::web::ui::{export_download, fail_page, render, Layout};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/budgets", get(overview).post(create))
        .route("/budgets/actual", get(actual))
        .route("/budgets/categories", get(categories_form).post(categories_save))
        .route("/budgets/{id}", get(show))
        .route("/budgets/{id}/lines", post(save_lines))
        .route("/budgets/{id}/submit", post(submit))
        .route("/budgets/{id}/questions", post(ask))
        .route("/budgets/{id}/questions/{q}/answer", post(answer))
        .route("/budgets/{id}/close", post(close))
        .route("/spending", get(spending_list))
        .route("/spending/new", get(spending_form).post(spending_create))
        .route("/spending/{id}/sign", post(spending_sign))
        .route("/exec-requests", get(exec_list))
        .route("/accounts/{id}/exec-requests/new", get(exec_form).post(exec_create))
        .route("/exec-requests/{id}", get(exec_show))
}

/// A form's fields as typed, and the refusal's messages by field.
#[derive(Default)]
pub struct Typed {
    values: HashMap<String, String>,
    field_errors: HashMap<String, String>,
}

impl Typed {
    fn of(form: &UiForm) -> Typed {
        Typed { values: form.fields.iter().cloned().collect(), field_errors: HashMap::new() }
    }
    pub fn val(&self, k: &str) -> &str {
        self.values.get(k).map(String::as_str).unwrap_or("")
    }
    pub fn has(&self, k: &str) -> bool {
        self.values.contains_key(k)
    }
    pub fn err(&self, k: &str) -> Option<&str> {
        self.field_errors.get(k).map(String::as_str)
    }
}

fn refusal(l: &Layout, e: &DomainError, typed: &mut Typed) -> Vec<String> {
    if let DomainError::Invalid(fs) = e {
        for f in fs {
            typed.field_errors.insert(f.field.clone(), l.lang.msg("invalid", f.code));
        }
    }
    match e {
        DomainError::Invalid(fs) => fs
            .iter()
            .map(|f| {
                let label = if f.field.starts_with("amt_") {
                    l.t("budget.lines")
                } else if f.field.starts_with("answer_") {
                    l.t("budget.answer")
                } else if let Some((what, i)) = f.field.split_once('_').filter(|(w, _)| matches!(*w, "code" | "name")) {
                    let row = i.parse::<usize>().map(|i| i + 1).unwrap_or(0);
                    format!(
                        "{} · {}",
                        l.t("budget.category_row").replace("{n}", &row.to_string()),
                        l.t(&format!("budget.category_{what}"))
                    )
                } else {
                    l.e("field", &f.field)
                };
                format!("{label}: {}", l.lang.msg("invalid", f.code))
            })
            .collect(),
        other => crate::web::ui::error_lines(l, other),
    }
}

fn field(form: &UiForm, k: &str) -> Option<String> {
    form.get(k).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
}

fn version(form: &UiForm) -> i64 {
    form.get("version").and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn with_status(mut res: Response, err: &Option<DomainError>) -> Response {
    if let Some(e) = err {
        *res.status_mut() = crate::web::ui::status_and_code(e).0;
    }
    res
}

fn this_year(ui: &UiCtx) -> i64 {
    ui.ctx.caller.day().year() as i64
}

fn year_of(ui: &UiCtx, p: &[(String, String)]) -> i64 {
    q(p, "year")
        .and_then(|y| y.parse::<i64>().ok())
        .filter(|y| (2000..=2100).contains(y))
        .unwrap_or_else(|| this_year(ui))
}

/// "全年" or "3月".
fn month_label(l: &Layout, m: i64) -> String {
    if m == 0 {
        l.t("budget.whole_year")
    } else {
        l.t("budget.month_n").replace("{n}", &m.to_string())
    }
}

// ---- the cost centres × the year ----

#[derive(Template)]
#[template(path = "budget_overview.html")]
struct OverviewPage {
    l: Layout,
    year: i64,
    rows: Vec<CentreYear>,
    categories: Vec<BudgetCategory>,
    categories_saved: bool,
    errors: Vec<String>,
}

async fn overview_page(s: &AppState, ui: &UiCtx, year: i64, err: Option<DomainError>) -> Response {
    let rows = match bg::overview(&s.app.db, &ui.ctx.caller, year as i32).await {
        Ok(r) => r,
        Err(e) => return fail_page(ui, e),
    };
    let cats = match bg::categories(&s.app.db).await {
        Ok(c) => c,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "budgets", format!("{} · {year}", ui.lang.t("budget.title")));
    let errors = err.as_ref().map(|e| crate::web::ui::error_lines(&l, e)).unwrap_or_default();
    let res =
        render(&OverviewPage { l, year, rows, categories: cats.categories, categories_saved: cats.saved, errors });
    with_status(res, &err)
}

async fn overview(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let year = year_of(&ui, &p);
    overview_page(&s, &ui, year, None).await
}

/// Drafts a cost centre's budget (empty) from the overview; its page follows.
async fn create(State(s): State<AppState>, form: UiForm) -> Response {
    let ui = &form.ui;
    let year = field(&form, "year").and_then(|y| y.parse::<i64>().ok()).unwrap_or_else(|| this_year(ui));
    let Some(cc) = field(&form, "cost_centre_id").and_then(|c| c.parse::<i64>().ok()) else {
        return overview_page(&s, ui, year, Some(DomainError::invalid("cost_centre_id", "required"))).await;
    };
    let inp = BudgetIn { cost_centre_id: cc, year, note: None, lines: vec![] };
    match bg::create(&s.app.db, &ui.ctx, &inp).await {
        Ok(v) => Redirect::to(&with_flash(&format!("/budgets/{}", v.id), "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => overview_page(&s, ui, year, Some(e)).await,
    }
}

// ---- the company's spending categories (a setting) ----

#[derive(Template)]
#[template(path = "budget_categories.html")]
struct CategoriesPage {
    l: Layout,
    /// (code, name) per row: the saved ones, then empty rows to add.
    rows: Vec<(String, String)>,
    version: i64,
    saved: bool,
    may_edit: bool,
    typed: Typed,
    errors: Vec<String>,
}

/// Empty rows offered below the categories, to add new ones.
const NEW_CATEGORY_ROWS: usize = 3;

async fn categories_page(s: &AppState, ui: &UiCtx, typed: Option<Typed>, err: Option<DomainError>) -> Response {
    let cats = match bg::categories(&s.app.db).await {
        Ok(c) => c,
        Err(e) => return fail_page(ui, e),
    };
    let mut rows: Vec<(String, String)> = cats.categories.iter().map(|c| (c.code.clone(), c.name.clone())).collect();
    let mut typed = match typed {
        // What was typed, row by row, when refused.
        Some(t) => {
            let n = (0..40).take_while(|i| t.has(&format!("code_{i}"))).count();
            rows = (0..n)
                .map(|i| (t.val(&format!("code_{i}")).to_string(), t.val(&format!("name_{i}")).to_string()))
                .collect();
            t
        }
        None => {
            rows.extend((0..NEW_CATEGORY_ROWS).map(|_| (String::new(), String::new())));
            Typed::default()
        }
    };
    let l = Layout::new(ui, "budgets", ui.lang.t("budget.categories_title"));
    let errors = err.as_ref().map(|e| refusal(&l, e, &mut typed)).unwrap_or_default();
    let may_edit = bg::may_set_categories(&ui.ctx.caller);
    let res = render(&CategoriesPage { l, rows, version: cats.version, saved: cats.saved, may_edit, typed, errors });
    with_status(res, &err)
}

async fn categories_form(State(s): State<AppState>, ui: UiCtx) -> Response {
    categories_page(&s, &ui, None, None).await
}

/// Saves the rows with a code or a name (empty rows are dropped) over the version shown; the
/// form's row `i` is the setting's `categories[j]` of the rows kept, so a refusal is shown on
/// the row typed.
async fn categories_save(State(s): State<AppState>, form: UiForm) -> Response {
    let ui = &form.ui;
    let mut kept: Vec<usize> = vec![];
    let mut list = vec![];
    for i in 0..40 {
        let (Some(code), Some(name)) = (form.get(&format!("code_{i}")), form.get(&format!("name_{i}"))) else {
            break;
        };
        let (code, name) = (code.trim(), name.trim());
        if code.is_empty() && name.is_empty() {
            continue;
        }
        kept.push(i);
        list.push(BudgetCategory { code: code.to_string(), name: name.to_string() });
    }
    let inp = bg::CategoriesIn { categories: list, version: version(&form) };
    match bg::set_categories(&s.app.db, &ui.ctx, &inp).await {
        Ok(_) => Redirect::to(&with_flash("/budgets/categories", "saved")).into_response(),
        Err(DomainError::Invalid(fs)) => {
            // `categories[j].code` → the form's `code_{i}`.
            let fs = fs
                .into_iter()
                .map(|mut f| {
                    if let Some(rest) = f.field.strip_prefix("categories[") {
                        if let Some((j, what)) = rest.split_once("].") {
                            if let Some(i) = j.parse::<usize>().ok().and_then(|j| kept.get(j)) {
                                f.field = format!("{what}_{i}");
                            }
                        }
                    }
                    f
                })
                .collect();
            categories_page(&s, ui, Some(Typed::of(&form)), Some(DomainError::Invalid(fs))).await
        }
        Err(e @ DomainError::Forbidden) => fail_page(ui, e),
        Err(e) => categories_page(&s, ui, Some(Typed::of(&form)), Some(e)).await,
    }
}

// ---- a budget ----

/// One row of the lines' grid: a category with its whole-year amount and each month's.
pub struct GridRow {
    pub code: String,
    pub name: String,
    /// Index 0: the whole year; 1–12 the months (decimal strings, empty when no line).
    pub cells: Vec<String>,
}

#[derive(Template)]
#[template(path = "budget_show.html")]
struct ShowPage {
    l: Layout,
    v: BudgetView,
    grid: Vec<GridRow>,
    months: Vec<(i64, String)>,
    typed: Typed,
    errors: Vec<String>,
}

impl ShowPage {
    fn month(&self, m: &i64) -> String {
        month_label(&self.l, *m)
    }
    fn month_of(&self, m: &usize) -> String {
        month_label(&self.l, *m as i64)
    }
    /// The grid cell's field name.
    fn key(&self, code: &str, m: &usize) -> String {
        format!("amt_{code}_{m}")
    }
    /// The grid's cell as typed (a refusal) or as saved.
    fn cell(&self, code: &str, m: &usize, saved: &str) -> String {
        let k = self.key(code, m);
        if self.typed.has(&k) {
            self.typed.val(&k).to_string()
        } else {
            saved.to_string()
        }
    }
}

async fn page(s: &AppState, ui: &UiCtx, id: i64, mut typed: Typed, err: Option<DomainError>) -> Response {
    let v = match bg::get(&s.app.db, &ui.ctx.caller, id).await {
        Ok(v) => v,
        Err(e) => return fail_page(ui, e),
    };
    let cats = match bg::categories(&s.app.db).await {
        Ok(c) => c.categories,
        Err(e) => return fail_page(ui, e),
    };
    let mut grid: Vec<GridRow> = cats
        .iter()
        .map(|c| GridRow { code: c.code.clone(), name: c.name.clone(), cells: vec![String::new(); 13] })
        .collect();
    for line in &v.lines {
        let row = match grid.iter_mut().find(|g| g.code == line.category) {
            Some(r) => r,
            None => {
                grid.push(GridRow {
                    code: line.category.clone(),
                    name: line.category_name.clone(),
                    cells: vec![String::new(); 13],
                });
                grid.last_mut().expect("pushed")
            }
        };
        if let Some(c) = row.cells.get_mut(line.month as usize) {
            *c = line.amount.clone();
        }
    }
    let l = Layout::new(ui, "budgets", format!("{} · {} · {}", ui.lang.t("budget.one"), v.cost_centre_name, v.year));
    let months = (0..=12).map(|m| (m, month_label(&l, m))).collect();
    let errors = err.as_ref().map(|e| refusal(&l, e, &mut typed)).unwrap_or_default();
    let res = render(&ShowPage { l, v, grid, months, typed, errors });
    with_status(res, &err)
}

async fn show(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    match id_of(&id) {
        Ok(id) => page(&s, &ui, id, Typed::default(), None).await,
        Err(e) => fail_page(&ui, e),
    }
}

async fn after(s: &AppState, form: &UiForm, id: i64, res: Result<BudgetView, DomainError>) -> Response {
    let ui = &form.ui;
    match res {
        Ok(_) => Redirect::to(&with_flash(&format!("/budgets/{id}"), "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => page(s, ui, id, Typed::of(form), Some(e)).await,
    }
}

/// The grid's cells (`amt_<category>_<month>`) as lines: an empty cell is no line. A line's
/// error names the cell.
fn lines_of_form(form: &UiForm) -> (Vec<BudgetLineIn>, Vec<String>) {
    let mut lines = vec![];
    let mut names = vec![];
    for (k, v) in &form.fields {
        let Some(rest) = k.strip_prefix("amt_") else { continue };
        let Some((cat, m)) = rest.rsplit_once('_') else { continue };
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        let month = m.parse::<i64>().unwrap_or(-1);
        lines.push(BudgetLineIn { category: cat.to_string(), month, amount: v.replace([',', '，'], "") });
        names.push(k.clone());
    }
    (lines, names)
}

/// Renames `lines[i].x` errors to the grid cell the line came from.
fn cell_errors(e: DomainError, names: &[String]) -> DomainError {
    match e {
        DomainError::Invalid(fs) => DomainError::Invalid(
            fs.into_iter()
                .map(|mut f| {
                    if let Some(i) = f
                        .field
                        .strip_prefix("lines[")
                        .and_then(|r| r.split(']').next())
                        .and_then(|i| i.parse::<usize>().ok())
                    {
                        if let Some(n) = names.get(i) {
                            f.field = n.clone();
                        }
                    }
                    f
                })
                .collect(),
        ),
        e => e,
    }
}

async fn save_lines(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(&form.ui, e),
    };
    let (lines, names) = lines_of_form(&form);
    let inp = BudgetLinesIn { note: field(&form, "note"), lines, version: version(&form) };
    let res = bg::update(&s.app.db, &form.ui.ctx, id, &inp).await.map_err(|e| cell_errors(e, &names));
    let res = match (res, form.get("and_submit").is_some()) {
        (Ok(v), true) => bg::submit(&s.app.db, &form.ui.ctx, id, &BudgetVersionIn { version: v.version }).await,
        (r, _) => r,
    };
    after(&s, &form, id, res).await
}

async fn submit(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(&form.ui, e),
    };
    let res = bg::submit(&s.app.db, &form.ui.ctx, id, &BudgetVersionIn { version: version(&form) }).await;
    after(&s, &form, id, res).await
}

async fn ask(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(&form.ui, e),
    };
    let res = bg::ask(&s.app.db, &form.ui.ctx, id, &BudgetQuestionIn { question: field(&form, "question") }).await;
    after(&s, &form, id, res).await
}

async fn answer(State(s): State<AppState>, Path((id, qid)): Path<(String, String)>, form: UiForm) -> Response {
    let (id, qid) = match (id_of(&id), id_of(&qid)) {
        (Ok(i), Ok(q)) => (i, q),
        (Err(e), _) | (_, Err(e)) => return fail_page(&form.ui, e),
    };
    let res = bg::answer(&s.app.db, &form.ui.ctx, id, qid, &BudgetAnswerIn { answer: field(&form, "answer") })
        .await
        .map_err(|e| match e {
            DomainError::Invalid(mut fs) => {
                for f in &mut fs {
                    f.field = format!("answer_{qid}");
                }
                DomainError::Invalid(fs)
            }
            e => e,
        });
    after(&s, &form, id, res).await
}

async fn close(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(&form.ui, e),
    };
    let res = bg::close(&s.app.db, &form.ui.ctx, id, &BudgetVersionIn { version: version(&form) }).await;
    after(&s, &form, id, res).await
}

// ---- budget against actual ----

#[derive(Template)]
#[template(path = "budget_actual.html")]
struct ActualPage {
    l: Layout,
    a: BudgetActual,
    year: i64,
}

async fn actual(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let year = year_of(&ui, &p);
    let cc = q(&p, "cost_centre").and_then(|c| c.parse::<i64>().ok());
    let a = match bg::actual(&s.app.db, &ui.ctx.caller, year, cc).await {
        Ok(a) => a,
        Err(e) => return fail_page(&ui, e),
    };
    if let Some(fmt @ ("xlsx" | "csv")) = q(&p, "format") {
        let t = crate::web::api::budgets::actual_table(&a);
        return match export_download(&s.app.db, &ui, &t, fmt, "budget_actual").await {
            Ok(r) => r,
            Err(e) => fail_page(&ui, e),
        };
    }
    let l = Layout::new(&ui, "budgets", format!("{} · {year}", ui.lang.t("budget.actual_title")));
    render(&ActualPage { l, a, year })
}

// ---- spending ----

#[derive(Template)]
#[template(path = "budget_spending.html")]
struct SpendingPage {
    l: Layout,
    items: Vec<SpendingView>,
    year: i64,
    states: &'static [&'static str],
    f_state: String,
}

async fn spending_list(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let year = year_of(&ui, &p);
    let f = sp::Filter {
        cost_centre_id: q(&p, "cost_centre").and_then(|c| c.parse().ok()),
        year: Some(year),
        state: q(&p, "state").map(str::to_string),
    };
    match sp::list(&s.app.db, &ui.ctx.caller, &f).await {
        Ok(items) => {
            let l = Layout::new(&ui, "budgets", format!("{} · {year}", ui.lang.t("spending.title")));
            render(&SpendingPage { l, items, year, states: sp::STATES, f_state: f.state.unwrap_or_default() })
        }
        Err(e) => fail_page(&ui, e),
    }
}

#[derive(Template)]
#[template(path = "budget_spending_new.html")]
struct SpendingForm {
    l: Layout,
    /// The account the spending is for, by name (the form is opened from the account's page).
    account: Option<(i64, String)>,
    centres: Vec<(i64, String)>,
    categories: Vec<BudgetCategory>,
    today: String,
    typed: Typed,
    errors: Vec<String>,
}

async fn spending_page(s: &AppState, ui: &UiCtx, mut typed: Typed, err: Option<DomainError>) -> Response {
    let centres = {
        let mut conn = match s.app.db.pool.acquire().await {
            Ok(c) => c,
            Err(e) => return fail_page(ui, e.into()),
        };
        match bg::cost_centres_of(&mut conn, &ui.ctx.caller).await {
            Ok(c) => c.into_iter().map(|c| (c.id, c.name)).collect(),
            Err(e) => return fail_page(ui, e),
        }
    };
    let categories = match bg::categories(&s.app.db).await {
        Ok(c) => c.categories,
        Err(e) => return fail_page(ui, e),
    };
    // The account by name, never its id to type: one the caller may see, else none.
    let account = match typed.val("account_id").parse::<i64>() {
        Ok(id) => match crate::app::customers::accounts::get(&s.app.db, &ui.ctx.caller, id).await {
            Ok(a) => Some((a.id, a.name)),
            Err(DomainError::NotFound) => None,
            Err(e) => return fail_page(ui, e),
        },
        Err(_) => None,
    };
    let l = Layout::new(ui, "budgets", ui.lang.t("spending.new"));
    let errors = err.as_ref().map(|e| refusal(&l, e, &mut typed)).unwrap_or_default();
    let res = render(&SpendingForm { l, account, centres, categories, today: ui.ctx.caller.today(), typed, errors });
    with_status(res, &err)
}

async fn spending_form(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let mut typed = Typed::default();
    if let Some(a) = q(&p, "account") {
        typed.values.insert("account_id".into(), a.to_string());
    }
    // Recorded again from a returned or rejected record: the form starts from it.
    if let Some(from) = q(&p, "from").and_then(|v| v.parse::<i64>().ok()) {
        match sp::get(&s.app.db, &ui.ctx.caller, from).await {
            Ok(v) => {
                for (k, val) in [
                    ("cost_centre_id", v.cost_centre_id.to_string()),
                    ("category", v.category),
                    ("spent_on", v.spent_on),
                    ("amount", v.amount),
                    ("purpose", v.purpose),
                ] {
                    typed.values.insert(k.into(), val);
                }
                if let Some(a) = v.account_id {
                    typed.values.insert("account_id".into(), a.to_string());
                }
            }
            Err(e) => return fail_page(&ui, e),
        }
    }
    spending_page(&s, &ui, typed, None).await
}

async fn spending_create(State(s): State<AppState>, form: UiForm) -> Response {
    let ui = &form.ui;
    let int =
        |k: &str| field(&form, k).map(|v| v.parse::<i64>().map_err(|_| DomainError::invalid(k, "expected_integer")));
    let (cc, account) = match (int("cost_centre_id").transpose(), int("account_id").transpose()) {
        (Ok(c), Ok(a)) => (c, a),
        (Err(e), _) | (_, Err(e)) => return spending_page(&s, ui, Typed::of(&form), Some(e)).await,
    };
    let inp = SpendingIn {
        cost_centre_id: cc,
        category: field(&form, "category"),
        spent_on: field(&form, "spent_on"),
        amount: field(&form, "amount").map(|a| a.replace([',', '，'], "")),
        purpose: field(&form, "purpose"),
        account_id: account,
    };
    match sp::create(&s.app.db, &ui.ctx, &inp).await {
        Ok(v) => {
            let to = match v.approval_id {
                Some(a) => format!("/approvals/{a}"),
                None => "/spending".to_string(),
            };
            Redirect::to(&with_flash(&to, "saved")).into_response()
        }
        Err(e @ DomainError::Forbidden) => fail_page(ui, e),
        Err(e) => spending_page(&s, ui, Typed::of(&form), Some(e)).await,
    }
}

async fn spending_sign(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    match sp::sign(&s.app.db, &ui.ctx, id, version(&form)).await {
        Ok(_) => Redirect::to(&with_flash("/spending", "saved")).into_response(),
        Err(e) => fail_page(ui, e),
    }
}

// ---- executive resource requests ----

#[derive(Template)]
#[template(path = "exec_requests.html")]
struct ExecListPage {
    l: Layout,
    items: Vec<ExecRequestView>,
}

async fn exec_list(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let f = ex::Filter {
        account_id: q(&p, "account").and_then(|a| a.parse().ok()),
        state: q(&p, "state").map(str::to_string),
    };
    match ex::list(&s.app.db, &ui.ctx.caller, &f).await {
        Ok(items) => {
            let l = Layout::new(&ui, "exec_requests", ui.lang.t("exec.title"));
            render(&ExecListPage { l, items })
        }
        Err(e) => fail_page(&ui, e),
    }
}

#[derive(Template)]
#[template(path = "exec_request_new.html")]
struct ExecForm {
    l: Layout,
    account_id: i64,
    account_name: String,
    executives: Vec<Executive>,
    today: String,
    typed: Typed,
    errors: Vec<String>,
}

async fn exec_page(s: &AppState, ui: &UiCtx, account_id: i64, mut typed: Typed, err: Option<DomainError>) -> Response {
    let a = match crate::app::customers::accounts::get(&s.app.db, &ui.ctx.caller, account_id).await {
        Ok(a) => a,
        Err(e) => return fail_page(ui, e),
    };
    let executives = match ex::executives(&s.app.db).await {
        Ok(x) => x,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "exec_requests", format!("{} · {}", ui.lang.t("exec.new"), a.name));
    let errors = err.as_ref().map(|e| refusal(&l, e, &mut typed)).unwrap_or_default();
    let res = render(&ExecForm {
        account_id,
        account_name: a.name.clone(),
        executives,
        today: ui.ctx.caller.today(),
        typed,
        errors,
        l,
    });
    with_status(res, &err)
}

async fn exec_form(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    match id_of(&id) {
        Ok(id) => exec_page(&s, &ui, id, Typed::default(), None).await,
        Err(e) => fail_page(&ui, e),
    }
}

async fn exec_create(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let executive_id = match field(&form, "executive_id").map(|v| v.parse::<i64>()) {
        None => None,
        Some(Ok(v)) => Some(v),
        Some(Err(_)) => {
            let e = DomainError::invalid("executive_id", "not_an_executive");
            return exec_page(&s, ui, id, Typed::of(&form), Some(e)).await;
        }
    };
    let inp = ExecRequestIn {
        account_id: Some(id),
        executive_id,
        purpose: field(&form, "purpose"),
        expected_result: field(&form, "expected_result"),
        visit_on: field(&form, "visit_on"),
    };
    match ex::create(&s.app.db, &ui.ctx, &inp).await {
        Ok(v) => Redirect::to(&with_flash(&format!("/exec-requests/{}", v.id), "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => exec_page(&s, ui, id, Typed::of(&form), Some(e)).await,
    }
}

#[derive(Template)]
#[template(path = "exec_request.html")]
struct ExecShowPage {
    l: Layout,
    v: ExecRequestView,
}

async fn exec_show(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(&ui, e),
    };
    match ex::get(&s.app.db, &ui.ctx.caller, id).await {
        Ok(v) => {
            let l = Layout::new(&ui, "exec_requests", format!("{} · {}", ui.lang.t("exec.one"), v.account_name));
            render(&ExecShowPage { l, v })
        }
        Err(e) => fail_page(&ui, e),
    }
}

// ---- the approval page's panels ----

fn row(l: &Layout, k: &str, val: String) -> PanelRow {
    PanelRow { label: l.t(k), value: if val.is_empty() { "—".into() } else { val }, changed: false }
}

/// The budget a `budget_plan` request asks about, whole: its lines by category and month, the
/// figures by category, and the 质询 questions and answers.
pub(crate) fn budget_panel(l: &Layout, v: BudgetView) -> SubjectPanel {
    let mut groups = vec![PanelGroup {
        heading: l.t("budget.one"),
        rows: vec![
            row(l, "budget.cost_centre", v.cost_centre_name.clone()),
            row(l, "budget.year", v.year.to_string()),
            row(l, "budget.revision", format!("v{}", v.revision)),
            row(l, "budget.drafted_by", v.drafted_by_name.clone()),
            row(l, "budget.total", format!("¥{}", l.money(Some(&v.total)))),
            row(l, "field.note", v.note.clone().unwrap_or_default()),
        ],
    }];
    if !v.questions.is_empty() {
        groups.push(PanelGroup {
            heading: l.t("budget.questions"),
            rows: v
                .questions
                .iter()
                .map(|q| PanelRow {
                    label: format!("{}（{}）", q.question, q.asked_by_name),
                    value: match (&q.answer, &q.answered_by_name) {
                        (Some(a), Some(n)) => format!("{a}（{n}）"),
                        (Some(a), None) => a.clone(),
                        _ => l.t("budget.unanswered"),
                    },
                    changed: false,
                })
                .collect(),
        });
    }
    let head = vec![l.t("budget.category"), l.t("budget.month"), l.t("budget.amount")];
    let rows = v
        .lines
        .iter()
        .map(|x| (vec![x.category_name.clone(), month_label(l, x.month), l.money(Some(&x.amount))], false))
        .collect();
    SubjectPanel {
        title: l.t("budget.one"),
        note: None,
        groups,
        table: Some(PanelTable {
            heading: l.t("budget.lines"),
            head,
            rows,
            foot: vec![l.t("budget.total"), String::new(), l.money(Some(&v.total))],
        }),
        facts_title: l.t("budget.cost_centre"),
        facts: vec![(l.t("budget.cost_centre"), v.cost_centre_name.clone())],
        facts_href: Some((format!("/budgets/{}", v.id), l.t("budget.open"))),
        facts_hidden: false,
    }
}

/// The spending a `budget_exception` request asks about, with its budget's figures by category.
pub(crate) fn spending_panel(l: &Layout, s: SpendingView, b: BudgetView) -> SubjectPanel {
    let head = vec![
        l.t("budget.category"),
        l.t("budget.budget"),
        l.t("budget.committed"),
        l.t("budget.spent"),
        l.t("budget.remaining"),
    ];
    let rows = b
        .categories
        .iter()
        .map(|c| {
            (
                vec![
                    c.category_name.clone(),
                    l.money(Some(&c.budget)),
                    l.money(Some(&c.committed)),
                    l.money(Some(&c.spent)),
                    l.money(Some(&c.remaining)),
                ],
                c.category == s.category,
            )
        })
        .collect();
    SubjectPanel {
        title: l.t("spending.one"),
        note: None,
        groups: vec![PanelGroup {
            heading: l.t("spending.one"),
            rows: vec![
                row(l, "budget.cost_centre", s.cost_centre_name.clone()),
                row(l, "budget.category", s.category_name.clone()),
                row(l, "spending.spent_on", s.spent_on.clone()),
                row(l, "budget.amount", format!("¥{}", l.money(Some(&s.amount)))),
                row(l, "spending.purpose", s.purpose.clone()),
                row(l, "field.account", s.account_name.clone().unwrap_or_default()),
                row(l, "spending.recorded_by", s.recorded_by_name.clone()),
                row(l, "spending.in_budget", if s.in_budget { l.t("common.yes") } else { l.t("common.no") }),
            ],
        }],
        table: Some(PanelTable {
            heading: format!("{} · {} · {}", l.t("budget.one"), b.cost_centre_name, b.year),
            head,
            rows,
            foot: vec![],
        }),
        facts_title: l.t("budget.one"),
        facts: vec![(l.t("budget.total"), format!("¥{}", l.money(Some(&b.total))))],
        facts_href: Some((format!("/budgets/{}", b.id), l.t("budget.open"))),
        facts_hidden: false,
    }
}

/// The executive resource request an `exec_resource` request asks about.
pub(crate) fn exec_panel(l: &Layout, v: ExecRequestView) -> SubjectPanel {
    SubjectPanel {
        title: l.t("exec.one"),
        note: None,
        groups: vec![PanelGroup {
            heading: l.t("exec.one"),
            rows: vec![
                row(l, "field.account", v.account_name.clone()),
                row(l, "exec.executive", format!("{}（{}）", v.executive_name, l.title_of(&v.executive_role, None))),
                row(l, "exec.purpose", v.purpose.clone()),
                row(l, "exec.expected_result", v.expected_result.clone()),
                row(l, "exec.visit_on", v.visit_on.clone()),
                row(l, "exec.requested_by", v.requested_by_name.clone()),
            ],
        }],
        table: None,
        facts_title: l.t("field.account"),
        facts: vec![(l.t("field.account"), v.account_name.clone())],
        facts_href: Some((format!("/exec-requests/{}", v.id), l.t("exec.open"))),
        facts_hidden: false,
    }
}
