//! The RAD grid, service standards, coverage, one account's classification, and the
//! classification settings (`app::classify`).
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::app::classification::classify::{self as cls, RadSettings, ServiceSettings, SettingsView, TierSettings};
use crate::app::classification::classify_views as clv;
use crate::app::classification::classify_views::{AccountClasses, Coverage, RadReport, Scope, ServiceReport};
use crate::domain::account::Tier;
use crate::web::api::contract::Id;
use crate::web::api::contract::{report, report_example, ReportFormatQuery};
use crate::web::api::{Api, ApiResult, Op, Params, Query};
use crate::web::auth::{ApiCtx, JsonBody};
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        report_example(
            Op::get(
                "/api/v1/reports/rad",
                "The RAD grid (3 × 3: accounts, buying power, sales, open pipeline per class; the unclassified apart) and each outside salesperson's portfolio against the 10–15 R / 10–15 D focus",
                "reports",
            )
            .query::<ScopeQuery>()
            .query::<ReportFormatQuery>()
            .report::<RadReport>(),
            rad_example(),
        ),
        rad,
    )
    .add(
        Op::get(
            "/api/v1/reports/coverage",
            "Coverage (客户覆盖率统计表): SOA, aggregated SOW and activations per person, team and region for a period (?period=YYYY-MM|YYYY-Qn|YYYY, default this month); unowned, untouched and activated accounts",
            "reports",
        )
        .query::<ScopeQuery>()
        .query::<PeriodQuery>()
        .query::<ReportFormatQuery>()
        .report::<Coverage>(),
        coverage,
    )
    .add(
        Op::get(
            "/api/v1/reports/service-standards",
            "Key accounts overdue on their tier's service standards (executive visit, working contact, technical exchange), by owner",
            "reports",
        )
        .query::<ScopeQuery>()
        .query::<ServiceQuery>()
        .query::<ReportFormatQuery>()
        .report::<ServiceReport>(),
        service,
    )
    .add(
        Op::get(
            "/api/v1/accounts/{id}/classification",
            "An account's buying power, trailing sales and their source, SOW, RAD class, tier with its score breakdown, service standards and the history of these",
            "accounts",
        )
        .ok::<AccountClasses>(200),
        of_account,
    )
    .add(
        Op::get(
            "/api/v1/settings/classification",
            "RAD thresholds, tier bands, weights and thresholds, and service standards per tier, each with its version",
            "settings",
        )
        .ok::<SettingsView>(200),
        get_settings,
    )
    .add(
        Op::put(
            "/api/v1/settings/classification/{part}",
            "Replace one part (rad, tiers, service_standards) with its version; every account is reclassified in the same transaction",
            "settings",
        )
        .describe(
            "The body is the part as GET /api/v1/settings/classification shows it (`rad`: RadSettings, `tiers`: \
             TierSettings, `service_standards`: ServiceSettings), with the `version` read. An unknown part is 404; \
             a version already replaced is 409.",
        )
        .body_example::<SettingsPart>(json!({
            "sow_r_above": "40.00", "sow_d_from": "10.00", "bp_1_above": "1000000.00", "bp_2_from": "500000.00",
            "version": 0
        }))
        .ok::<SettingsSaved>(200)
        .errors(&[409]),
        put_settings,
    )
}

/// What a report covers within the caller's scope.
#[derive(Deserialize, IntoParams)]
pub struct ScopeQuery {
    /// An org unit's code (a region or branch): its accounts only. Unknown: 422.
    #[param(max_length = 100)]
    org: Option<String>,
    /// A username: the accounts that person owns (outside or inside). Unknown: 422.
    #[param(max_length = 100)]
    owner: Option<String>,
}

/// `?period=`: the coverage period.
#[derive(Deserialize, IntoParams)]
pub struct PeriodQuery {
    /// `YYYY-MM`, `YYYY-Qn` or `YYYY`; this month when absent.
    #[param(pattern = r"^[0-9]{4}(-[0-9]{2}|-Q[1-4])?$", example = "2026-Q4")]
    period: Option<String>,
}

