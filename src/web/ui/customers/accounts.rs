//! Account and contact pages.
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::app::customers::accounts::{self, AccountView};
use crate::app::customers::contacts::{self, ContactView};
use crate::app::records::audit::AuditFilter;
use crate::app::records::input::Input;
use crate::app::records::once;
use crate::app::{people::org, people::users, spreadsheets::export, Caller};
use crate::db::WriteTx;
use crate::domain::account::{Attitude, DecisionRole, Gender, Industry, Level, Status, RAD_CLASSES};
use crate::domain::policy::{decide, Decision, Op};
use crate::web::api::{id_of, q, query_pairs};
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::forms::{
    missing_or_forbidden, never, once_done, once_of, posted_once, redisplay_or_redirect, with_flash, Field, FormPage,
};
use crate::web::ui::{fail_page, history_rows, render, HistoryRow, Layout, Load, Section};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts", get(list))
        .route("/accounts/export.csv", get(|s, ui, q| export_accounts(s, ui, q, "csv")))
        .route("/accounts/export.xlsx", get(|s, ui, q| export_accounts(s, ui, q, "xlsx")))
        .route("/accounts/new", get(new_form).post(create))
        .route("/accounts/{id}", get(show))
        .route("/accounts/{id}/edit", get(edit_form).post(update))
        .route("/accounts/{id}/delete", get(delete_confirm).post(delete))
        .route("/accounts/{id}/contacts/new", get(new_contact_form).post(create_contact))
        .route("/pool", get(pool_page))
        .route(
            "/accounts/{id}/documents",
            axum::routing::post(upload_document)
                .layer(axum::extract::DefaultBodyLimit::max(crate::app::customers::documents::MAX_BYTES + 64 * 1024)),
        )
        .route("/documents/{id}/download", get(download_document))
        .route("/accounts/{id}/claim", axum::routing::post(claim))
        .route("/accounts/{id}/release", axum::routing::post(release))
        .route("/accounts/{id}/team", axum::routing::post(team_add))
        .route("/accounts/{id}/team/{username}/remove", axum::routing::post(team_remove))
        .route("/contacts", get(contact_list))
        .route("/contacts/export.csv", get(|s, ui, q| export_contacts(s, ui, q, "csv")))
        .route("/contacts/export.xlsx", get(|s, ui, q| export_contacts(s, ui, q, "xlsx")))
        .route("/contacts/{id}", get(contact_show))
        .route("/contacts/{id}/edit", get(contact_edit_form).post(contact_update))
        .route("/contacts/{id}/delete", get(contact_delete_confirm).post(contact_delete))
        .route("/contacts/{id}/personal-data", get(contact_personal_data))
        .route("/contacts/{id}/erase", axum::routing::post(contact_erase))
}

fn codes<T: Copy>(all: &[T], code: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|x| code(*x)).collect()
}

pub struct Select {
    pub name: &'static str,
    pub label: String,
    pub value: String,
    /// Fixed codes, or loaded (org units, people): a picker that failed to load says so.
    pub options: Section<Vec<(String, String)>>,
}

#[derive(Template)]
#[template(path = "accounts.html")]
struct ListPage {
    l: Layout,
    f_q: String,
    selects: Vec<Select>,
    rows: Vec<AccountView>,
    columns: Vec<(String, Option<String>)>,
    count_text: String,
    filter_qs: String,
    has_cursor: bool,
    next_href: Option<String>,
    can_create: bool,
}

const FILTER_KEYS: &[&str] = &[
    "q",
    "industry",
    "status",
    "rad_class",
    "tier",
    "level",
    "region",
    "branch",
    "owner",
    "coverage",
    "period",
    "sort",
];

fn qs(pairs: &[(&str, String)]) -> String {
    serde_urlencoded::to_string(pairs.iter().filter(|(_, v)| !v.is_empty()).collect::<Vec<_>>()).unwrap_or_default()
}

async fn list(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let f = match crate::web::api::accounts_filter(&p) {
        Ok(f) => f,
        Err(e) => return fail_page(&ui, e),
    };
    let caller = &ui.ctx.caller;
    let db = &s.app.db;
    let (page, n) = match tokio::try_join!(accounts::list(db, caller, &f), accounts::count(db, caller, &f)) {
        Ok(x) => x,
        Err(e) => return fail_page(&ui, e),
    };
    let l = Layout::new(&ui, "accounts", ui.lang.t("accounts.title"));
    let val = |k: &str| q(&p, k).unwrap_or("").to_string();
    let kept: Vec<(&str, String)> = FILTER_KEYS.iter().map(|k| (*k, val(k))).collect();
    let filter_qs = qs(&kept);
    let regions = org::list(db).await.section("accounts", "region and branch filters");
    let units = |kind: &'static str| {
        regions.as_ref().map(|us| {
            us.iter().filter(|o| o.kind == kind).map(|o| (o.code.clone(), o.name.clone())).collect::<Vec<_>>()
        })
    };
    let mut selects = vec![
        Select {
            name: "industry",
            label: l.t("field.industry"),
            value: val("industry"),
            options: Section::Loaded(opts(&l, "industry", &codes(Industry::ALL, Industry::code))),
        },
        Select {
            name: "status",
            label: l.t("field.status"),
            value: val("status"),
            options: Section::Loaded(opts(&l, "status", &codes(Status::ALL, Status::code))),
        },
        Select {
            name: "level",
            label: l.t("field.level"),
            value: val("level"),
            options: Section::Loaded(opts(&l, "level", &codes(Level::ALL, Level::code))),
        },
        Select {
            name: "rad_class",
            label: l.t("field.rad_class"),
            value: val("rad_class"),
            options: Section::Loaded(
                RAD_CLASSES
                    .iter()
                    .map(|c| (c.to_string(), c.to_string()))
                    .chain(std::iter::once(("none".to_string(), l.t("rad.unclassified"))))
                    .collect(),
            ),
        },
        Select {
            name: "tier",
            label: l.t("field.tier"),
            value: val("tier"),
            options: Section::Loaded(opts(
                &l,
                "tier",
                &codes(crate::domain::account::Tier::ALL, crate::domain::account::Tier::code),
            )),
        },
        Select { name: "region", label: l.t("field.region"), value: val("region"), options: units("region") },
        Select { name: "branch", label: l.t("field.branch"), value: val("branch"), options: units("branch") },
    ];
    if caller.reach() != crate::domain::role::Reach::Own {
        let us = users::list(db).await.section("accounts", "owner filter");
        selects.push(Select {
            name: "owner",
            label: l.t("field.owner"),
            value: val("owner"),
            options: us.map(|us| {
                us.into_iter().filter(|u| u.role.works_accounts()).map(|u| (u.username, u.display_name)).collect()
            }),
        });
    }
    let sort = val("sort");
    let sort_link = |key: &str| {
        let next = if sort == key { format!("-{key}") } else { key.to_string() };
        let mut k: Vec<(&str, String)> = kept.iter().filter(|(n, _)| *n != "sort").cloned().collect();
        k.push(("sort", next));
        Some(format!("/accounts?{}", qs(&k)))
    };
    let mut columns = vec![
        (l.t("field.name"), sort_link("name")),
        (l.t("field.industry"), None),
        (l.t("field.level"), None),
        (l.t("field.region"), None),
        (l.t("field.owner"), None),
        (l.t("field.status"), None),
        (l.t("field.rad_class"), None),
        (l.t("field.buying_power"), sort_link("buying_power")),
    ];
    if l.sees_credit {
        columns.push((l.t("field.credit_grade"), None));
    }
    let next_href = page.next_cursor.as_ref().map(|c| {
        let mut k = kept.clone();
        k.push(("cursor", c.clone()));
        format!("/accounts?{}", qs(&k))
    });
    let page_t = ListPage {
        count_text: l.t("accounts.count").replace("{n}", &n.to_string()),
        f_q: val("q"),
        selects,
        rows: page.items,
        columns,
        filter_qs,
        has_cursor: q(&p, "cursor").is_some(),
        next_href,
        can_create: caller.role.edits_accounts(),
        l,
    };
    render(&page_t)
}

