//! An account's whitespace grid on the pages (issue 23 item 8): the grid with its legend, a
//! cell with its opportunities and orders, and setting a cell by hand. Everything goes through
//! `app::plans::whitespace`.
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::app::plans::whitespace::{self, CellDetail, Grid};
use crate::domain::account_plan::Whitespace;
use crate::domain::DomainError;
use crate::web::api::{id_of, q, query_pairs};
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::forms::with_flash;
use crate::web::ui::{enc, error_lines, fail_page, render, status_and_code, Layout};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts/{id}/whitespace", get(grid_page))
        .route("/accounts/{id}/whitespace/cell", get(cell_page).post(set_cell))
}

/// The link of a cell's page.
pub fn cell_href(account_id: i64, bu: &str, line: &str) -> String {
    format!("/accounts/{account_id}/whitespace/cell?{}", enc(&[("bu", bu), ("line", line)]))
}

/// The cell states a person may set by hand, with their labels.
fn states(l: &Layout) -> Vec<(String, String)> {
    Whitespace::ALL.iter().map(|w| (w.code().to_string(), l.e("whitespace.state", w.code()))).collect()
}

/// What the form had typed when it was refused: (business unit, product line, state, note).
type Typed = (String, String, String, String);

#[derive(Template)]
#[template(path = "whitespace.html")]
struct GridPage {
    l: Layout,
    g: Grid,
    states: Vec<(String, String)>,
    typed: Typed,
    errors: Vec<String>,
}

impl GridPage {
    fn href(&self, bu: &str, line: &str) -> String {
        cell_href(self.g.account_id, bu, line)
    }
    /// A row's label: the business unit, or "the whole account".
    fn unit_label(&self, bu: &str) -> String {
        if self.g.whole_account {
            self.l.t("whitespace.whole_account")
        } else {
            bu.to_string()
        }
    }
}

async fn show_grid(s: &AppState, ui: &UiCtx, id: i64, typed: Option<Typed>, err: Option<DomainError>) -> Response {
    let g = match whitespace::grid(&s.app.db, &ui.ctx.caller, id).await {
        Ok(g) => g,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "accounts", format!("{} · {}", ui.lang.t("whitespace.title"), g.account_name));
    let status = err.as_ref().map(|e| status_and_code(e).0);
    let errors = err.map(|e| error_lines(&l, &e)).unwrap_or_default();
    let mut res = render(&GridPage { states: states(&l), typed: typed.unwrap_or_default(), errors, g, l });
    if let Some(st) = status {
        *res.status_mut() = st;
    }
    res
}

async fn grid_page(State(s): State<AppState>, Path(id): Path<String>, ui: UiCtx) -> Response {
    match id_of(&id) {
        Ok(id) => show_grid(&s, &ui, id, None, None).await,
        Err(e) => fail_page(&ui, e),
    }
}

#[derive(Template)]
#[template(path = "whitespace_cell.html")]
struct CellPage {
    l: Layout,
    d: CellDetail,
    states: Vec<(String, String)>,
    unit: String,
    grid_href: String,
}

async fn cell_page(State(s): State<AppState>, Path(id): Path<String>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let res = async {
        let id = id_of(&id)?;
        whitespace::cell(&s.app.db, &ui.ctx.caller, id, q(&p, "bu").unwrap_or(""), q(&p, "line").unwrap_or("")).await
    }
    .await;
    match res {
        Ok(d) => {
            let unit =
                if d.whole_account { ui.lang.t("whitespace.whole_account") } else { d.cell.business_unit.clone() };
            let l = Layout::new(
                &ui,
                "accounts",
                format!("{} · {} · {}", ui.lang.t("whitespace.title"), unit, d.cell.product_line),
            );
            let grid_href = format!("/accounts/{}/whitespace", d.account_id);
            render(&CellPage { states: states(&l), unit, grid_href, d, l })
        }
        Err(e) => fail_page(&ui, e),
    }
}

async fn set_cell(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let v = |k: &str| form.get(k).map(str::trim).unwrap_or("").to_string();
    let typed = (v("bu"), v("line"), v("state"), v("note"));
    let state = Some(typed.2.as_str()).filter(|s| !s.is_empty());
    let note = Some(typed.3.as_str()).filter(|s| !s.is_empty());
    match whitespace::set_cell(&s.app.db, &ui.ctx, id, &typed.0, &typed.1, state, note).await {
        Ok(_) => Redirect::to(&with_flash(&format!("/accounts/{id}/whitespace"), "saved")).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        Err(e) => show_grid(&s, ui, id, Some(typed), Some(e)).await,
    }
}
