//! Pages for classifying and covering key accounts: the RAD grid with drill-down and the
//! outside salespeople's portfolios, service standards overdue by owner, coverage, one
//! account's classification, and the settings form. Figures and rules come from
//! `app::classify`; these handlers only present them.
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use crate::app::classification::classify::{self as cls};
use crate::app::classification::classify_views as clv;
use crate::app::classification::classify_views::{AccountClasses, Coverage, RadReport, Scope, ServiceReport};
use crate::domain::classify::{DIMENSIONS, STANDARDS, TIERS};
use crate::domain::DomainError;
use crate::web::api::{id_of, q, query_pairs};
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::{enc, fail_page, render, Layout, Load, Section};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports/rad", get(rad_page))
        .route("/reports/coverage", get(coverage_page))
        .route("/reports/service-standards", get(service_page))
        .route("/accounts/{id}/classification", get(account_page))
        .route("/settings/classification", get(settings_page))
        .route("/settings/classification/{part}", post(save_settings))
}

/// The filters a report page keeps in its links: org unit and person.
#[derive(Default)]
struct Filters {
    org: String,
    owner: String,
}

impl Filters {
    fn from(p: &[(String, String)]) -> Filters {
        Filters { org: q(p, "org").unwrap_or("").to_string(), owner: q(p, "owner").unwrap_or("").to_string() }
    }
    fn scope(&self) -> Scope {
        let s = |v: &String| (!v.is_empty()).then(|| v.clone());
        Scope { org: s(&self.org), owner: s(&self.owner) }
    }
    /// `&org=…&owner=…` for links (URL-encoded), with any further pairs.
    fn query(&self, more: &[(&str, &str)]) -> String {
        let mut pairs = vec![("org", self.org.as_str()), ("owner", self.owner.as_str())];
        pairs.extend_from_slice(more);
        amp(&pairs)
    }
    /// The accounts list's filters for a drill-down: region or branch, and owner.
    fn accounts_query(&self, kind: &str) -> String {
        amp(&[(kind, self.org.as_str()), ("owner", self.owner.as_str())])
    }
}

/// `&a=1&b=2` of the pairs with a value, to follow a link's first parameter.
fn amp(pairs: &[(&str, &str)]) -> String {
    let q = enc(pairs);
    if q.is_empty() {
        q
    } else {
        format!("&{q}")
    }
}

/// A filter picker's choices: (value, label).
type Choices = Section<Vec<(String, String)>>;

/// Org units and people for the filter pickers of `page`.
async fn pickers(s: &AppState, page: &'static str) -> (Choices, Choices) {
    let orgs = crate::app::people::org::list(&s.app.db)
        .await
        .section(page, "org unit filter")
        .map(|os| os.into_iter().map(|o| (o.code, o.name)).collect());
    let people = crate::app::people::users::list(&s.app.db).await.section(page, "owner filter").map(|us| {
        us.into_iter()
            .filter(|u| u.active && u.sales_type.is_some())
            .map(|u| (u.username.clone(), format!("{} ({})", u.display_name, u.username)))
            .collect()
    });
    (orgs, people)
}

// ---------------------------------------------------------------- RAD grid

#[derive(Template)]
#[template(path = "rad.html")]
struct RadPage {
    l: Layout,
    r: RadReport,
    f: Filters,
    /// The grid's rows: (row letter, its three cells).
    rows: Vec<(char, Vec<clv::Cell>)>,
    drill: String,
    export: String,
    orgs: Choices,
    people: Choices,
}

async fn rad_page(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let f = Filters::from(&p);
    let r = match clv::rad(&s.app.db, &ui.ctx.caller, &f.scope()).await {
        Ok(r) => r,
        Err(e) => return fail_page(&ui, e),
    };
    // A branch code filters the list by branch, any other (or none) by region.
    let kind = match crate::app::people::org::get(&s.app.db, &f.org).await {
        Ok(o) if o.kind == "branch" => Ok("branch"),
        Ok(_) | Err(DomainError::NotFound) => Ok("region"),
        Err(e) => Err(e),
    };
    let kind = match kind.page_data("rad", "drill-down org unit") {
        Ok(k) => k,
        Err(e) => return fail_page(&ui, e),
    };
    let rows = ['R', 'D', 'A'].iter().enumerate().map(|(i, c)| (*c, r.cells[i * 3..i * 3 + 3].to_vec())).collect();
    let (orgs, people) = pickers(&s, "rad").await;
    render(&RadPage {
        l: Layout::new(&ui, "rad", ui.lang.t("rad.title")),
        rows,
        drill: f.accounts_query(kind),
        export: f.query(&[]),
        r,
        f,
        orgs,
        people,
    })
}