fn opts(l: &Layout, kind: &str, codes: &[&str]) -> Vec<(String, String)> {
    codes.iter().map(|c| (c.to_string(), l.e(kind, c))).collect()
}

async fn export_accounts(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery, format: &str) -> Response {
    let p = query_pairs(raw);
    let res = async {
        let f = crate::web::api::accounts_filter(&p)?;
        let rows = accounts::export(&s.app.db, &ui.ctx.caller, &f).await?;
        let t = export::accounts_table(&rows, ui.ctx.caller.sees_credit());
        crate::web::ui::export_download(&s.app.db, &ui, &t, format, "accounts").await
    }
    .await;
    res.unwrap_or_else(|e| fail_page(&ui, e))
}

/// The account form. Its pickers are part of it: one left without its options would submit an
/// empty value and clear what is stored, so a failed load fails the page.
async fn account_form(
    s: &AppState,
    l: Layout,
    caller: &Caller,
    a: Option<&AccountView>,
) -> Result<FormPage, crate::domain::DomainError> {
    let db = &s.app.db;
    let units = org::list(db).await.page_data("account form", "org units")?;
    let g = |f: fn(&AccountView) -> Option<String>| a.and_then(f);
    let mut fields = vec![
        Field::new(&l, "name", "text", g(|a| Some(a.name.clone()))).required(),
        Field::new(&l, "short_name", "text", g(|a| a.short_name.clone())),
        Field::new(&l, "credit_code", "text", g(|a| a.credit_code.clone())).help(l.t("help.credit_code")),
        Field::new(&l, "industry", "select", g(|a| Some(a.industry.clone())))
            .choices(&l, "industry", &codes(Industry::ALL, Industry::code))
            .required(),
        Field::new(&l, "level", "select", g(|a| Some(a.level.clone())).or(Some("L3".into())))
            .choices(&l, "level", &codes(Level::ALL, Level::code))
            .required(),
        Field::new(&l, "region", "select", g(|a| a.region.clone()))
            .options(units.iter().filter(|o| o.kind == "region").map(|o| (o.code.clone(), o.name.clone())).collect()),
        // Branches under their region; choosing a region shows only its branches
        // (`static/picker.js`), and the server refuses a branch of another region.
        Field::new(&l, "branch", "select", g(|a| a.branch.clone())).grouped(
            units
                .iter()
                .filter(|o| o.kind == "region")
                .map(|r| crate::web::ui::forms::OptGroup {
                    key: r.code.clone(),
                    label: r.name.clone(),
                    options: units
                        .iter()
                        .filter(|b| b.kind == "branch" && b.parent.as_deref() == Some(r.code.as_str()))
                        .map(|b| (b.code.clone(), b.name.clone()))
                        .collect(),
                })
                .collect(),
            Some("region"),
        ),
    ];
    if caller.role.manages_accounts() {
        let us = users::list(db).await.page_data("account form", "salespeople")?;
        let mut sales: Vec<&crate::app::people::users::UserView> =
            us.iter().filter(|u| u.active && u.role.may_own_accounts()).collect();
        sales.sort_by_cached_key(|u| crate::domain::pinyin::sort_key(&u.display_name));
        let sales: Vec<(String, String)> =
            sales.into_iter().map(|u| (u.username.clone(), u.display_name.clone())).collect();
        // The people an account names, shown as the picker shows them: 林涛 (lin.tao).
        let person = |u: &Option<String>, n: &Option<String>| {
            u.as_ref().map(|u| crate::app::people::directory::label(n.as_deref().unwrap_or(u), u))
        };
        let owner = a.and_then(|a| person(&a.owner, &a.names.owner));
        let inside = a.and_then(|a| person(&a.inside_owner, &a.names.inside_owner));
        let km = a.and_then(|a| person(&a.ka_manager, &a.names.ka_manager));
        fields.push(Field::new(&l, "owner", "user", owner).user_picker("owners", sales.clone()));
        fields.push(Field::new(&l, "inside_owner", "user", inside).user_picker("owners", sales.clone()));
        fields.push(Field::new(&l, "ka_manager", "user", km).user_picker("owners", sales));
    }
    fields.extend([
        Field::new(&l, "buying_power", "text", g(|a| a.buying_power.clone())).help(l.t("help.money")),
        Field::new(&l, "sales_12m", "text", g(|a| a.sales_12m_entered.clone())).help(l.t("help.sales_12m_entered")),
        Field::new(&l, "profit_margin", "text", g(|a| a.profit_margin.clone())).help(l.t("help.percent")),
        Field::new(&l, "payment_terms_days", "number", g(|a| a.payment_terms_days.map(|d| d.to_string()))),
        Field::new(&l, "sales_expense_ratio", "text", g(|a| a.sales_expense_ratio.clone())).help(l.t("help.percent")),
        Field::new(&l, "address", "text", g(|a| a.address.clone())),
        Field::new(&l, "website", "text", g(|a| a.website.clone())),
        Field::new(&l, "business_units", "text", g(|a| a.business_units.clone())),
        Field::new(&l, "tags", "text", g(|a| a.tags.clone())),
        Field::new(&l, "current_asset_ratio", "text", g(|a| a.current_asset_ratio.clone())).help(l.t("help.percent")),
        Field::new(&l, "net_margin", "text", g(|a| a.net_margin.clone())).help(l.t("help.percent")),
        Field::new(&l, "roa", "text", g(|a| a.roa.clone())).help(l.t("help.percent")),
        Field::new(&l, "collection_days", "number", g(|a| a.collection_days.map(|d| d.to_string()))),
        Field::new(&l, "inventory_days", "number", g(|a| a.inventory_days.map(|d| d.to_string()))),
        Field::new(&l, "notes", "textarea", g(|a| a.notes.clone())),
    ]);
    let (heading, action, cancel, submit) = match a {
        Some(a) => (
            format!("{} · {}", l.t("action.edit"), a.name),
            format!("/accounts/{}/edit", a.id),
            format!("/accounts/{}", a.id),
            l.t("action.save"),
        ),
        None => (l.t("accounts.new"), "/accounts/new".into(), "/accounts".into(), l.t("action.create")),
    };
    Ok(FormPage {
        heading,
        action,
        fields,
        version: a.map(|a| a.version),
        submit,
        cancel,
        errors: vec![],
        duplicate_of: None,
        once: None,
        l,
    })
}

