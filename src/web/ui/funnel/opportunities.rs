//! Opportunity pages: the list and the board (kanban), establishing (立项), the opportunity with
//! its checklist, stage move and history, and the funnel report. Every move goes through
//! `app::opportunities::move_stage`, from the board as from the page.
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::app::funnel::opportunities::{
    self as opps, Filter, Funnel, FunnelQuery, HistoryRow, OpportunityView, StageMove,
};
use crate::app::records::input::Input;
use crate::app::records::once;
use crate::db::WriteTx;
use crate::domain::opportunity::{Stage, OPEN};
use crate::domain::DomainError;
use crate::web::api::{id_of, q, query_pairs};
use crate::web::auth::{UiCtx, UiForm};
use crate::web::ui::forms::{
    missing_or_forbidden, once_done, once_of, posted_once, redisplay_or_redirect, with_flash, Field, FormPage,
};
use crate::web::ui::{enc, error_lines, fail_page, render, Layout};
use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/opportunities", get(list))
        .route("/accounts/{id}/opportunities/new", get(new_form).post(create))
        .route("/opportunities/{id}", get(show))
        .route("/opportunities/{id}/edit", get(edit_form).post(update))
        .route("/opportunities/{id}/stage", post(move_stage))
        .route("/opportunities/{id}/check", post(check))
        .route("/static/path.js", get(path_js))
        .route("/reports/funnel", get(funnel_page))
        .route("/reports/v-value", get(v_value_page))
        .route("/quotas", post(set_quota))
        .route("/quotas/import", post(import_quotas))
        .route("/forecast", get(forecast_page).post(forecast_submit))
        .route("/forecast/adjust", post(forecast_adjust))
        .route("/one-on-one/{username}", get(one_on_one_page))
}