/// Which tier and standard.
#[derive(Deserialize, IntoParams)]
pub struct ServiceQuery {
    #[param(inline)]
    tier: Option<Tier>,
    /// `executive_visit`, `working_contact` or `technical_exchange`.
    #[param(pattern = "^(executive_visit|working_contact|technical_exchange)$")]
    standard: Option<String>,
}

/// One part of the classification settings with the version read (which part: the path's
/// `{part}`).
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum SettingsPart {
    Rad(RadSettings),
    Tiers(TierSettings),
    ServiceStandards(ServiceSettings),
}

/// The settings after the change, and how many accounts changed class.
#[derive(Serialize, ToSchema)]
pub struct SettingsSaved {
    settings: SettingsView,
    accounts_reclassified: usize,
}

fn scope(q: ScopeQuery) -> Scope {
    Scope { org: q.org, owner: q.owner }
}

fn rad_example() -> serde_json::Value {
    let cell = |c: &str, n: i64, bp: &str, s: &str, p: &str| json!({"rad_class": c, "accounts": n, "buying_power": bp, "sales_12m": s, "pipeline": p});
    json!({
        "cells": [
            cell("R1", 3, "8600000.00", "5100000.00", "1200000.00"),
            cell("R2", 5, "3900000.00", "2300000.00", "650000.00"),
            cell("R3", 2, "420000.00", "260000.00", "0.00"),
            cell("D1", 4, "9800000.00", "1950000.00", "2400000.00"),
            cell("D2", 6, "4100000.00", "820000.00", "900000.00"),
            cell("D3", 3, "510000.00", "110000.00", "80000.00"),
            cell("A1", 2, "6200000.00", "150000.00", "1500000.00"),
            cell("A2", 7, "4300000.00", "90000.00", "300000.00"),
            cell("A3", 9, "1300000.00", "20000.00", "0.00")
        ],
        "unclassified": cell("unclassified", 11, "0.00", "350000.00", "200000.00"),
        "total": cell("total", 52, "39130000.00", "11150000.00", "7230000.00"),
        "portfolios": [
            {"owner": "zhangwei", "name": "张伟", "r": 10, "d": 13, "a": 18, "unclassified": 11,
             "r_focus": "within", "d_focus": "within"},
            {"owner": "liuyang", "name": "刘洋", "r": 0, "d": 0, "a": 0, "unclassified": 0,
             "r_focus": "below", "d_focus": "below"}
        ],
        "thresholds": {"sow_r_above": "50.00", "sow_d_from": "10.00", "bp_1_above": "1000000.00", "bp_2_from": "500000.00"}
    })
}

async fn rad(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(q): Query<ScopeQuery>,
    Query(f): Query<ReportFormatQuery>,
) -> ApiResult {
    let r = clv::rad(&s.app.db, &c.ctx.caller, &scope(q)).await?;
    report(r, f, clv::rad_table, "rad")
}

async fn coverage(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(q): Query<ScopeQuery>,
    Query(p): Query<PeriodQuery>,
    Query(f): Query<ReportFormatQuery>,
) -> ApiResult {
    let r = clv::coverage(&s.app.db, &c.ctx.caller, &scope(q), p.period.as_deref()).await?;
    report(r, f, clv::coverage_table, "coverage")
}

async fn service(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(q): Query<ScopeQuery>,
    Query(sq): Query<ServiceQuery>,
    Query(f): Query<ReportFormatQuery>,
) -> ApiResult {
    let tier = sq.tier.map(Tier::code);
    let r = clv::service(&s.app.db, &c.ctx.caller, &scope(q), tier, sq.standard.as_deref()).await?;
    report(r, f, clv::service_table, "service-standards")
}

async fn of_account(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(clv::of_account(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn get_settings(State(s): State<AppState>, _c: ApiCtx) -> ApiResult {
    Ok(Json(cls::get_settings(&s.app.db).await?).into_response())
}

/// The body is read by the use case into the part's own wire type (strictly: unknown fields
/// and wrong types are `invalid_shape`), after the caller's right and the part are checked.
async fn put_settings(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(part): Params<String>,
    JsonBody(b): JsonBody,
) -> ApiResult {
    let (settings, accounts_reclassified) = cls::save(&s.app.db, &c.ctx, &part, &b).await?;
    Ok(Json(SettingsSaved { settings, accounts_reclassified }).into_response())
}