async fn new_form(State(s): State<AppState>, ui: UiCtx, uri: Uri) -> Response {
    if !ui.ctx.caller.role.edits_accounts() {
        return fail_page(&ui, crate::domain::DomainError::Forbidden);
    }
    let once = match once_of(&uri) {
        Ok(t) => t,
        Err(redirect) => return redirect.into_response(),
    };
    let l = Layout::new(&ui, "accounts", ui.lang.t("accounts.new"));
    match account_form(&s, l, &ui.ctx.caller, None).await {
        Ok(page) => render(&FormPage { once: Some(once), ..page }),
        Err(e) => fail_page(&ui, e),
    }
}

async fn create(State(s): State<AppState>, mut form: UiForm) -> Response {
    crate::web::ui::forms::read_amounts(&mut form.fields);
    let ui = &form.ui;
    let res = match Input::from_form(&form.fields) {
        Ok(inp) => {
            let page = |a: &AccountView| format!("/accounts/{}", a.id);
            let create = async |tx: &mut WriteTx| accounts::create_in(tx, &ui.ctx, &inp).await;
            once::create(&s.app.db, &ui.ctx, posted_once(&form.fields), page, create).await
        }
        Err(e) => Err(e),
    };
    redisplay_or_redirect(
        ui,
        res,
        |o| once_done(o, |a| format!("/accounts/{}", a.id)),
        never,
        Some(&form.fields),
        async |_| account_form(&s, Layout::new(ui, "accounts", ui.lang.t("accounts.new")), &ui.ctx.caller, None).await,
    )
    .await
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    l: Layout,
    a: AccountView,
    fields: Vec<(String, String, String)>,
    contacts: Vec<(usize, ContactView, String)>,
    history: Section<Vec<HistoryRow>>,
    can_edit: bool,
    can_delete: bool,
    team: Section<Vec<accounts::TeamMember>>,
    /// The relationship map (SVG drawn by the server), and the changes since `since`.
    relmap: Option<String>,
    since: String,
    changes: Vec<(String, String, String, String, String)>,
    /// Users a manager may add to the team (empty for others).
    candidates: Section<Vec<(String, String)>>,
    can_manage_team: bool,
    /// May merge a duplicate into this account (managers and above).
    can_merge: bool,
    can_release: bool,
    documents: Section<Vec<crate::app::customers::documents::Document>>,
    doc_types: Vec<(String, String)>,
    opportunities: Vec<crate::app::funnel::opportunities::OpportunityView>,
    /// The latest activities on the account, and its development record (大客户开发记录表).
    activities: Section<Vec<crate::app::visits::activities::ActivityView>>,
    development: Section<crate::app::visits::activities::Development>,
    /// The customer's suggestions (issue 24).
    suggestions: Section<Vec<crate::app::suggestions::suggestions::SuggestionItem>>,
    /// The key-account screenings (大客户筛选), newest first, and whether one may be submitted.
    screenings: Section<Vec<crate::web::ui::approvals::ScreeningRow>>,
    can_screen: bool,
    /// Why it was downgraded, its fulfilment (credit viewers), every change of its status.
    status_history: Section<crate::web::ui::classification::downgrade::StatusSection>,
    /// The account's orders (订货单), newest first, and whether the caller may make one.
    orders: Section<Vec<crate::app::orders::orders::OrderRow>>,
    can_order: bool,
    /// The customer's invoicing details (开票信息).
    invoicing: Section<crate::app::orders::invoicing::InvoicingView>,
    /// The credit section (`web::ui::credit`): the panel for those who see credit, at most a
    /// neutral line for others.
    credit_html: String,
    /// The service section (`web::ui::service`): the account's service team.
    service_html: String,
}