/// The opportunity path's script (ticking criteria in place; the page works without it).
async fn path_js() -> Response {
    use axum::http::header;
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")],
        include_str!("../../../../static/path.js"),
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "one_on_one.html")]
struct OneOnOnePage {
    l: Layout,
    r: crate::app::funnel::reviews::OneOnOne,
    /// (heading key, changes): new, advanced, slipped, lost.
    changes: Vec<(&'static str, Vec<crate::app::funnel::reviews::Change>)>,
}

async fn one_on_one_page(State(s): State<AppState>, ui: UiCtx, Path(username): Path<String>) -> Response {
    match crate::app::funnel::reviews::one_on_one(&s.app.db, &ui.ctx.caller, &username).await {
        Ok(mut r) => {
            let changes = vec![
                ("review.new", std::mem::take(&mut r.new)),
                ("review.advanced", std::mem::take(&mut r.advanced)),
                ("review.slipped", std::mem::take(&mut r.slipped)),
                ("review.lost", std::mem::take(&mut r.lost)),
            ];
            let l = Layout::new(&ui, "vvalue", format!("1×1 · {}", r.name));
            render(&OneOnOnePage { l, r, changes })
        }
        Err(e) => fail_page(&ui, e),
    }
}

#[derive(Template)]
#[template(path = "forecast.html")]
struct ForecastPage {
    l: Layout,
    /// The caller's own forecast (salespeople), and the others they may see.
    mine: Option<crate::app::funnel::forecasts::PersonForecast>,
    /// Lines of the caller's form: (week, commit, best case), from what was typed, submitted
    /// or prefilled.
    form: Vec<(String, String, String)>,
    team: Vec<crate::app::funnel::forecasts::PersonForecast>,
    can_adjust: bool,
    errors: Vec<String>,
}

async fn forecast_view(
    s: &AppState,
    ui: &UiCtx,
    typed: Option<Vec<(String, String, String)>>,
    errors: Vec<String>,
) -> Response {
    let all = match crate::app::funnel::forecasts::report(&s.app.db, &ui.ctx.caller, None).await {
        Ok(a) => a,
        Err(e) => return fail_page(ui, e),
    };
    let (mine, team): (Vec<_>, Vec<_>) = all.into_iter().partition(|p| p.owner == ui.ctx.caller.username);
    let mine = mine.into_iter().next();
    let form = match (typed, &mine) {
        (Some(t), _) => t,
        (None, Some(m)) => match &m.submitted {
            Some(sub) => sub.lines.iter().map(|l| (l.week.clone(), l.commit.clone(), l.best_case.clone())).collect(),
            None => m.prefill.iter().map(|l| (l.week.clone(), l.commit.clone(), l.best_case.clone())).collect(),
        },
        (None, None) => vec![],
    };
    let failed = !errors.is_empty();
    let mut res = render(&ForecastPage {
        l: Layout::new(ui, "forecast", ui.lang.t("forecast.title")),
        can_adjust: ui.ctx.caller.role.manages_accounts(),
        mine,
        form,
        team,
        errors,
    });
    if failed {
        *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

async fn forecast_page(State(s): State<AppState>, ui: UiCtx) -> Response {
    forecast_view(&s, &ui, None, vec![]).await
}

async fn forecast_submit(State(s): State<AppState>, mut form: UiForm) -> Response {
    crate::web::ui::forms::read_amounts(&mut form.fields);
    let ui = &form.ui;
    let weeks: Vec<String> = form.fields.iter().filter(|(k, _)| k == "week").map(|(_, v)| v.clone()).collect();
    let lines: Vec<(String, String, String)> = weeks
        .iter()
        .map(|w| {
            let g = |k: &str| form.get(&format!("{k}_{w}")).unwrap_or("").to_string();
            (w.clone(), g("commit"), g("best_case"))
        })
        .collect();
    match crate::app::funnel::forecasts::submit(&s.app.db, &ui.ctx, &lines).await {
        Ok(_) => Redirect::to("/forecast").into_response(),
        Err(e @ DomainError::Forbidden) => fail_page(ui, e),
        Err(e) => {
            let l = Layout::new(ui, "forecast", String::new());
            let errors = match &e {
                DomainError::Invalid(fs) => fs
                    .iter()
                    .map(|f| {
                        // Fields are `commit_WEEK` and `best_case_WEEK`, WEEK a YYYY-MM-DD date.
                        let (k, w) = match f.field.len().checked_sub(11) {
                            Some(i) if f.field.is_char_boundary(i) => (&f.field[..i], &f.field[i + 1..]),
                            _ => (f.field.as_str(), ""),
                        };
                        format!("{w} {}: {}", l.e("forecast", k), l.lang.msg("invalid", f.code))
                    })
                    .collect(),
                other => error_lines(&l, other),
            };
            forecast_view(&s, ui, Some(lines), errors).await
        }
    }
}

async fn forecast_adjust(State(s): State<AppState>, mut form: UiForm) -> Response {
    crate::web::ui::forms::read_amounts(&mut form.fields);
    let ui = &form.ui;
    let g = |k: &str| form.get(k).unwrap_or("").to_string();
    let r = crate::app::funnel::forecasts::adjust(
        &s.app.db,
        &ui.ctx,
        &g("owner"),
        &g("week"),
        &g("commit"),
        &g("best_case"),
        form.get("reason"),
    )
    .await;
    match r {
        Ok(_) => Redirect::to("/forecast#team").into_response(),
        Err(e @ (DomainError::Forbidden | DomainError::NotFound)) => fail_page(ui, e),
        Err(e) => {
            let l = Layout::new(ui, "forecast", String::new());
            forecast_view(&s, ui, None, error_lines(&l, &e)).await
        }
    }
}

#[derive(Template)]
#[template(path = "v_value.html")]
struct VValuePage {
    l: Layout,
    period: String,
    /// (heading key, rows): people, teams, regions.
    sections: Vec<(&'static str, Vec<crate::app::funnel::quotas::Figures>)>,
    can_set: bool,
    errors: Vec<String>,
    /// Quota import report rows (row, column, value, reason).
    import_errors: Vec<(usize, String, String, String)>,
    flash_ok: Option<String>,
    /// Org units for the quota's org, by name (code, indented name).
    orgs: Vec<(String, String)>,
}

async fn v_value_view(
    s: &AppState,
    ui: &UiCtx,
    period: Option<&str>,
    errors: Vec<String>,
    import_errors: Vec<(usize, String, String, String)>,
    flash_ok: Option<String>,
) -> Response {
    let r = match crate::app::funnel::quotas::v_report(&s.app.db, &ui.ctx.caller, period, None).await {
        Ok(r) => r,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "vvalue", ui.lang.t("vvalue.title"));
    let failed = !errors.is_empty() || !import_errors.is_empty();
    let orgs = crate::app::people::org::list(&s.app.db).await.map(|us| crate::web::ui::pick::org_options(&us));
    let mut res = render(&VValuePage {
        orgs: orgs.unwrap_or_default(),
        period: r.period.clone(),
        can_set: ui.ctx.caller.role.manages_accounts(),
        sections: vec![("vvalue.people", r.people), ("vvalue.teams", r.teams), ("vvalue.regions", r.regions)],
        errors,
        import_errors,
        flash_ok,
        l,
    });
    if failed {
        *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

async fn v_value_page(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = query_pairs(raw);
    v_value_view(&s, &ui, q(&p, "period"), vec![], vec![], None).await
}

async fn set_quota(State(s): State<AppState>, mut form: UiForm) -> Response {
    crate::web::ui::forms::read_amounts(&mut form.fields);
    let ui = &form.ui;
    let res = match Input::from_form(&form.fields) {
        Ok(inp) => {
            let pairs: Vec<(&str, Option<&str>)> =
                ["month", "owner", "org", "amount"].iter().filter_map(|k| inp.get(k).map(|v| (*k, v))).collect();
            crate::app::funnel::quotas::set(&s.app.db, &ui.ctx, &Input::from_pairs(&pairs)).await
        }
        Err(e) => Err(e),
    };
    let month = form.get("month").unwrap_or("").to_string();
    match res {
        Ok(v) => Redirect::to(&format!("/reports/v-value?period={}", v.month)).into_response(),
        Err(e @ DomainError::Forbidden) => fail_page(ui, e),
        Err(e) => {
            let l = Layout::new(ui, "vvalue", String::new());
            v_value_view(&s, ui, Some(month.as_str()).filter(|m| m.len() == 7), error_lines(&l, &e), vec![], None).await
        }
    }
}

async fn import_quotas(State(s): State<AppState>, ui: UiCtx, m: axum::extract::Multipart) -> Response {
    let res = async {
        let parts = crate::web::api::customers::documents::read_multipart(m).await?;
        if !crate::web::auth::same_secret(parts.get("_csrf").unwrap_or(""), &ui.csrf) {
            return Err(DomainError::Csrf);
        }
        crate::app::funnel::quotas::import(
            &s.app.db,
            &ui.ctx,
            crate::app::spreadsheets::import::Source::bytes(parts.bytes),
            s.app.settings.import_max_errors,
        )
        .await
    }
    .await;
    match res {
        Ok(r) if !r.refused() => {
            let msg = ui.lang.t("vvalue.imported").replace("{n}", &r.created.to_string());
            v_value_view(&s, &ui, None, vec![], vec![], Some(msg)).await
        }
        Ok(r) => {
            let listed = r.errors.iter().map(|e| e.row).collect::<std::collections::BTreeSet<_>>().len();
            // The import stopped at its limit of refused rows: say that more were not shown.
            let more =
                if r.errors_truncated { vec![crate::web::ui::more_errors_text(ui.lang, listed)] } else { vec![] };
            let rows = r
                .errors
                .into_iter()
                .map(|e| {
                    let reason = ui.lang.msg("invalid", &e.code);
                    (e.row, ui.lang.t(&format!("field.{}", e.column)), e.value, reason)
                })
                .collect();
            v_value_view(&s, &ui, None, more, rows, None).await
        }
        Err(e @ DomainError::Invalid(_)) => {
            let l = Layout::new(&ui, "vvalue", String::new());
            v_value_view(&s, &ui, None, error_lines(&l, &e), vec![], None).await
        }
        Err(e) => fail_page(&ui, e),
    }
}

fn stage_codes() -> Vec<&'static str> {
    Stage::ALL.iter().map(|s| s.code()).collect()
}

/// A column of the board: its first cards, and how many there are in all and their amount.
struct Column {
    stage: &'static str,
    cards: Vec<OpportunityView>,
    count: i64,
    total: String,
}

#[derive(Template)]
#[template(path = "opportunities.html")]
struct ListPage {
    l: Layout,
    board: bool,
    q: String,
    stage: String,
    owner: String,
    open: bool,
    sort: String,
    stages: Vec<&'static str>,
    rows: Vec<OpportunityView>,
    columns: Vec<Column>,
    count_text: String,
    next_href: Option<String>,
    this_href: String,
    /// `org`, `reached`, `stage_days_over` as a query string (`a=1&b=2`), for the tabs.
    extra: String,
    /// The chart filters in force: (parameter, label, value).
    chips: Vec<(&'static str, String, String)>,
    /// A move refused on the board: what it needs, to tick and retry in place.
    refusal: Option<Refusal>,
}

/// A move from the board refused for unmet exit criteria (or another reason): the card, the
/// target stage, the criteria to tick and any other message.
pub(crate) struct Refusal {
    o: OpportunityView,
    stage: String,
    missing: Vec<&'static str>,
    messages: Vec<String>,
    /// What the target asks besides the criteria: (field, what was typed).
    fields: Vec<(&'static str, String)>,
    /// The board's address, to come back to.
    back: String,
}

async fn list(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = crate::web::ui::pick::people_in(&s.app.db, query_pairs(raw), &["owner"]).await;
    list_view(&s, &ui, p, None).await
}

async fn list_view(s: &AppState, ui: &UiCtx, p: Vec<(String, String)>, refusal: Option<Refusal>) -> Response {
    let board = q(&p, "view") == Some("board");
    let get = |k: &str| q(&p, k).unwrap_or("").to_string();
    let (qv, stage, owner, sort) = (get("q"), get("stage"), get("owner"), get("sort"));
    let (org, reached, days_over) = (get("org"), get("reached"), get("stage_days_over"));
    let open = matches!(q(&p, "open"), Some("1" | "true"));
    let stage_days_over = match days_over.trim() {
        "" => None,
        v => match v.parse::<i64>() {
            Ok(d) => Some(d),
            Err(_) => return fail_page(ui, DomainError::invalid("stage_days_over", "invalid_number")),
        },
    };
    let f = Filter {
        q: Some(qv.clone()),
        stage: Some(stage.clone()),
        owner: Some(owner.clone()),
        org: Some(org.clone()),
        reached: Some(reached.clone()),
        stage_days_over,
        open,
        sort: Some(if sort.is_empty() { "expected_close".into() } else { sort.clone() }),
        cursor: q(&p, "cursor").map(str::to_string),
        limit: None,
        ..Default::default()
    };
    let db = &s.app.db;
    let caller = &ui.ctx.caller;
    let mut rows = vec![];
    let mut columns = vec![];
    let mut next_href = None;
    let base = enc(&[
        ("q", &qv),
        ("stage", &stage),
        ("owner", &owner),
        ("open", if open { "1" } else { "" }),
        ("org", &org),
        ("reached", &reached),
        ("stage_days_over", &days_over),
        ("sort", &sort),
    ]);
    let n;
    if board {
        // Each column: the first 50 of its stage in the list's order (open stages, then
        // won/lost unless "open only"); its count and total cover the whole stage.
        let shown: Vec<Stage> = if open { OPEN.to_vec() } else { Stage::ALL.to_vec() };
        let shown: Vec<Stage> = shown.into_iter().filter(|s| stage.is_empty() || s.code() == stage).collect();
        match opps::board(db, caller, &f, &shown, 50).await {
            Ok(cols) => {
                n = cols.iter().map(|c| c.count).sum();
                columns = cols
                    .into_iter()
                    .map(|c| Column {
                        stage: c.stage,
                        cards: c.cards,
                        count: c.count,
                        total: crate::domain::money::display_fen(c.amount),
                    })
                    .collect();
            }
            Err(e) => return fail_page(ui, e),
        }
    } else {
        n = match opps::count(db, caller, &f).await {
            Ok(n) => n,
            Err(e) => return fail_page(ui, e),
        };
        match opps::list(db, caller, &f).await {
            Ok(page) => {
                next_href = page.next_cursor.map(|c| format!("/opportunities?{base}&cursor={c}"));
                rows = page.items;
            }
            Err(e) => return fail_page(ui, e),
        }
    }
    let l = Layout::new(ui, "opportunities", ui.lang.t("opps.title"));
    let view = if board { "board" } else { "" };
    // The filters a chart's link opened the list with, kept in the tabs and the filter form.
    let extra = enc(&[("org", &org), ("reached", &reached), ("stage_days_over", &days_over)]);
    let mut chips = vec![];
    if !org.is_empty() {
        chips.push(("org", format!("{}: {org}", l.t("funnel.org")), org.clone()));
    }
    if let Ok(st) = Stage::parse(&reached) {
        chips.push(("reached", l.t("opp.reached").replace("{stage}", &l.e("stage", st.code())), reached.clone()));
    }
    if let Some(d) = stage_days_over {
        chips.push(("stage_days_over", l.t("opp.stage_days_over").replace("{n}", &d.to_string()), days_over.clone()));
    }
    render(&ListPage {
        extra,
        chips,
        refusal,
        count_text: l.t("opps.count").replace("{n}", &n.to_string()),
        this_href: format!("/opportunities?{base}&view={view}"),
        board,
        q: qv,
        stage,
        owner,
        open,
        sort,
        stages: stage_codes(),
        rows,
        columns,
        next_href,
        l,
    })
}

fn opp_form(l: Layout, account_id: i64, o: Option<&OpportunityView>) -> FormPage {
    let g = |f: fn(&OpportunityView) -> Option<String>| o.and_then(f);
    let mut fields = vec![
        Field::new(&l, "name", "text", g(|o| Some(o.name.clone()))).required(),
        Field::new(&l, "amount", "text", g(|o| Some(o.amount.clone()))).required(),
        Field::new(&l, "expected_close", "date", g(|o| Some(o.expected_close.clone()))).required(),
        // A person picker (names, usernames, pinyin; `static/picker.js`).
        Field::new(&l, "owner", "text", g(|o| Some(o.owner.clone()))).user_picker("owners", []),
        Field::new(&l, "team", "text", g(|o| Some(o.team.join(", ")))).help(l.t("help.opportunity_team")),
        Field::new(&l, "products", "text", g(|o| o.products.clone())),
        Field::new(&l, "business_unit", "text", g(|o| o.business_unit.clone())),
        Field::new(&l, "competitors", "text", g(|o| o.competitors.clone())),
        Field::new(&l, "source", "text", g(|o| o.source.clone())),
        Field::new(&l, "next_step", "text", g(|o| o.next_step.clone())),
        Field::new(&l, "next_step_due", "date", g(|o| o.next_step_due.clone())),
    ];
    type Getter = fn(&OpportunityView) -> Option<String>;
    let evals: [(&str, Getter); 7] = [
        ("eval_need", |o| o.eval_need.clone()),
        ("eval_budget", |o| o.eval_budget.clone()),
        ("eval_timeline", |o| o.eval_timeline.clone()),
        ("eval_decision_makers", |o| o.eval_decision_makers.clone()),
        ("eval_competition", |o| o.eval_competition.clone()),
        ("eval_advantages", |o| o.eval_advantages.clone()),
        ("eval_strategy", |o| o.eval_strategy.clone()),
    ];
    for (k, f) in evals {
        let mut field = Field::new(&l, k, "textarea", g(f));
        if opps::EVAL_REQUIRED.contains(&k) {
            field = field.required();
        }
        fields.push(field);
    }
    let (heading, action, cancel, submit) = match o {
        Some(o) => (
            format!("{} · {}", l.t("action.edit"), o.name),
            format!("/opportunities/{}/edit", o.id),
            format!("/opportunities/{}", o.id),
            l.t("action.save"),
        ),
        None => (
            l.t("opps.new"),
            format!("/accounts/{account_id}/opportunities/new"),
            format!("/accounts/{account_id}#opportunities"),
            l.t("opps.establish"),
        ),
    };
    FormPage {
        heading,
        action,
        fields,
        version: o.map(|o| o.version),
        submit,
        cancel,
        errors: vec![],
        duplicate_of: None,
        once: None,
        l,
    }
}

async fn new_form(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>, uri: Uri) -> Response {
    let once = match once_of(&uri) {
        Ok(t) => t,
        Err(redirect) => return redirect.into_response(),
    };
    let res = async {
        let id = id_of(&id)?;
        crate::app::customers::accounts::ensure_visible(&s.app.db, &ui.ctx.caller, id).await?;
        Ok::<_, DomainError>(id)
    }
    .await;
    match res {
        Ok(id) => {
            let mut page = opp_form(Layout::new(&ui, "opportunities", ui.lang.t("opps.new")), id, None);
            page.once = Some(once);
            if let Some(f) = page.fields.iter_mut().find(|f| f.name == "owner") {
                f.value = ui.ctx.caller.username.clone();
            }
            render(&page)
        }
        Err(e) => fail_page(&ui, e),
    }
}

async fn create(State(s): State<AppState>, Path(id): Path<String>, mut form: UiForm) -> Response {
    crate::web::ui::forms::read_amounts(&mut form.fields);
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let res = match Input::from_form(&form.fields) {
        Ok(inp) => {
            let page = |o: &OpportunityView| format!("/opportunities/{}", o.id);
            let create = async |tx: &mut WriteTx| opps::establish_in(tx, &ui.ctx, id, &inp).await;
            once::create(&s.app.db, &ui.ctx, posted_once(&form.fields), page, create).await
        }
        Err(e) => Err(e),
    };
    redisplay_or_redirect(
        ui,
        res,
        |o| once_done(o, |o| format!("/opportunities/{}", o.id)),
        missing_or_forbidden,
        Some(&form.fields),
        async |_| Ok(opp_form(Layout::new(ui, "opportunities", ui.lang.t("opps.new")), id, None)),
    )
    .await
}

async fn edit_form(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    let res = async { opps::get(&s.app.db, &ui.ctx.caller, id_of(&id)?).await }.await;
    match res {
        Ok(o) => render(&opp_form(Layout::new(&ui, "opportunities", o.name.clone()), o.account_id, Some(&o))),
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
        Ok(inp) => opps::update(&s.app.db, &ui.ctx, id, &inp).await,
        Err(e) => Err(e),
    };
    redisplay_or_redirect(
        ui,
        res,
        |_| with_flash(&format!("/opportunities/{id}"), "saved"),
        missing_or_forbidden,
        Some(&form.fields),
        async |_| {
            let o = opps::get(&s.app.db, &ui.ctx.caller, id).await?;
            Ok(opp_form(Layout::new(ui, "opportunities", o.name.clone()), o.account_id, Some(&o)))
        },
    )
    .await
}

#[derive(Template)]
#[template(path = "opportunity.html")]
struct ShowPage {
    l: Layout,
    o: OpportunityView,
    /// (stage, its checklist items) in funnel order.
    checklist: Vec<(&'static str, Vec<opps::Check>)>,
    history: Vec<HistoryRow>,
    /// The opportunity's path: (stage, probability, "done" | "current" | "todo").
    path: Vec<(&'static str, i64, &'static str)>,
    /// The current stage's exit criteria, ticked in place.
    current_checks: Vec<opps::Check>,
    /// The stages it may be moved to (a link each: the move form of that target).
    targets: Vec<&'static str>,
    /// The target of the move form shown (`?move=` or the move refused), and what it asks:
    /// (field, what was typed).
    move_to: Option<&'static str>,
    move_fields: Vec<(&'static str, String)>,
    /// A manager may move forward past unmet exit criteria with a reason.
    can_override: bool,
    override_reason: String,
    move_errors: Vec<String>,
    /// The opportunity's quotes (a part of the page of its own).
    quotes: crate::web::ui::Section<Vec<crate::app::quotes::quotes::QuoteRow>>,
    /// Its tenders and negotiation rounds (parts of their own).
    deals: crate::web::ui::quotes::bids::OpportunityDeals,
    /// Its orders (a won opportunity's; a part of its own).
    orders: crate::web::ui::Section<Vec<crate::app::orders::orders::OrderRow>>,
}

/// What a move to `to` asks besides its target: nothing forward; booked amount and date to
/// won; reason and competitor to lost; a reason back or out of won/lost.
fn move_fields(from: Stage, to: Stage) -> &'static [&'static str] {
    use crate::domain::opportunity::{classify, Move};
    match classify(from, to) {
        Ok(Move::Forward) | Err(_) => &[],
        Ok(Move::Win) => &["booked_amount", "booked_on"],
        Ok(Move::Lose) => &["lost_reason", "lost_to"],
        Ok(Move::Back | Move::Reopen) => &["reason"],
    }
}

/// Each stage of the path as done, current or still to come: open stages up to the furthest
/// the opportunity reached (its history) are done; won closes the path, lost leaves it.
fn path_of(o: &OpportunityView, history: &[HistoryRow]) -> Vec<(&'static str, i64, &'static str)> {
    let furthest = history.iter().filter_map(|h| h.stage.rank()).chain(o.stage.rank()).max().unwrap_or(0);
    let current = o.stage.rank();
    Stage::ALL
        .iter()
        .map(|st| {
            let state = if *st == o.stage {
                "current"
            } else {
                match (st.rank(), current) {
                    (Some(r), Some(c)) if r < c => "done",
                    // Lost: what it reached before.
                    (Some(r), None) if r <= furthest && *st != Stage::Won => "done",
                    _ => "todo",
                }
            };
            (st.code(), st.probability(), state)
        })
        .collect()
}

async fn show_page(s: &AppState, ui: &UiCtx, id: i64, mv: StageMove, err: Option<DomainError>) -> Response {
    let db = &s.app.db;
    let (o, history) = match tokio::try_join!(opps::get(db, &ui.ctx.caller, id), opps::history(db, &ui.ctx.caller, id))
    {
        Ok(x) => x,
        Err(e) => return fail_page(ui, e),
    };
    let quotes = {
        use crate::web::ui::Load;
        crate::app::quotes::quotes::of_opportunity(db, &ui.ctx.caller, id).await.section("opportunity", "quotes")
    };
    let deals = crate::web::ui::quotes::bids::opportunity_deals(db, ui, id).await;
    let orders = {
        use crate::web::ui::Load;
        crate::app::orders::orders::of_opportunity(db, &ui.ctx.caller, id).await.section("opportunity", "orders")
    };
    let l = Layout::new(ui, "opportunities", o.name.clone());
    let mut checklist: Vec<(&'static str, Vec<opps::Check>)> = vec![];
    for c in &o.checklist {
        match checklist.iter_mut().find(|(s, _)| *s == c.stage) {
            Some((_, v)) => v.push(c.clone()),
            None => checklist.push((c.stage, vec![c.clone()])),
        }
    }
    let mut move_errors = vec![];
    let status = err.as_ref().map(|e| crate::web::ui::status_and_code(e).0);
    if let Some(e) = &err {
        match e {
            DomainError::Invalid(fs) => {
                for f in fs {
                    let label = if crate::domain::opportunity::is_criterion(&f.field) {
                        l.e("check", &f.field)
                    } else {
                        l.e("field", &f.field)
                    };
                    move_errors.push(format!("{label}: {}", l.lang.msg("invalid", f.code)));
                }
            }
            DomainError::StaleVersion { .. } => move_errors.push(l.lang.msg("err", "stale_version")),
            other => move_errors.push(l.lang.msg("err", crate::web::ui::status_and_code(other).1)),
        }
    }
    let to = Stage::parse(&mv.stage).ok().filter(|t| *t != o.stage);
    let typed = |f: &str| typed_move_field(&mv, f);
    let move_fields = to.map(|t| move_fields(o.stage, t).iter().map(|f| (*f, typed(f))).collect()).unwrap_or_default();
    let current_checks = o.checklist.iter().filter(|c| c.stage == o.stage.code()).cloned().collect();
    let mut res = render(&ShowPage {
        path: path_of(&o, &history),
        current_checks,
        targets: Stage::ALL.iter().filter(|s| **s != o.stage).map(|s| s.code()).collect(),
        move_to: to.map(|t| t.code()),
        move_fields,
        can_override: ui.ctx.caller.role.manages_accounts(),
        override_reason: mv.override_reason.clone().unwrap_or_default(),
        l,
        o,
        checklist,
        history,
        move_errors,
        quotes,
        deals,
        orders,
    });
    if let Some(st) = status {
        *res.status_mut() = st;
    }
    res
}

async fn show(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Response {
    // `?move=STAGE`: the move form of that target (the page per target without script).
    let p = query_pairs(raw);
    let mv = StageMove { stage: q(&p, "move").unwrap_or("").to_string(), ..Default::default() };
    match id_of(&id) {
        Ok(id) => show_page(&s, &ui, id, mv, None).await,
        Err(e) => fail_page(&ui, e),
    }
}

async fn move_stage(State(s): State<AppState>, Path(id): Path<String>, mut form: UiForm) -> Response {
    crate::web::ui::forms::read_amounts(&mut form.fields);
    let ui = &form.ui;
    let id = match id_of(&id) {
        Ok(i) => i,
        Err(e) => return fail_page(ui, e),
    };
    let get = |k: &str| form.get(k).map(str::to_string).filter(|v| !v.trim().is_empty());
    let m = StageMove {
        stage: get("stage").unwrap_or_default(),
        version: form.get("version").and_then(|v| v.trim().parse().ok()),
        reason: get("reason"),
        override_reason: get("override_reason"),
        booked_amount: get("booked_amount"),
        booked_on: get("booked_on"),
        lost_reason: get("lost_reason"),
        lost_to: get("lost_to"),
    };
    let back = form.get("back").filter(|b| b.starts_with("/opportunities")).map(str::to_string);
    // A retry from the board's refusal: the criteria ticked there are checked first (each its
    // own command, as on the opportunity's page), then the move is made on the version after.
    let ticks: Vec<&str> = form.fields.iter().filter(|(k, _)| k == "tick").map(|(_, v)| v.as_str()).collect();
    let mut m = m;
    let res = async {
        for item in ticks {
            let version = m.version.ok_or_else(|| DomainError::invalid("version", "required"))?;
            m.version = Some(opps::set_check(&s.app.db, &ui.ctx, id, item, true, version).await?.version);
        }
        opps::move_stage(&s.app.db, &ui.ctx, id, &m).await
    }
    .await;
    match res {
        // Back where the move was made: the board, or the opportunity.
        Ok(_) => Redirect::to(&back.unwrap_or_else(|| format!("/opportunities/{id}"))).into_response(),
        Err(e @ (DomainError::NotFound | DomainError::Forbidden)) => fail_page(ui, e),
        // Refused on the board: the board again, with what the move needs to tick and retry.
        Err(e) if back.is_some() => board_refusal(&s, ui, id, m, e, back.unwrap_or_default()).await,
        // What the move needs is asked on the opportunity's page, with what was typed kept.
        Err(e) => show_page(&s, ui, id, m, Some(e)).await,
    }
}

/// The board (as it was, from `back`) with the refused move on top: the missing exit criteria
/// as checkboxes, the fields the target asks, and a retry button; answered 422 (409 when stale).
async fn board_refusal(s: &AppState, ui: &UiCtx, id: i64, m: StageMove, e: DomainError, back: String) -> Response {
    let o = match opps::get(&s.app.db, &ui.ctx.caller, id).await {
        Ok(o) => o,
        Err(e) => return fail_page(ui, e),
    };
    let l = Layout::new(ui, "opportunities", String::new());
    let status = crate::web::ui::status_and_code(&e).0;
    let mut missing = vec![];
    let mut messages = vec![];
    match &e {
        DomainError::Invalid(fs) => {
            for f in fs {
                if crate::domain::opportunity::is_criterion(&f.field) {
                    missing.push(
                        crate::domain::opportunity::CRITERIA
                            .iter()
                            .flat_map(|(_, c)| c.iter())
                            .copied()
                            .find(|c| *c == f.field)
                            .unwrap_or(""),
                    );
                } else if f.code != "exit_criteria_unmet" {
                    messages.push(format!("{}: {}", l.e("field", &f.field), l.lang.msg("invalid", f.code)));
                }
            }
        }
        DomainError::StaleVersion { .. } => messages.push(l.lang.msg("err", "stale_version")),
        other => messages.push(l.lang.msg("err", crate::web::ui::status_and_code(other).1)),
    }
    let fields = Stage::parse(&m.stage).map(|t| move_fields(o.stage, t)).unwrap_or(&[]);
    let typed = |f: &str| typed_move_field(&m, f);
    let refusal = Refusal {
        fields: fields.iter().map(|f| (*f, typed(f))).collect(),
        stage: m.stage.clone(),
        o,
        missing,
        messages,
        back: back.clone(),
    };
    let pairs = query_pairs(back.split_once('?').map(|(_, q)| q.to_string()));
    let mut res = list_view(s, ui, pairs, Some(refusal)).await;
    if res.status().is_success() {
        *res.status_mut() = status;
    }
    res
}

async fn check(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let res = async {
        let id = id_of(&id)?;
        let version = form
            .get("version")
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| DomainError::invalid("version", "required"))?;
        let checked = form.get("checked") == Some("1");
        opps::set_check(&s.app.db, &ui.ctx, id, form.get("item").unwrap_or(""), checked, version).await
    }
    .await;
    match res {
        Ok(o) => Redirect::to(&format!("/opportunities/{}#checklist", o.id)).into_response(),
        Err(e) => fail_page(ui, e),
    }
}

/// One bar of the funnel chart.
struct Bar {
    stage: &'static str,
    count: i64,
    amount: String,
    weighted: String,
    compact: String,
    /// Bar width in the SVG (0–400) and its top.
    width: i64,
    y: i64,
}

#[derive(Template)]
#[template(path = "funnel.html")]
struct FunnelPage {
    l: Layout,
    as_of: String,
    owner: String,
    org: String,
    /// Org units for the org filter, by name (code, indented name).
    orgs: Vec<(String, String)>,
    /// The filter as a query string, for the export links.
    filter_qs: String,
    funnel: Funnel,
    bars: Vec<Bar>,
    height: i64,
    /// `&org=…&owner=…` for the figures' links to the opportunities they count; None with
    /// `as_of` (the list shows the opportunities now, not as they stood).
    drill: Option<String>,
    /// The conversion bars' widths (0–300 px).
    conv_widths: Vec<i64>,
}

async fn funnel_page(State(s): State<AppState>, ui: UiCtx, RawQuery(raw): RawQuery) -> Response {
    let p = crate::web::ui::pick::people_in(&s.app.db, query_pairs(raw), &["owner"]).await;
    let fq = FunnelQuery {
        as_of: q(&p, "as_of").map(str::to_string),
        owner: q(&p, "owner").map(str::to_string),
        org: q(&p, "org").map(str::to_string),
    };
    let funnel = match crate::app::funnel::reports::funnel_report(&s.app.db, &ui.ctx.caller, &fq).await {
        Ok(f) => f,
        Err(e) => return fail_page(&ui, e),
    };
    let l = Layout::new(&ui, "funnel", ui.lang.t("funnel.title"));
    let max = funnel.stages.iter().filter_map(|st| crate::domain::money::parse_fen(&st.amount).ok()).max().unwrap_or(0);
    let bars: Vec<Bar> = funnel
        .stages
        .iter()
        .enumerate()
        .map(|(i, st)| {
            let a = crate::domain::money::parse_fen(&st.amount).unwrap_or(0);
            Bar {
                stage: st.stage,
                count: st.count,
                amount: l.money(Some(&st.amount)),
                weighted: l.money(Some(&st.weighted)),
                compact: crate::domain::money::compact_fen(a),
                width: if max > 0 { ((a as i128 * 400) / max as i128) as i64 } else { 0 },
                y: i as i64 * 28,
            }
        })
        .collect();
    let (as_of, owner, org) = (fq.as_of.unwrap_or_default(), fq.owner.unwrap_or_default(), fq.org.unwrap_or_default());
    let orgs = crate::app::people::org::list(&s.app.db).await.map(|us| crate::web::ui::pick::org_options(&us));
    let drill = as_of.is_empty().then(|| {
        let q = enc(&[("org", &org), ("owner", &owner)]);
        if q.is_empty() {
            q
        } else {
            format!("&{q}")
        }
    });
    let conv_widths =
        funnel.conversion.iter().map(|c| if c.reached > 0 { c.advanced * 300 / c.reached } else { 0 }).collect();
    render(&FunnelPage {
        orgs: orgs.unwrap_or_default(),
        conv_widths,
        drill,
        filter_qs: enc(&[("as_of", &as_of), ("owner", &owner), ("org", &org)]),
        as_of,
        owner,
        org,
        height: bars.len() as i64 * 28,
        bars,
        funnel,
        l,
    })
}

/// What was typed into a field of a move form (the won or lost details, or the reason).
fn typed_move_field(m: &crate::app::funnel::opportunities::StageMove, f: &str) -> String {
    match f {
        "booked_amount" => &m.booked_amount,
        "booked_on" => &m.booked_on,
        "lost_reason" => &m.lost_reason,
        "lost_to" => &m.lost_to,
        _ => &m.reason,
    }
    .clone()
    .unwrap_or_default()
}
