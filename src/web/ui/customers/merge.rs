//! The merge page: pick a duplicate of this account (likely duplicates are listed, any account
//! number may be typed), see both side by side with what will move, then confirm.
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::app::customers::accounts::{self, AccountView};
use crate::app::customers::merge::{self, Candidate, Preview, Side};
use crate::domain::DomainError;
use crate::web::api::{id_of, q, query_pairs};
use crate::web::auth::{UiCtx, UiForm};
use crate::web::error::status_and_code;
use crate::web::ui::{fail_page, render, Layout};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/accounts/{id}/merge", get(page).post(submit))
}

/// The confirmation step: both accounts compared, and what the merge will do.
struct Confirm {
    duplicate_id: i64,
    version: i64,
    duplicate_version: i64,
    duplicate_name: String,
    /// (label, survivor, duplicate)
    rows: Vec<(String, String, String)>,
    moves: Vec<String>,
    filled: Vec<String>,
    team_joined: Vec<String>,
    renumbered: Option<String>,
}

#[derive(Template)]
#[template(path = "merge.html")]
struct MergePage {
    l: Layout,
    a: AccountView,
    candidates: Vec<Candidate>,
    typed: String,
    errors: Vec<String>,
    confirm: Option<Confirm>,
}

fn confirm_of(l: &Layout, p: Preview) -> Confirm {
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    let side = |s: &Side| {
        let a = &s.account;
        let mut v =
            vec![format!("#{} {}", a.id, a.name), dash(&a.credit_code), dash(&a.names.owner), dash(&a.names.region)];
        v.extend(s.counts.iter().map(|(_, n)| n.to_string()));
        v
    };
    let mut labels = vec![l.t("field.name"), l.t("field.credit_code"), l.t("field.owner"), l.t("field.region")];
    labels.extend(p.survivor.counts.iter().map(|(t, _)| l.t(&format!("merge.count.{t}"))));
    let rows = labels.into_iter().zip(side(&p.survivor)).zip(side(&p.duplicate)).map(|((k, s), d)| (k, s, d)).collect();
    let moves = p
        .duplicate
        .counts
        .iter()
        .filter(|(_, n)| *n != 0)
        .map(|(t, n)| l.t(&format!("merge.table.{t}")).replace("{n}", &n.to_string()))
        .collect();
    Confirm {
        duplicate_id: p.duplicate.account.id,
        version: p.survivor.account.version,
        duplicate_version: p.duplicate.account.version,
        duplicate_name: p.duplicate.account.name.clone(),
        rows,
        moves,
        filled: p.filled.iter().map(|f| l.e("field", f)).collect(),
        team_joined: p.team_joined.iter().map(|m| format!("{} ({})", m.display_name, m.username)).collect(),
        renumbered: (p.documents_renumbered > 0)
            .then(|| l.t("merge.renumbered").replace("{n}", &p.documents_renumbered.to_string())),
    }
}

/// The page, at the pick step or (with a duplicate chosen) the confirmation step; `err` is
/// what a failed merge answered.
async fn build(s: &AppState, ui: &UiCtx, id: &str, duplicate: Option<&str>, err: Option<DomainError>) -> Response {
    let db = &s.app.db;
    let caller = &ui.ctx.caller;
    let res = async {
        let id = id_of(id)?;
        Ok::<_, DomainError>((accounts::get(db, caller, id).await?, merge::candidates(db, caller, id).await?))
    }
    .await;
    let (a, candidates) = match res {
        Ok(x) => x,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "accounts", format!("{} · {}", ui.lang.t("merge.title"), a.name));
    let mut problems: Vec<DomainError> = err.into_iter().collect();
    let mut confirm = None;
    let typed = duplicate.map(str::trim).unwrap_or("").to_string();
    if !typed.is_empty() {
        match typed.parse::<i64>() {
            Err(_) => problems.push(DomainError::invalid("duplicate_id", "expected_integer")),
            Ok(d) => match merge::preview(db, caller, a.id, d).await {
                Ok(p) => confirm = Some(confirm_of(&l, p)),
                Err(e) => problems.push(e),
            },
        }
    }
    let status = problems.first().map(|e| status_and_code(e).0);
    let mut errors: Vec<String> = problems.iter().flat_map(|e| crate::web::ui::error_lines(&l, e)).collect();
    errors.dedup();
    let mut res = render(&MergePage { candidates, typed, errors, confirm, a, l });
    if let Some(st) = status {
        *res.status_mut() = if st.is_server_error() { axum::http::StatusCode::INTERNAL_SERVER_ERROR } else { st };
    }
    res
}

async fn page(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    build(&s, &ui, &id, q(&p, "duplicate_id"), None).await
}

async fn submit(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let dup = form.get("duplicate_id").unwrap_or("").trim();
    let int = |k: &str| form.get(k).and_then(|v| v.trim().parse::<i64>().ok());
    let res = async {
        let survivor = id_of(&id)?;
        let duplicate: i64 = dup.parse().map_err(|_| DomainError::invalid("duplicate_id", "expected_integer"))?;
        merge::merge(&s.app.db, &ui.ctx, survivor, duplicate, int("version"), int("duplicate_version")).await?;
        Ok::<_, DomainError>((survivor, duplicate))
    }
    .await;
    match res {
        Ok((survivor, duplicate)) => Redirect::to(&format!("/accounts/{survivor}?merged={duplicate}")).into_response(),
        Err(e @ (DomainError::Forbidden | DomainError::Internal(_))) => fail_page(ui, e),
        Err(e) => build(&s, ui, &id, Some(dup), Some(e)).await,
    }
}