/// Contacts in org-chart order (each boss followed by their reports), with depth.
fn org_chart(l: &Layout, cs: Vec<ContactView>) -> Vec<(usize, ContactView, String)> {
    let name_of = |id: Option<i64>| {
        cs.iter().find(|c| Some(c.id) == id).map(|c| contact_name(l, c)).unwrap_or_else(|| "—".into())
    };
    let mut out = vec![];
    fn walk(cs: &[ContactView], parent: Option<i64>, depth: usize, out: &mut Vec<(usize, i64)>, seen: &mut Vec<i64>) {
        for c in cs.iter().filter(|c| c.reports_to == parent) {
            if seen.contains(&c.id) || depth > 20 {
                continue;
            }
            seen.push(c.id);
            out.push((depth, c.id));
            walk(cs, Some(c.id), depth + 1, out, seen);
        }
    }
    let mut order = vec![];
    let mut seen = vec![];
    // Roots: no boss, or a boss that is not on this account any more.
    let roots: Vec<Option<i64>> = std::iter::once(None).collect();
    for r in roots {
        walk(&cs, r, 0, &mut order, &mut seen);
    }
    for c in &cs {
        if !seen.contains(&c.id) {
            order.push((0, c.id));
        }
    }
    for (d, id) in order {
        if let Some(c) = cs.iter().find(|c| c.id == id) {
            out.push((d.min(8), c.clone(), name_of(c.reports_to)));
        }
    }
    out
}

fn pct(v: &Option<String>) -> String {
    v.as_ref().map(|s| format!("{s}%")).unwrap_or_else(|| "—".into())
}

/// The record's history, a section of its page (`page`: account or contact).
async fn load_history(
    s: &AppState,
    ui: &UiCtx,
    l: &Layout,
    page: &'static str,
    id: i64,
    seen: Option<accounts::Seen>,
) -> Section<Vec<HistoryRow>> {
    let f = AuditFilter {
        entity: Some(page.into()),
        entity_id: Some(id.to_string()),
        cursor: None,
        limit: 100,
        ..Default::default()
    };
    crate::app::records::history::list(&s.app.db, &ui.ctx, &f, seen)
        .await
        .section(page, "history")
        .map(|p| history_rows(l, p.items))
}

