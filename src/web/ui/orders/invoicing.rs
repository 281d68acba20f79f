//! The account's invoicing details (开票信息): the small form of the account page.
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::app::orders::invoicing::{self, InvoicingIn};
use crate::domain::DomainError;
use crate::web::api::id_of;
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::forms::{missing_or_forbidden, redisplay_or_redirect, with_flash, Field, FormPage};
use crate::web::ui::{fail_page, render, Layout};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/accounts/{id}/invoicing", get(form).post(save))
}

const FIELDS: &[&str] = &["invoice_title", "tax_number", "address", "phone", "bank", "bank_account"];

async fn form_page(s: &AppState, ui: &UiCtx, id: i64) -> Result<FormPage, DomainError> {
    let v = invoicing::get(&s.app.db, &ui.ctx.caller, id).await?;
    let a = crate::app::customers::accounts::get(&s.app.db, &ui.ctx.caller, id).await?;
    let l = Layout::new(ui, "accounts", format!("{} · {}", ui.lang.t("invoicing.title"), a.name));
    let vals = [
        if v.title.is_empty() { a.name.clone() } else { v.title.clone() },
        if v.tax_number.is_empty() { a.credit_code.clone().unwrap_or_default() } else { v.tax_number.clone() },
        v.address.clone().unwrap_or_default(),
        v.phone.clone().unwrap_or_default(),
        v.bank.clone().unwrap_or_default(),
        v.bank_account.clone().unwrap_or_default(),
    ];
    let fields = FIELDS
        .iter()
        .zip(vals)
        .map(|(n, val)| {
            let f = Field::new(&l, n, "text", Some(val));
            match *n {
                "invoice_title" => f.required(),
                "tax_number" => f.required().help(l.t("invoicing.tax_help")),
                _ => f,
            }
        })
        .collect();
    Ok(FormPage {
        heading: l.title.clone(),
        action: format!("/accounts/{id}/invoicing"),
        fields,
        version: Some(v.version),
        submit: l.t("action.save"),
        cancel: format!("/accounts/{id}#invoicing"),
        errors: vec![],
        duplicate_of: None,
        once: None,
        l,
    })
}

async fn form(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    match async { form_page(&s, &ui, id_of(&id)?).await }.await {
        Ok(p) => render(&p),
        Err(e) => fail_page(&ui, e),
    }
}

async fn save(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let get = |k: &str| form.get(k).map(str::to_string);
    let inp = InvoicingIn {
        version: form.get("version").and_then(|v| v.trim().parse().ok()),
        title: get("invoice_title"),
        tax_number: get("tax_number"),
        address: get("address"),
        phone: get("phone"),
        bank: get("bank"),
        bank_account: get("bank_account"),
    };
    let res = invoicing::put(&s.app.db, &ui.ctx, id, &inp).await.map_err(|e| match e {
        // The form names the title field `invoice_title`.
        DomainError::Invalid(fs) => DomainError::Invalid(
            fs.into_iter()
                .map(|mut f| {
                    if f.field == "title" {
                        f.field = "invoice_title".into();
                    }
                    f
                })
                .collect(),
        ),
        other => other,
    });
    redisplay_or_redirect(
        ui,
        res,
        |_| with_flash(&format!("/accounts/{id}#invoicing"), "saved"),
        missing_or_forbidden,
        Some(&form.fields),
        async |err| {
            let mut p = form_page(&s, ui, id).await?;
            p.keep_posted_version(err, &form.fields);
            Ok(p)
        },
    )
    .await
}