// ---------------------------------------------------------------- service standards

#[derive(Template)]
#[template(path = "service_standards.html")]
struct ServicePage {
    l: Layout,
    r: ServiceReport,
    f: Filters,
    tier: String,
    standard: String,
    /// Overdue rows grouped by owner: (owner name, rows).
    groups: Vec<(String, Vec<clv::Overdue>)>,
    export: String,
    tiers: Vec<&'static str>,
    standards: Vec<&'static str>,
    orgs: Choices,
    people: Choices,
}

async fn service_page(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let f = Filters::from(&p);
    let (tier, standard) = (q(&p, "tier").unwrap_or("").to_string(), q(&p, "standard").unwrap_or("").to_string());
    let r = match clv::service(&s.app.db, &ui.ctx.caller, &f.scope(), Some(&tier), Some(&standard)).await {
        Ok(r) => r,
        Err(e) => return fail_page(&ui, e),
    };
    let l = Layout::new(&ui, "service", ui.lang.t("svc.title"));
    let mut groups: Vec<(String, Vec<clv::Overdue>)> = vec![];
    for o in &r.overdue {
        let name = o.owner_name.clone().unwrap_or_else(|| l.t("svc.no_owner"));
        match groups.last_mut() {
            Some((n, rows)) if *n == name => rows.push(o.clone()),
            _ => groups.push((name, vec![o.clone()])),
        }
    }
    let export = f.query(&[("tier", &tier), ("standard", &standard)]);
    let (orgs, people) = pickers(&s, "service standards").await;
    render(&ServicePage {
        l,
        groups,
        export,
        r,
        f,
        tier,
        standard,
        tiers: TIERS.to_vec(),
        standards: STANDARDS.to_vec(),
        orgs,
        people,
    })
}

// ---------------------------------------------------------------- coverage

#[derive(Template)]
#[template(path = "coverage.html")]
struct CoveragePage {
    l: Layout,
    c: Coverage,
    f: Filters,
    export: String,
    /// SOA bars per region: (name, soa text, width 0–300, y).
    bars: Vec<(String, String, i64, i64)>,
    height: i64,
    orgs: Choices,
    people: Choices,
    /// The tables (rows, caption key, id) and the lists (accounts, heading key, id, count).
    tables: Vec<(Vec<clv::CoverageRow>, &'static str, &'static str)>,
    lists: Vec<(Vec<clv::Brief>, &'static str, &'static str, i64)>,
    /// The accounts list's filters for the figures' links: `&period=…` with the org unit
    /// (`&region=…` or `&branch=…`) and the person in force; `org_kind` names the unit's kind.
    drill_period: String,
    drill_org: String,
    drill_owner: String,
    org_kind: &'static str,
}

