//! Negotiation rounds on the pages: the round form (its own page, and the same fields on the
//! opportunity's page), and a round's address for the approval it asked (the opportunity's
//! page at the round). Every change goes through `app::quotes::negotiations`.
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::app::quotes::negotiations::{self, RoundIn, RoundView};
use crate::app::records::once;
use crate::db::WriteTx;
use crate::domain::money::format_bp;
use crate::domain::DomainError;
use crate::web::api::id_of;
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::forms::{
    missing_or_forbidden, once_done, once_of, posted_once, redisplay_or_redirect, with_flash, Field, FormPage,
};
use crate::web::ui::{fail_page, render, Layout};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/opportunities/{id}/negotiations/new", get(new_form).post(create))
        .route("/negotiations/{id}", get(show))
        .route("/negotiations/{id}/edit", get(edit_form).post(update))
}

/// The round's fields in the form's order, with their input kinds.
pub const FIELDS: &[(&str, &str)] = &[
    ("held_on", "date"),
    ("participants", "text"),
    ("our_position", "textarea"),
    ("their_position", "textarea"),
    ("concessions", "textarea"),
    ("next_step", "text"),
    ("asked_discount", "text"),
    ("escalation_reason", "textarea"),
];

fn at_round(v: &RoundView) -> String {
    format!("/opportunities/{}#round-{}", v.opportunity_id, v.id)
}

/// The round's form: a new round on the opportunity, or the round `r` to revise.
async fn form_page(
    s: &AppState,
    ui: &UiCtx,
    opportunity_id: i64,
    r: Option<&RoundView>,
) -> Result<FormPage, DomainError> {
    let db = &s.app.db;
    let o = crate::app::funnel::opportunities::get(db, &ui.ctx.caller, opportunity_id).await?;
    let limit = negotiations::own_limit(db, &ui.ctx.caller).await?;
    let heading =
        format!("{} · {}", ui.lang.t(if r.is_some() { "negotiation.edit" } else { "negotiation.new" }), o.name);
    let l = Layout::new(ui, "opportunities", heading.clone());
    let value = |name: &str| -> String {
        let Some(r) = r else {
            return if name == "held_on" { ui.ctx.caller.today() } else { String::new() };
        };
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        match name {
            "held_on" => r.held_on.clone(),
            "participants" => r.participants.clone(),
            "our_position" => o(&r.our_position),
            "their_position" => o(&r.their_position),
            "concessions" => o(&r.concessions),
            "next_step" => o(&r.next_step),
            "asked_discount" => o(&r.asked_discount),
            "escalation_reason" => o(&r.escalation_reason),
            _ => String::new(),
        }
    };
    let fields = FIELDS
        .iter()
        .map(|(name, kind)| {
            let f = Field::new(&l, name, kind, Some(value(name)));
            match *name {
                "held_on" | "participants" => f.required(),
                "asked_discount" => f.help(l.t("negotiation.asked_help").replace("{p}", &format_bp(limit))),
                "escalation_reason" if r.is_some() => f.help(l.t("negotiation.reask_help")),
                "escalation_reason" => f.help(l.t("negotiation.reason_help")),
                _ => f,
            }
        })
        .collect();
    Ok(FormPage {
        heading,
        action: match r {
            Some(r) => format!("/negotiations/{}/edit", r.id),
            None => format!("/opportunities/{opportunity_id}/negotiations/new"),
        },
        fields,
        version: r.map(|r| r.version),
        submit: l.t("action.save"),
        cancel: match r {
            Some(r) => at_round(r),
            None => format!("/opportunities/{opportunity_id}#negotiations"),
        },
        errors: vec![],
        duplicate_of: None,
        once: None,
        l,
    })
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
    let inp = round_in(&form);
    let make = async |tx: &mut WriteTx| negotiations::create_in(tx, &ui.ctx, id, &inp).await;
    let res = once::create(&s.app.db, &ui.ctx, posted_once(&form.fields), at_round, make).await;
    redisplay_or_redirect(
        ui,
        res,
        |o| once_done(o, |v| at_round(&v)),
        missing_or_forbidden,
        Some(&form.fields),
        async |_| form_page(&s, ui, id, None).await,
    )
    .await
}

/// The round as the form posts it.
fn round_in(form: &UiForm) -> RoundIn {
    let get = |k: &str| form.get(k).map(str::to_string);
    RoundIn {
        held_on: get("held_on"),
        participants: get("participants"),
        our_position: get("our_position"),
        their_position: get("their_position"),
        concessions: get("concessions"),
        next_step: get("next_step"),
        asked_discount: get("asked_discount"),
        escalation_reason: get("escalation_reason"),
        version: form.get("version").and_then(|v| v.trim().parse().ok()),
    }
}

async fn edit_form(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    let res = async {
        let r = negotiations::get(&s.app.db, &ui.ctx.caller, id_of(&id)?).await?;
        form_page(&s, &ui, r.opportunity_id, Some(&r)).await
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
    let res = negotiations::update(&s.app.db, &ui.ctx, id, &round_in(&form)).await;
    redisplay_or_redirect(
        ui,
        res,
        |v| with_flash(&at_round(&v), "saved"),
        missing_or_forbidden,
        Some(&form.fields),
        async |err| {
            let r = negotiations::get(&s.app.db, &ui.ctx.caller, id).await?;
            let mut p = form_page(&s, ui, r.opportunity_id, Some(&r)).await?;
            p.keep_posted_version(err, &form.fields);
            Ok(p)
        },
    )
    .await
}

/// A round's address (an escalation request links here): the opportunity's page at the round.
async fn show(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    match async { negotiations::get(&s.app.db, &ui.ctx.caller, id_of(&id)?).await }.await {
        Ok(v) => Redirect::to(&at_round(&v)).into_response(),
        Err(e) => fail_page(&ui, e),
    }
}