async fn show(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Response {
    let caller = &ui.ctx.caller;
    let p = query_pairs(raw);
    let since = q(&p, "since").map(str::to_string);
    let merged = q(&p, "merged").and_then(|m| m.parse::<i64>().ok());
    let res = async {
        let id = id_of(&id)?;
        let a = accounts::get(&s.app.db, caller, id).await?;
        // Read in the caller's scope: the loaders below need not check it again.
        let seen = a.seen();
        let cs = contacts::of_account(&s.app.db, caller, seen).await.page_data("account", "contacts")?;
        let ops = crate::app::funnel::opportunities::of_account(&s.app.db, caller, seen)
            .await
            .page_data("account", "opportunities")?;
        Ok::<_, crate::domain::DomainError>((a, cs, ops))
    }
    .await;
    let (a, cs, opportunities) = match res {
        Ok(x) => x,
        Err(crate::domain::DomainError::NotFound) => {
            // An old link to a merged account leads to the account it was merged into.
            let to = match id_of(&id) {
                Ok(id) => crate::app::customers::merge::survivor_of(&s.app.db, caller, id)
                    .await
                    .map(|to| to.map(|to| (id, to))),
                Err(e) => Err(e),
            };
            return match to {
                Ok(Some((id, to))) => Redirect::to(&format!("/accounts/{to}?merged={id}")).into_response(),
                Ok(None) => fail_page(&ui, crate::domain::DomainError::NotFound),
                Err(e) => fail_page(&ui, e),
            };
        }
        Err(e) => return fail_page(&ui, e),
    };
    let mut l = Layout::new(&ui, "accounts", a.name.clone());
    if let Some(m) = merged {
        l.flash.push(l.t("merge.done").replace("{id}", &m.to_string()));
    }
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    let fields = vec![
        (l.t("field.short_name"), dash(&a.short_name), "short_name".into()),
        (l.t("field.credit_code"), dash(&a.credit_code), "credit_code".into()),
        (l.t("field.industry"), l.e("industry", &a.industry), "industry".into()),
        (l.t("field.level"), a.level.clone(), "level".into()),
        (l.t("field.status"), l.e("status", a.status), "status".into()),
        (l.t("field.tier"), a.tier.as_deref().map(|t| l.e("tier", t)).unwrap_or_else(|| "—".into()), "tier".into()),
        (l.t("field.region"), dash(&a.names.region), "region".into()),
        (l.t("field.branch"), dash(&a.names.branch), "branch".into()),
        (l.t("field.owner"), dash(&a.names.owner), "owner".into()),
        (l.t("field.inside_owner"), dash(&a.names.inside_owner), "inside_owner".into()),
        (l.t("field.ka_manager"), dash(&a.names.ka_manager), "ka_manager".into()),
        (l.t("field.buying_power"), l.money(a.buying_power.as_ref()), "buying_power".into()),
        (
            l.t("field.sales_12m"),
            match a.sales_12m_source {
                Some(src) => format!("{} ({})", l.money(a.sales_12m.as_ref()), l.t(&format!("cls.source_{src}"))),
                None => l.money(a.sales_12m.as_ref()),
            },
            "sales_12m".into(),
        ),
        (l.t("field.tier_score"), dash(&a.tier_score), "tier_score".into()),
        (l.t("field.sow"), l.pct(a.sow.as_ref()), "sow".into()),
        (l.t("field.rad_class"), dash(&a.rad_class), "rad_class".into()),
        (l.t("field.address"), dash(&a.address), "address".into()),
        (l.t("field.website"), dash(&a.website), "website".into()),
        (l.t("field.business_units"), dash(&a.business_units), "business_units".into()),
        (l.t("field.tags"), dash(&a.tags), "tags".into()),
        (l.t("field.current_asset_ratio"), pct(&a.current_asset_ratio), "current_asset_ratio".into()),
        (l.t("field.net_margin"), pct(&a.net_margin), "net_margin".into()),
        (l.t("field.roa"), pct(&a.roa), "roa".into()),
        (
            l.t("field.collection_days"),
            a.collection_days.map(|d| d.to_string()).unwrap_or_else(|| "—".into()),
            "collection_days".into(),
        ),
        (
            l.t("field.inventory_days"),
            a.inventory_days.map(|d| d.to_string()).unwrap_or_else(|| "—".into()),
            "inventory_days".into(),
        ),
        (l.t("field.notes"), dash(&a.notes), "notes".into()),
    ];
    let history = load_history(&s, &ui, &l, "account", a.id, Some(a.seen())).await;
    let team = accounts::team(&s.app.db, caller, a.seen()).await.section("account", "team");
    let candidates = match &team {
        Section::Loaded(team) if caller.role.manages_accounts() => {
            users::list(&s.app.db).await.section("account", "team candidates").map(|us| {
                let mut us: Vec<_> = us
                    .into_iter()
                    .filter(|u| u.active && u.role.works_accounts())
                    .filter(|u| !team.iter().any(|m| m.username == u.username))
                    .collect();
                us.sort_by_cached_key(|u| crate::domain::pinyin::sort_key(&u.display_name));
                us.into_iter()
                    .map(|u| (u.username.clone(), crate::app::people::directory::label(&u.display_name, &u.username)))
                    .collect()
            })
        }
        // Nobody to offer: not a manager, or the team itself is not known.
        _ => Section::Loaded(vec![]),
    };
    let changes = match &since {
        Some(d) => match contacts::relationship_changes(&s.app.db, caller, a.id, d).await {
            Ok(c) => c,
            Err(e) => return fail_page(&ui, e),
        },
        None => vec![],
    };
    let relmap = crate::web::ui::customers::relmap::draw(&l, &cs, &changes);
    let label = |field: &str, v: &Option<String>| match (field, v) {
        (_, None) => "—".to_string(),
        ("attitude", Some(v)) => l.e("attitude", v),
        (_, Some(v)) => format!("{v}/5"),
    };
    let changes = changes
        .iter()
        .map(|ch| {
            let who = cs.iter().find(|c| c.id == ch.contact_id).map(|c| c.name.clone()).unwrap_or_default();
            (
                ch.at.get(..10).unwrap_or(&ch.at).to_string(),
                who,
                l.e("field", &ch.field),
                label(&ch.field, &ch.before),
                label(&ch.field, &ch.after),
            )
        })
        .collect();
    let documents =
        crate::app::customers::documents::list(&s.app.db, caller, a.seen()).await.section("account", "documents");
    let doc_types = crate::app::customers::documents::DocType::ALL
        .iter()
        .map(|d| (d.code().to_string(), l.e("doc_type", d.code())))
        .collect();
    let recent =
        crate::app::visits::activities::Filter { account_id: Some(a.id), limit: Some(20), ..Default::default() };
    let activities = crate::app::visits::activities::list(&s.app.db, caller, &recent)
        .await
        .section("account", "recent activities")
        .map(|p| p.items);
    let development = crate::app::visits::activities::development(&s.app.db, caller, a.seen())
        .await
        .section("account", "development record");
    let suggestions = crate::app::suggestions::suggestions::list(
        &s.app.db,
        caller,
        &crate::app::suggestions::suggestions::Filter { account_id: Some(a.id), ..Default::default() },
    )
    .await
    .section("account", "suggestions");
    let screenings =
        crate::web::ui::approvals::screening_rows(&s, caller, &l, a.seen()).await.section("account", "screenings");
    let status_history =
        crate::web::ui::classification::downgrade::account_section(&s, caller, &l, a.seen(), a.status).await;
    let orders = crate::app::orders::orders::of_account(&s.app.db, a.seen()).await.section("account", "orders");
    let invoicing =
        crate::app::orders::invoicing::of_seen(&s.app.db, a.seen()).await.section("account", "invoicing details");
    let credit_section = crate::web::ui::credit::account_section(&s, &ui, a.seen()).await;
    let credit_html = crate::web::ui::credit::SectionView { l: &l, account_id: a.id, section: &credit_section }.html();
    let service_html = crate::web::ui::service::account_section(&s, &ui, &l, a.seen()).await;
    let page = AccountPage {
        service_html,
        credit_html,
        orders,
        can_order: caller.role.edits_accounts(),
        invoicing,
        screenings,
        can_screen: caller.role.edits_accounts() && a.status != Status::KeyAccount,
        status_history,
        activities,
        development,
        suggestions,
        documents,
        doc_types,
        opportunities,
        can_release: crate::app::customers::pool::may_release(caller, &a),
        relmap,
        since: since.unwrap_or_default(),
        changes,
        can_manage_team: caller.role.manages_accounts(),
        can_merge: caller.role.manages_accounts(),
        team,
        candidates,
        can_edit: decide(caller.role, true, Op::Update) == Decision::Allow,
        can_delete: decide(caller.role, true, Op::Delete) == Decision::Allow,
        contacts: org_chart(&l, cs),
        fields,
        history,
        a,
        l,
    };
    render(&page)
}

async fn edit_form(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    let a = match async { accounts::get(&s.app.db, &ui.ctx.caller, id_of(&id)?).await }.await {
        Ok(a) => a,
        Err(e) => return fail_page(&ui, e),
    };
    if decide(ui.ctx.caller.role, true, Op::Update) != Decision::Allow {
        return fail_page(&ui, crate::domain::DomainError::Forbidden);
    }
    let l = Layout::new(&ui, "accounts", a.name.clone());
    match account_form(&s, l, &ui.ctx.caller, Some(&a)).await {
        Ok(page) => render(&page),
        Err(e) => fail_page(&ui, e),
    }
}

async fn update(State(s): State<AppState>, Path(id): Path<String>, mut form: UiForm) -> Response {
    crate::web::ui::forms::read_amounts(&mut form.fields);
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let res = match Input::from_form(&form.fields) {
        Ok(inp) => accounts::update(&s.app.db, &ui.ctx, id, &inp).await,
        Err(e) => Err(e),
    };
    // The form again with what the user typed, against the current record.
    redisplay_or_redirect(
        ui,
        res,
        |a| with_flash(&format!("/accounts/{}", a.id), "saved"),
        missing_or_forbidden,
        Some(&form.fields),
        async |e| {
            let cur = accounts::get(&s.app.db, &ui.ctx.caller, id).await.page_data("account form", "account")?;
            let l = Layout::new(ui, "accounts", ui.lang.t("action.edit"));
            let mut page = account_form(&s, l, &ui.ctx.caller, Some(&cur)).await?;
            page.keep_posted_version(e, &form.fields);
            Ok(page)
        },
    )
    .await
}

#[derive(Template)]
#[template(path = "confirm.html")]
pub struct ConfirmPage {
    pub l: Layout,
    pub heading: String,
    pub message: String,
    pub action: String,
    pub version: Option<i64>,
    pub submit: String,
    pub cancel: String,
}

async fn delete_confirm(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    let a = match async { accounts::get(&s.app.db, &ui.ctx.caller, id_of(&id)?).await }.await {
        Ok(a) => a,
        Err(e) => return fail_page(&ui, e),
    };
    let l = Layout::new(&ui, "accounts", a.name.clone());
    render(&ConfirmPage {
        heading: format!("{} · {}", l.t("action.delete"), a.name),
        message: l.t("accounts.delete_confirm"),
        action: format!("/accounts/{}/delete", a.id),
        version: Some(a.version),
        submit: l.t("action.delete"),
        cancel: format!("/accounts/{}", a.id),
        l,
    })
}

async fn delete(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let version = form.get("version").and_then(|v| v.parse().ok());
    match async { accounts::delete(&s.app.db, &ui.ctx, id_of(&id)?, version).await }.await {
        Ok(()) => Redirect::to(&with_flash("/accounts", "deleted")).into_response(),
        Err(e) => fail_page(ui, e),
    }
}

// ---- contacts ----

fn contact_form(l: Layout, account_id: i64, c: Option<&ContactView>, siblings: &[ContactView]) -> FormPage {
    let g = |f: fn(&ContactView) -> Option<String>| c.and_then(f);
    let bosses: Vec<(String, String)> = siblings
        .iter()
        .filter(|s| Some(s.id) != c.map(|c| c.id))
        .map(|s| (s.id.to_string(), format!("{} · {}", s.name, s.title.clone().unwrap_or_default())))
        .collect();
    let fields = vec![
        Field::new(&l, "name", "text", g(|c| Some(c.name.clone()))).required(),
        Field::new(&l, "title", "text", g(|c| c.title.clone())),
        Field::new(&l, "department", "text", g(|c| c.department.clone())),
        Field::new(&l, "reports_to", "select", g(|c| c.reports_to.map(|r| r.to_string()))).options(bosses),
        Field::new(&l, "decision_role", "select", g(|c| c.decision_role.clone())).choices(
            &l,
            "decision_role",
            &codes(DecisionRole::ALL, DecisionRole::code),
        ),
        Field::new(&l, "attitude", "select", g(|c| c.attitude.clone())).choices(
            &l,
            "attitude",
            &codes(Attitude::ALL, Attitude::code),
        ),
        Field::new(&l, "relationship", "select", g(|c| c.relationship.map(|r| r.to_string())))
            .options((1..=5).map(|i| (i.to_string(), format!("{i}/5"))).collect()),
        Field::new(&l, "gender", "select", g(|c| c.gender.clone())).choices(
            &l,
            "gender",
            &codes(Gender::ALL, Gender::code),
        ),
        Field::new(&l, "birthday", "date", g(|c| c.birthday.clone())),
        Field::new(&l, "phone", "text", g(|c| c.phone.clone())),
        Field::new(&l, "email", "email", g(|c| c.email.clone())),
        Field::new(&l, "last_contact_on", "date", g(|c| c.last_contact_on.clone())),
        Field::new(&l, "interests", "textarea", g(|c| c.interests.clone())),
    ];
    let (heading, action, cancel, submit) = match c {
        Some(c) => (
            format!("{} · {}", l.t("action.edit"), c.name),
            format!("/contacts/{}/edit", c.id),
            format!("/contacts/{}", c.id),
            l.t("action.save"),
        ),
        None => (
            l.t("contacts.new"),
            format!("/accounts/{account_id}/contacts/new"),
            format!("/accounts/{account_id}#contacts"),
            l.t("action.create"),
        ),
    };
    FormPage {
        heading,
        action,
        fields,
        version: c.map(|c| c.version),
        submit,
        cancel,
        errors: vec![],
        duplicate_of: None,
        once: None,
        l,
    }
}

async fn new_contact_form(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>, uri: Uri) -> Response {
    let once = match once_of(&uri) {
        Ok(t) => t,
        Err(redirect) => return redirect.into_response(),
    };
    let res = async {
        let id = id_of(&id)?;
        Ok::<_, crate::domain::DomainError>((id, contacts::of_account(&s.app.db, &ui.ctx.caller, id).await?))
    }
    .await;
    match res {
        Ok((id, sib)) => {
            let page = contact_form(Layout::new(&ui, "accounts", ui.lang.t("contacts.new")), id, None, &sib);
            render(&FormPage { once: Some(once), ..page })
        }
        Err(e) => fail_page(&ui, e),
    }
}

async fn create_contact(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let res = match Input::from_form(&form.fields) {
        Ok(inp) => {
            // Posted again, the form goes to the contact it created.
            let page = |c: &i64| format!("/contacts/{c}");
            let create = async |tx: &mut WriteTx| {
                accounts::ensure_visible_in(tx.conn(), &ui.ctx.caller, id).await?;
                contacts::create_in(tx, &ui.ctx, id, &inp).await
            };
            once::create(&s.app.db, &ui.ctx, posted_once(&form.fields), page, create).await
        }
        Err(e) => Err(e),
    };
    redisplay_or_redirect(
        ui,
        res,
        |o| once_done(o, |_| format!("/accounts/{id}#contacts")),
        missing_or_forbidden,
        Some(&form.fields),
        async |_| {
            // The "reports to" picker: without it the form would lose the choice.
            let sib =
                contacts::of_account(&s.app.db, &ui.ctx.caller, id).await.page_data("contact form", "colleagues")?;
            Ok(contact_form(Layout::new(ui, "accounts", ui.lang.t("contacts.new")), id, None, &sib))
        },
    )
    .await
}

#[derive(Template)]
#[template(path = "contacts.html")]
struct ContactList {
    l: Layout,
    q: String,
    q_enc: String,
    rows: Vec<ContactView>,
    count_text: String,
    next_href: Option<String>,
    can_import: bool,
}

async fn contact_list(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let f = contacts::Filter {
        q: q(&p, "q").map(str::to_string),
        cursor: q(&p, "cursor").map(str::to_string),
        ..Default::default()
    };
    let db = &s.app.db;
    let (page, n) =
        match tokio::try_join!(contacts::list(db, &ui.ctx.caller, &f), contacts::count(db, &ui.ctx.caller, &f)) {
            Ok(x) => x,
            Err(e) => return fail_page(&ui, e),
        };
    let l = Layout::new(&ui, "contacts", ui.lang.t("contacts.title"));
    let qv = q(&p, "q").unwrap_or("").to_string();
    let q_enc = serde_urlencoded::to_string([("q", &qv)]).unwrap_or_default().trim_start_matches("q=").to_string();
    let next_href = page.next_cursor.map(|c| format!("/contacts?q={q_enc}&cursor={c}"));
    render(&ContactList {
        can_import: crate::app::spreadsheets::import::may_import(&ui.ctx.caller),
        count_text: l.t("contacts.count").replace("{n}", &n.to_string()),
        q: qv,
        q_enc,
        rows: page.items,
        next_href,
        l,
    })
}

async fn export_contacts(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery, format: &str) -> Response {
    let p = query_pairs(raw);
    let f = contacts::Filter { q: q(&p, "q").map(str::to_string), ..Default::default() };
    let res = async {
        let rows = contacts::export(&s.app.db, &ui.ctx.caller, &f).await?;
        crate::web::ui::export_download(&s.app.db, &ui, &export::contacts_table(&rows), format, "contacts").await
    }
    .await;
    res.unwrap_or_else(|e| fail_page(&ui, e))
}

#[derive(Template)]
#[template(path = "contact.html")]
struct ContactPage {
    l: Layout,
    c: ContactView,
    fields: Vec<(String, String)>,
    history: Section<Vec<HistoryRow>>,
    can_edit: bool,
    can_delete: bool,
    can_erase: bool,
}

/// A contact's name as the pages show it: "erased contact" in the reader's language once the
/// person's data was erased.
pub fn contact_name(l: &Layout, c: &ContactView) -> String {
    if c.erased_at.is_some() {
        l.t("privacy.erased_contact")
    } else {
        c.name.clone()
    }
}

async fn contact_show(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    let c = match async { contacts::get(&s.app.db, &ui.ctx.caller, id_of(&id)?).await }.await {
        Ok(c) => c,
        Err(e) => return fail_page(&ui, e),
    };
    let mut l = Layout::new(&ui, "contacts", ui.lang.t("contacts.title"));
    l.title = contact_name(&l, &c);
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    let boss = match c.reports_to {
        Some(b) => match contacts::get(&s.app.db, &ui.ctx.caller, b).await {
            Ok(b) => Ok(contact_name(&l, &b)),
            // Gone, or out of the caller's sight: no name to show.
            Err(crate::domain::DomainError::NotFound | crate::domain::DomainError::Forbidden) => Ok("—".into()),
            Err(e) => Err(e),
        },
        None => Ok("—".into()),
    };
    let boss = match boss.page_data("contact", "reports to") {
        Ok(b) => b,
        Err(e) => return fail_page(&ui, e),
    };
    let fields = vec![
        (l.t("field.title"), dash(&c.title)),
        (l.t("field.department"), dash(&c.department)),
        (l.t("field.reports_to"), boss),
        (
            l.t("field.decision_role"),
            c.decision_role.as_deref().map(|v| l.e("decision_role", v)).unwrap_or_else(|| "—".into()),
        ),
        (l.t("field.attitude"), c.attitude.as_deref().map(|v| l.e("attitude", v)).unwrap_or_else(|| "—".into())),
        (l.t("field.relationship"), c.relationship.map(|r| format!("{r}/5")).unwrap_or_else(|| "—".into())),
        (l.t("field.gender"), c.gender.as_deref().map(|v| l.e("gender", v)).unwrap_or_else(|| "—".into())),
        (l.t("field.birthday"), dash(&c.birthday)),
        (l.t("field.phone"), dash(&c.phone)),
        (l.t("field.email"), dash(&c.email)),
        (l.t("field.last_contact_on"), dash(&c.last_contact_on)),
        (l.t("field.interests"), dash(&c.interests)),
    ];
    let history = load_history(&s, &ui, &l, "contact", c.id, None).await;
    let role = ui.ctx.caller.role;
    render(&ContactPage {
        can_edit: decide(role, true, Op::Update) == Decision::Allow,
        can_delete: decide(role, true, Op::Delete) == Decision::Allow,
        can_erase: decide(role, true, Op::Erase) == Decision::Allow,
        c,
        fields,
        history,
        l,
    })
}

async fn contact_edit_form(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    let res = async {
        let c = contacts::get(&s.app.db, &ui.ctx.caller, id_of(&id)?).await?;
        let sib = contacts::of_account(&s.app.db, &ui.ctx.caller, c.account_id).await?;
        Ok::<_, crate::domain::DomainError>((c, sib))
    }
    .await;
    match res {
        Ok((c, sib)) => {
            if decide(ui.ctx.caller.role, true, Op::Update) != Decision::Allow {
                return fail_page(&ui, crate::domain::DomainError::Forbidden);
            }
            render(&contact_form(Layout::new(&ui, "contacts", c.name.clone()), c.account_id, Some(&c), &sib))
        }
        Err(e) => fail_page(&ui, e),
    }
}

async fn contact_update(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let res = match Input::from_form(&form.fields) {
        Ok(inp) => contacts::update(&s.app.db, &ui.ctx, id, &inp).await,
        Err(e) => Err(e),
    };
    redisplay_or_redirect(
        ui,
        res,
        |c| with_flash(&format!("/contacts/{}", c.id), "saved"),
        missing_or_forbidden,
        Some(&form.fields),
        async |e| {
            let cur = contacts::get(&s.app.db, &ui.ctx.caller, id).await?;
            let sib = contacts::of_account(&s.app.db, &ui.ctx.caller, cur.account_id)
                .await
                .page_data("contact form", "colleagues")?;
            let mut page =
                contact_form(Layout::new(ui, "contacts", cur.name.clone()), cur.account_id, Some(&cur), &sib);
            page.keep_posted_version(e, &form.fields);
            Ok(page)
        },
    )
    .await
}

async fn contact_delete_confirm(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    let c = match async { contacts::get(&s.app.db, &ui.ctx.caller, id_of(&id)?).await }.await {
        Ok(c) => c,
        Err(e) => return fail_page(&ui, e),
    };
    let l = Layout::new(&ui, "contacts", c.name.clone());
    render(&ConfirmPage {
        heading: format!("{} · {}", l.t("action.delete"), c.name),
        message: l.t("contacts.delete_confirm"),
        action: format!("/contacts/{}/delete", c.id),
        version: Some(c.version),
        submit: l.t("action.delete"),
        cancel: format!("/contacts/{}", c.id),
        l,
    })
}

async fn contact_delete(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let version = form.get("version").and_then(|v| v.parse().ok());
    let res = async {
        let id = id_of(&id)?;
        let c = contacts::get(&s.app.db, &ui.ctx.caller, id).await?;
        contacts::delete(&s.app.db, &ui.ctx, id, version).await?;
        Ok::<_, crate::domain::DomainError>(c.account_id)
    }
    .await;
    match res {
        Ok(aid) => Redirect::to(&with_flash(&format!("/accounts/{aid}#contacts"), "deleted")).into_response(),
        Err(e) => fail_page(ui, e),
    }
}

/// Everything KAM holds about the contact, as the JSON file the API gives (recorded in the
/// audit trail).
async fn contact_personal_data(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    let res = async {
        let id = id_of(&id)?;
        let data = crate::app::customers::privacy::export(&s.app.db, &ui.ctx, id).await?;
        let body = serde_json::to_vec_pretty(&data).map_err(anyhow::Error::from)?;
        Ok::<_, crate::domain::DomainError>((id, body))
    }
    .await;
    match res {
        Ok((id, body)) => (
            [
                (axum::http::header::CONTENT_TYPE, "application/json; charset=utf-8".to_string()),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"contact-{id}-personal-data.json\""),
                ),
            ],
            body,
        )
            .into_response(),
        Err(e) => fail_page(&ui, e),
    }
}