/// The accounts list's parameter for an org unit code: `branch` for a branch, else `region`.
async fn org_kind(s: &AppState, page: &'static str, code: &str) -> Result<&'static str, DomainError> {
    if code.is_empty() {
        return Ok("region");
    }
    let kind = match crate::app::people::org::get(&s.app.db, code).await {
        Ok(o) if o.kind == "branch" => Ok("branch"),
        Ok(_) | Err(DomainError::NotFound) => Ok("region"),
        Err(e) => Err(e),
    };
    kind.page_data(page, "drill-down org unit")
}

async fn coverage_page(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    let f = Filters::from(&p);
    let c = match clv::coverage(&s.app.db, &ui.ctx.caller, &f.scope(), q(&p, "period")).await {
        Ok(c) => c,
        Err(e) => return fail_page(&ui, e),
    };
    let l = Layout::new(&ui, "coverage", ui.lang.t("cov.title"));
    let bars: Vec<(String, String, i64, i64)> = c
        .regions
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let bp = r.soa.as_deref().and_then(|v| crate::domain::money::parse_bp(v).ok()).unwrap_or(0);
            let name = if r.name.is_empty() { l.t("reports.regions.none") } else { r.name.clone() };
            (
                name,
                r.soa.clone().map(|v| format!("{v}%")).unwrap_or_else(|| "—".into()),
                bp * 300 / 10_000,
                i as i64 * 22,
            )
        })
        .collect();
    let export = f.query(&[("period", &c.period)]);
    let (orgs, people) = pickers(&s, "coverage").await;
    let tables = vec![
        (c.regions.clone(), "cov.by_region", "cov-regions"),
        (c.teams.clone(), "cov.by_team", "cov-teams"),
        (c.people.clone(), "cov.by_person", "cov-people"),
    ];
    let lists = vec![
        (c.unowned.clone(), "cov.unowned_list", "unowned", c.total.unowned),
        (c.untouched.clone(), "cov.untouched_list", "untouched", c.total.untouched),
        (c.activated.clone(), "cov.activated_list", "activated", c.total.activated),
    ];
    let org_kind = match org_kind(&s, "coverage", &f.org).await {
        Ok(k) => k,
        Err(e) => return fail_page(&ui, e),
    };
    render(&CoveragePage {
        height: bars.len() as i64 * 22 + 4,
        drill_period: amp(&[("period", &c.period)]),
        drill_org: amp(&[(org_kind, f.org.as_str())]),
        drill_owner: amp(&[("owner", f.owner.as_str())]),
        org_kind,
        bars,
        export,
        c,
        f,
        l,
        orgs,
        people,
        tables,
        lists,
    })
}

// ---------------------------------------------------------------- one account

#[derive(Template)]
#[template(path = "account_classes.html")]
struct AccountPage {
    l: Layout,
    name: String,
    c: AccountClasses,
}

async fn account_page(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(&ui, e),
    };
    let res = async {
        let a = crate::app::customers::accounts::get(&s.app.db, &ui.ctx.caller, id).await?;
        let c = clv::of_account(&s.app.db, &ui.ctx.caller, id).await?;
        Ok::<_, DomainError>((a, c))
    }
    .await;
    match res {
        Ok((a, c)) => {
            let l = Layout::new(&ui, "accounts", format!("{} · {}", a.name, ui.lang.t("cls.title")));
            render(&AccountPage { l, name: a.name, c })
        }
        Err(e) => fail_page(&ui, e),
    }
}

// ---------------------------------------------------------------- settings

#[derive(Template)]
#[template(path = "classification_settings.html")]
struct SettingsPage {
    l: Layout,
    rad: Value,
    tiers: Value,
    service: Value,
    dims: Vec<&'static str>,
    tier_names: Vec<&'static str>,
    standards: Vec<&'static str>,
    /// The messages per field of a refused save.
    errors: Vec<(String, String)>,
    may_edit: bool,
}

impl SettingsPage {
    fn s(&self, v: &Value, path: &[&str]) -> String {
        let mut cur = v;
        for p in path {
            cur = match p.parse::<usize>() {
                Ok(i) => &cur[i],
                Err(_) => &cur[*p],
            };
        }
        match cur {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        }
    }
    /// A dimension's entry in the tiers value.
    fn dim(&self, key: &str) -> Value {
        self.tiers["dimensions"]
            .as_array()
            .and_then(|a| a.iter().find(|d| d["key"] == key))
            .cloned()
            .unwrap_or(Value::Null)
    }
    fn band(&self, key: &str, i: &usize, field: &str) -> String {
        self.s(&self.dim(key), &["bands", &i.to_string(), field])
    }
    fn weight(&self, key: &str) -> String {
        self.s(&self.dim(key), &["weight"])
    }
    fn std_days(&self, tier: &str, st: &str) -> String {
        self.s(&self.service, &[tier, &format!("{st}_days")])
    }
}

async fn settings_page(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    match cls::get_settings(&s.app.db).await {
        Ok(v) => {
            let mut page = settings(&ui, v.rad, v.tiers, v.service_standards, vec![]);
            if let Some(part) = q(&p, "saved") {
                let n = q(&p, "n").unwrap_or("0");
                page.l.flash.push(
                    page.l.t("clsset.saved").replace("{part}", &page.l.t(&format!("clsset.{part}"))).replace("{n}", n),
                );
            }
            render(&page)
        }
        Err(e) => fail_page(&ui, e),
    }
}

