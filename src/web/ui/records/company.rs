//! The administrator's page for the company's profile (name, address, phone, fax, website, logo)
//! that documents such as the printed quote carry.
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::app::records::company::{self, Company, CompanyView};
use crate::domain::DomainError;
use crate::web::auth::UiCtx;
use crate::web::ui::{error_lines, fail_page, render, status_and_code, Layout};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/company", get(page).post(save))
}

#[derive(Template)]
#[template(path = "company.html")]
struct Page {
    l: Layout,
    c: CompanyView,
    errors: Vec<String>,
    saved: bool,
}

async fn page(State(s): State<AppState>, ui: UiCtx, axum::extract::RawQuery(raw): axum::extract::RawQuery) -> Response {
    if !ui.ctx.caller.role.is_admin() {
        return fail_page(&ui, DomainError::Forbidden);
    }
    match company::get(&s.app.db).await {
        Ok(c) => {
            let saved = raw.is_some_and(|r| r.contains("saved=1"));
            render(&Page { l: Layout::new(&ui, "company", ui.lang.t("company.title")), c, errors: vec![], saved })
        }
        Err(e) => fail_page(&ui, e),
    }
}

/// The form (multipart: the fields and an optional logo file; "remove_logo" drops the logo).
async fn save(State(s): State<AppState>, ui: UiCtx, m: axum::extract::Multipart) -> Response {
    let res = async {
        let parts = crate::web::api::customers::documents::read_multipart(m).await.map_err(|e| (e, None))?;
        if !crate::web::auth::same_secret(parts.get("_csrf").unwrap_or(""), &ui.csrf) {
            return Err((DomainError::Csrf, None));
        }
        let get = |k: &str| parts.fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_string());
        let logo = if get("remove_logo").is_some() {
            Some(String::new())
        } else if !parts.bytes.is_empty() {
            Some(company::logo_of(&parts.bytes).map_err(|e| (e, None))?)
        } else {
            None
        };
        let c = Company {
            name: get("name").unwrap_or_default(),
            address: get("address"),
            phone: get("phone"),
            fax: get("fax"),
            website: get("website"),
            logo,
        };
        let version = get("version").and_then(|v| v.parse().ok()).unwrap_or(0);
        company::set(&s.app.db, &ui.ctx, &c, version).await.map_err(|e| (e, Some(c)))
    }
    .await;
    match res {
        Ok(_) => Redirect::to("/admin/company?saved=1").into_response(),
        Err((e @ (DomainError::Forbidden | DomainError::Csrf), _)) => fail_page(&ui, e),
        Err((e, typed)) => {
            let l = Layout::new(&ui, "company", ui.lang.t("company.title"));
            let errors = error_lines(&l, &e);
            let mut c = match company::get(&s.app.db).await {
                Ok(c) => c,
                Err(e) => return fail_page(&ui, e),
            };
            if let Some(t) = typed {
                let logo = c.company.logo.clone();
                c.company = Company { logo, ..t };
            }
            let mut res = render(&Page { l, c, errors, saved: false });
            *res.status_mut() = status_and_code(&e).0;
            res
        }
    }
}