/// Erases the contact's personal data (the button asks first: `data-confirm`).
async fn contact_erase(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let res = async {
        let id = id_of(&id)?;
        let version = form.get("version").and_then(|v| v.trim().parse().ok()).unwrap_or(0);
        crate::app::customers::privacy::erase(&s.app.db, &ui.ctx, id, version).await
    }
    .await;
    match res {
        Ok(c) => Redirect::to(&with_flash(&format!("/contacts/{}", c.id), "saved")).into_response(),
        Err(e) => fail_page(ui, e),
    }
}

async fn team_add(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let res = async {
        accounts::set_team_member(&s.app.db, &ui.ctx, id_of(&id)?, form.get("username").unwrap_or(""), true).await
    }
    .await;
    match res {
        Ok(_) => Redirect::to(&format!("/accounts/{id}#team")).into_response(),
        Err(e) => fail_page(ui, e),
    }
}

async fn team_remove(
    State(s): State<AppState>,
    Path((id, username)): Path<(String, String)>,
    form: UiForm,
) -> Response {
    let ui = &form.ui;
    match async { accounts::set_team_member(&s.app.db, &ui.ctx, id_of(&id)?, &username, false).await }.await {
        Ok(_) => Redirect::to(&format!("/accounts/{id}#team")).into_response(),
        Err(e) => fail_page(ui, e),
    }
}