fn settings(ui: &UiCtx, rad: Value, tiers: Value, service: Value, errors: Vec<(String, String)>) -> SettingsPage {
    let l = Layout::new(ui, "cls_settings", ui.lang.t("clsset.title"));
    SettingsPage {
        l,
        rad,
        tiers,
        service,
        dims: DIMENSIONS.iter().map(|d| d.0).collect(),
        tier_names: TIERS.to_vec(),
        standards: STANDARDS.to_vec(),
        errors,
        may_edit: cls::may_configure(&ui.ctx.caller),
    }
}

/// The form's fields as the part's wire JSON (what the API takes).
fn wire_from_form(part: &str, f: &UiForm) -> Value {
    let g = |k: &str| f.get(k).map(str::trim).unwrap_or("").to_string();
    let num = |k: &str| -> Value {
        let v = g(k);
        if v.is_empty() {
            Value::Null
        } else {
            v.parse::<i64>().map(Value::from).unwrap_or(Value::String(v))
        }
    };
    let version = num("version");
    match part {
        "rad" => json!({
            "sow_r_above": g("sow_r_above"), "sow_d_from": g("sow_d_from"),
            "bp_1_above": g("bp_1_above"), "bp_2_from": g("bp_2_from"), "version": version,
        }),
        "tiers" => {
            let dims: Vec<Value> = DIMENSIONS
                .iter()
                .map(|(k, _)| {
                    let bands: Vec<Value> = (0..5)
                        .map(|i| {
                            let mut b = json!({"score": num(&format!("{k}.{i}.score"))});
                            for side in ["from", "to"] {
                                let v = g(&format!("{k}.{i}.{side}"));
                                if !v.is_empty() {
                                    b[side] = Value::String(v);
                                }
                            }
                            b
                        })
                        .collect();
                    json!({"key": k, "weight": num(&format!("{k}.weight")), "bands": bands})
                })
                .collect();
            json!({"dimensions": dims, "strategic": g("strategic"), "A": g("A"), "B": g("B"), "version": version})
        }
        _ => {
            let mut v = json!({"version": version});
            for t in TIERS {
                let mut o = json!({});
                for st in STANDARDS {
                    o[format!("{st}_days")] = num(&format!("{t}.{st}"));
                }
                v[t] = o;
            }
            v
        }
    }
}

async fn save_settings(State(s): State<AppState>, Path(part): Path<String>, mut form: UiForm) -> Response {
    crate::web::ui::forms::read_amounts(&mut form.fields);
    let ui = &form.ui;
    let body = wire_from_form(&part, &form);
    match cls::save(&s.app.db, &ui.ctx, &part, &body).await {
        Ok((_, n)) => Redirect::to(&format!("/settings/classification?saved={part}&n={n}#{part}")).into_response(),
        Err(e @ DomainError::Forbidden) | Err(e @ DomainError::NotFound) => fail_page(ui, e),
        Err(e) => {
            let current = match cls::get_settings(&s.app.db).await {
                Ok(v) => v,
                Err(e) => return fail_page(ui, e),
            };
            let errors: Vec<(String, String)> = match &e {
                DomainError::Invalid(fs) => {
                    fs.iter().map(|f| (f.field.clone(), ui.lang.msg("invalid", f.code))).collect()
                }
                other => {
                    let (_, code) = crate::web::error::status_and_code(other);
                    vec![(String::new(), ui.lang.msg("err", code))]
                }
            };
            // What the user typed stays in the form; the version is the current one on a 409.
            let mut typed = body;
            if matches!(e, DomainError::StaleVersion { .. }) {
                let cur = match part.as_str() {
                    "rad" => &current.rad,
                    "tiers" => &current.tiers,
                    _ => &current.service_standards,
                };
                typed["version"] = cur["version"].clone();
            }
            let (rad, tiers, service) = match part.as_str() {
                "rad" => (typed, current.tiers, current.service_standards),
                "tiers" => (current.rad, typed, current.service_standards),
                _ => (current.rad, current.tiers, typed),
            };
            let mut res = render(&settings(ui, rad, tiers, service, errors));
            *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            res
        }
    }
}