#[derive(Template)]
#[template(path = "pool.html")]
struct PoolPage {
    l: Layout,
    q: String,
    rows: Vec<AccountView>,
    next_href: Option<String>,
}

async fn pool_page(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    match crate::app::customers::pool::list(&s.app.db, &ui.ctx.caller, q(&p, "q"), q(&p, "cursor"), None).await {
        Ok(page) => {
            let qv = q(&p, "q").unwrap_or("").to_string();
            let next_href = page.next_cursor.map(|c| {
                format!(
                    "/pool?{}",
                    serde_urlencoded::to_string([("q", qv.as_str()), ("cursor", c.as_str())]).unwrap_or_default()
                )
            });
            render(&PoolPage {
                l: Layout::new(&ui, "pool", ui.lang.t("pool.title")),
                q: qv,
                rows: page.items,
                next_href,
            })
        }
        Err(e) => fail_page(&ui, e),
    }
}

async fn claim(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    match async {
        crate::app::customers::pool::claim(&s.app.db, &ui.ctx, id_of(&id)?, s.app.settings.pool_claim_limit).await
    }
    .await
    {
        Ok(a) => Redirect::to(&format!("/accounts/{}", a.id)).into_response(),
        Err(e) => fail_page(ui, e),
    }
}

async fn release(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    match async { crate::app::customers::pool::release(&s.app.db, &ui.ctx, id_of(&id)?).await }.await {
        Ok(()) => Redirect::to("/pool").into_response(),
        Err(e) => fail_page(ui, e),
    }
}

async fn upload_document(
    State(s): State<AppState>,
    ui: UiCtx,
    Path(id): Path<String>,
    m: axum::extract::Multipart,
) -> Response {
    let res = async {
        let id = id_of(&id)?;
        let parts = crate::web::api::customers::documents::read_multipart(m).await?;
        // A multipart form carries its CSRF token like any other form.
        if !crate::web::auth::same_secret(parts.get("_csrf").unwrap_or(""), &ui.csrf) {
            return Err(crate::domain::DomainError::Csrf);
        }
        crate::app::customers::documents::upload(&s.app.db, &ui.ctx, &s.app.settings.files(), id, &parts.upload())
            .await?;
        Ok(id)
    }
    .await;
    match res {
        Ok(id) => Redirect::to(&format!("/accounts/{id}#documents")).into_response(),
        Err(e) => fail_page(&ui, e),
    }
}

async fn download_document(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    match async {
        crate::app::customers::documents::download(&s.app.db, &ui.ctx.caller, &s.app.settings.files(), id_of(&id)?)
            .await
    }
    .await
    {
        Ok((d, bytes)) => crate::web::api::customers::documents::attachment(&d, bytes),
        Err(e) => fail_page(&ui, e),
    }
}
