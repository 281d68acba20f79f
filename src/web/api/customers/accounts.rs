//! Accounts: lists, the record itself, its team and contacts, the regional pool and imports.
use axum::extract::State;
use axum::handler::Handler;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::app::customers::accounts::{self, AccountView, Filter, TeamMember};
use crate::app::customers::contacts::ContactView;
use crate::app::{customers::contacts, spreadsheets::export};
use crate::domain::account::{Attitude, DecisionRole, Gender, Industry, Level, Status, Tier};
use crate::domain::DomainError;
use crate::web::api::contract::{self, Count, Date, FormatQuery, Id, Money, OnePage, PageQuery, VersionQuery};
use crate::web::api::{export_response, Api, ApiResult, Body, Op, Params, Query, Typed};
use crate::web::auth::ApiCtx;
use crate::web::AppState;

/// The largest import file accepted.
const IMPORT_MAX_BYTES: usize = 64 * 1024 * 1024;

const IMPORT_ACCOUNTS: &str = "Import accounts: the body is the CSV (UTF-8 or GBK) or XLSX file; all rows or none; \
    ?dry_run=true only reports; ?on_match=update updates matching accounts; ?map=HEADER:field (repeatable) maps an \
    unknown header, ?map=HEADER: ignores it";
const IMPORT_CONTACTS: &str = "Import contacts: each row names its account (name or credit code) and may name the \
    contact it reports to; same rules and options as accounts";
const IMPORT_DESCRIPTION: &str = "200 with the report when every row is good (and, unless a dry run, written). \
    When any row is refused nothing is written and the answer is 422: the usual error object (`error`, code \
    `invalid_input`) together with the report's fields (`rows`, `errors` with each refused cell, its code and a \
    message in the caller's language, …). A file that cannot be read at all is a plain 422 error naming `file`.";

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get("/api/v1/accounts", "List accounts in the caller's scope", "accounts")
            .query::<FilterQuery>()
            .query::<SortQuery>()
            .query::<PageQuery>()
            .page::<AccountView>(),
        list,
    )
    .add(
        Op::post("/api/v1/accounts", "Create an account", "accounts")
            .describe(
                "`name` and `industry` are required. A salesperson's new account is their own, in their region \
                 and branch; owners (`owner`, `inside_owner`, `ka_manager`) are managers' to set. A name that \
                 matches an existing account after normalization is 409 `duplicate` (details.field `name`) unless \
                 `allow_duplicate_name` is sent; the same credit code is always 409.",
            )
            .body_example::<AccountCreate>(json!({
                "name": "江苏省南京市财政局",
                "short_name": "南京财政局",
                "credit_code": "11320100014100537T",
                "industry": "government",
                "level": "L2",
                "address": "南京市玄武区北京东路63号",
                "buying_power": "8000000.00",
                "sales_12m": "1200000.00",
                "payment_terms_days": 60,
                "tags": "财政,信创"
            }))
            .ok_example::<AccountView>(201, account_example())
            .errors(&[409]),
        create,
    )
    .add(
        Op::get("/api/v1/accounts/count", "Count accounts in scope matching the filters", "accounts")
            .query::<FilterQuery>()
            .ok::<Count>(200),
        count,
    )
    .add(
        Op::get("/api/v1/accounts/export", "Export accounts in scope as CSV or XLSX (?format=xlsx)", "accounts")
            .query::<FilterQuery>()
            .query::<FormatQuery>()
            .download()
            .with_schema::<contract::Format>(),
        export_csv,
    )
    .add(
        Op::get("/api/v1/accounts/{id}", "Get one account", "accounts")
            .ok_example::<AccountView>(200, account_example()),
        get,
    )
    .add(
        Op::patch("/api/v1/accounts/{id}", "Update an account (needs its version)", "accounts")
            .describe("Send `version` and only the fields to change; null clears a field.")
            .body_example::<AccountUpdate>(json!({
                "version": 3,
                "level": "L1",
                "buying_power": "12000000.00",
                "profit_margin": "18.50",
                "notes": "2026年信创改造预算已批复，三季度启动招标"
            }))
            .ok::<AccountView>(200),
        update,
    )
    .add(
        Op::delete("/api/v1/accounts/{id}", "Delete an account", "accounts").query::<VersionQuery>().no_content(),
        delete,
    )
    .add(
        Op::post("/api/v1/imports/accounts", IMPORT_ACCOUNTS, "import")
            .describe(IMPORT_DESCRIPTION)
            .query::<ImportQuery>()
            .file_body(&["text/csv", contract::XLSX])
            .ok::<ImportReport>(200),
        (|s, c, q, b| import(s, c, q, b, crate::app::spreadsheets::import::Kind::Accounts))
            .layer(axum::extract::DefaultBodyLimit::max(IMPORT_MAX_BYTES)),
    )
    .add(
        Op::post("/api/v1/imports/contacts", IMPORT_CONTACTS, "import")
            .describe(IMPORT_DESCRIPTION)
            .query::<ImportQuery>()
            .file_body(&["text/csv", contract::XLSX])
            .ok::<ImportReport>(200),
        (|s, c, q, b| import(s, c, q, b, crate::app::spreadsheets::import::Kind::Contacts))
            .layer(axum::extract::DefaultBodyLimit::max(IMPORT_MAX_BYTES)),
    )
    .add(
        Op::get("/api/v1/pool", "The regional resource pool: accounts without an owner in the caller's region", "pool")
            .describe("Salespeople only (others get 403); by name.")
            .query::<PoolQuery>()
            .query::<PageQuery>()
            .page::<AccountView>(),
        pool_list,
    )
    .add(
        Op::post("/api/v1/accounts/{id}/claim", "Claim an account from the pool (first claim wins)", "pool")
            .describe(
                "409 `already_claimed` when someone was first, 409 `claim_limit` when the caller already holds \
                 as many claimed accounts as allowed.",
            )
            .ok::<AccountView>(200)
            .errors(&[409]),
        claim,
    )
    .add(
        Op::post("/api/v1/accounts/{id}/release", "Give a claimed account back to the pool", "pool")
            .describe("409 `not_claimed` when the account was assigned rather than claimed.")
            .no_content()
            .errors(&[409]),
        release,
    )
    .add(Op::get("/api/v1/accounts/{id}/team", "The account team", "accounts").one_page::<TeamMember>(200), team)
    .add(
        Op::post("/api/v1/accounts/{id}/team", "Add a user to the account team (managers)", "accounts")
            .describe("Answers the whole team; 409 `already_member`, 422 `unknown_user`.")
            .body::<TeamAdd>()
            .one_page::<TeamMember>(201)
            .errors(&[409]),
        team_add,
    )
    .add(
        Op::delete(
            "/api/v1/accounts/{id}/team/{username}",
            "Remove a user from the account team (managers)",
            "accounts",
        )
        .describe("409 `not_member`, 422 `unknown_user`.")
        .no_content()
        .errors(&[422]),
        team_remove,
    )
    .add(
        Op::get("/api/v1/accounts/{id}/contacts", "The account's contacts (buying committee)", "contacts")
            .one_page::<ContactView>(200),
        list_contacts,
    )
    .add(
        Op::post("/api/v1/accounts/{id}/contacts", "Add a contact to the account", "contacts")
            .body_example::<ContactCreate>(json!({
                "name": "王建国",
                "gender": "male",
                "department": "信息中心",
                "title": "主任",
                "decision_role": "decision_maker",
                "attitude": "supporter",
                "relationship": 3,
                "phone": "025-84561234",
                "email": "wangjg@njcz.gov.cn",
                "last_contact_on": "2026-11-20"
            }))
            .ok_example::<ContactView>(201, contact_example()),
        create_contact,
    )
}

/// Registers a schema the operation refers to only through its query parameters
/// (`FormatQuery`'s `$ref` to `Format` would otherwise point at no component).
trait WithSchema {
    fn with_schema<T: ToSchema>(self) -> Self;
}

impl WithSchema for Op {
    fn with_schema<T: ToSchema>(mut self) -> Op {
        contract::schema_ref::<T>(&mut self.schemas);
        self
    }
}

fn account_example() -> serde_json::Value {
    let mut v = json!({
        "id": 1024, "name": "江苏省南京市财政局", "short_name": "南京财政局", "credit_code": "11320100014100537T",
        "industry": "government", "level": "L2", "region": "EAST", "branch": "NJ",
        "owner": "zhangwei", "inside_owner": null, "ka_manager": "liuyang", "status": "prospect", "tier": null,
        "address": "南京市玄武区北京东路63号", "website": null, "business_units": null,
        "buying_power": "8000000.00", "sales_12m": "1200000.00", "sales_12m_won": "0.00",
        "sales_12m_entered": "1200000.00", "sales_12m_source": "entered", "sow": "15.00", "rad_class": "D2"
    });
    let more = json!({
        "tier_score": null, "tier_since": null, "profit_margin": null, "payment_terms_days": 60,
        "sales_expense_ratio": null, "notes": null, "tags": "财政,信创", "current_asset_ratio": null,
        "net_margin": null, "roa": null, "collection_days": null, "inventory_days": null,
        "credit_grade": "green", "credit_limit": "500000.00", "credit_score": 82,
        "version": 1, "created_at": "2026-12-02T08:30:00.000000Z", "updated_at": "2026-12-02T08:30:00.000000Z",
        "claimed_at": null
    });
    if let (Some(o), serde_json::Value::Object(m)) = (v.as_object_mut(), more) {
        o.extend(m);
    }
    v
}

fn contact_example() -> serde_json::Value {
    json!({
        "id": 311, "account_id": 1024, "account_name": "江苏省南京市财政局", "name": "王建国", "gender": "male",
        "birthday": null, "department": "信息中心", "title": "主任", "reports_to": null,
        "decision_role": "decision_maker", "attitude": "supporter", "relationship": 3, "interests": null,
        "phone": "025-84561234", "email": "wangjg@njcz.gov.cn", "last_contact_on": "2026-11-20", "version": 1,
        "created_at": "2026-12-02T08:35:00.000000Z", "updated_at": "2026-12-02T08:35:00.000000Z"
    })
}

/// Which accounts: search text and filters (all optional, combined with AND).
#[derive(Deserialize, IntoParams)]
pub struct FilterQuery {
    /// Matches the name (normalized), the short name, the name in pinyin — full or by initials,
    /// case-insensitive (天成信息 is found by `tiancheng`, `TianCheng` and `tcxx`) — or exactly the
    /// credit code.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Username: accounts the person holds as owner or inside owner.
    pub owner: Option<String>,
    /// Region org unit code.
    pub region: Option<String>,
    /// Branch org unit code.
    pub branch: Option<String>,
    #[param(inline)]
    pub status: Option<Status>,
    /// A RAD class (R1–R3, D1–D3, A1–A3), or `none` for unclassified accounts.
    #[param(pattern = "^([RDA][1-3]|none)$")]
    pub rad_class: Option<String>,
    #[param(inline)]
    pub tier: Option<Tier>,
    #[param(inline)]
    pub industry: Option<Industry>,
    #[param(inline)]
    pub level: Option<Level>,
    /// Coverage in `period` (the coverage report's figures): `covered` (owned, a done contact
    /// in the period), `untouched` (owned, none), `unowned`, `activated` (first opportunity in
    /// the period).
    #[param(pattern = "^(covered|untouched|unowned|activated)$")]
    pub coverage: Option<String>,
    /// The period of `coverage`: `YYYY-MM`, `YYYY-Qn` or `YYYY`; this month when absent.
    #[param(pattern = r"^[0-9]{4}(-[0-9]{2}|-Q[1-4])?$")]
    pub period: Option<String>,
}

/// `?sort=`: the list's order.
#[derive(Deserialize, IntoParams)]
pub struct SortQuery {
    /// `name` (default), `updated_at`, `buying_power`, `sales_12m` or `id`; a leading `-` reverses it.
    #[param(pattern = "^-?(name|updated_at|buying_power|sales_12m|id)$")]
    pub sort: Option<String>,
}

impl FilterQuery {
    fn into_filter(self, sort: Option<String>, cursor: Option<String>, limit: Option<i64>) -> Filter {
        Filter {
            q: self.q,
            owner: self.owner,
            region: self.region,
            branch: self.branch,
            status: self.status.map(|v| v.code().to_string()),
            rad_class: self.rad_class,
            tier: self.tier.map(|v| v.code().to_string()),
            industry: self.industry.map(|v| v.code().to_string()),
            level: self.level.map(|v| v.code().to_string()),
            coverage: self.coverage,
            period: self.period,
            sort,
            cursor,
            limit,
        }
    }
}

/// The account filter of a query string's pairs (the web UI's list and export read the same
/// parameters as the API).
pub fn filter_from(p: &[(String, String)]) -> Result<Filter, DomainError> {
    // The first value of a key counts, as it always did.
    let mut seen = std::collections::HashSet::new();
    let firsts: Vec<&(String, String)> = p.iter().filter(|(k, _)| seen.insert(k.as_str())).collect();
    let raw = serde_html_form::to_string(&firsts).unwrap_or_default();
    let f: FilterQuery = contract::parse_query(&raw)?;
    let s: SortQuery = contract::parse_query(&raw)?;
    let pg: PageQuery = contract::parse_query(&raw)?;
    Ok(f.into_filter(s.sort, pg.cursor, pg.limit))
}

/// Declares an account body: its own fields, then the fields create and update share.
macro_rules! account_body {
    ($(#[$m:meta])* $name:ident { $($own:tt)* }) => {
        $(#[$m])*
        #[derive(Deserialize, ToSchema)]
        #[allow(dead_code)]
        pub struct $name {
            $($own)*
            #[schema(max_length = 100)]
            pub short_name: Option<String>,
            /// The unified social credit code (统一社会信用代码): 18 characters with a valid
            /// check character; stored upper case, unique.
            #[schema(max_length = 18)]
            pub credit_code: Option<String>,
            /// L3 when absent on create.
            #[schema(value_type = Option<Level>)]
            pub level: Option<String>,
            /// Region org unit code (or its name); on create the creator's own region when absent.
            pub region: Option<String>,
            /// Branch org unit code (or its name); it implies its region, and must lie in
            /// `region` when both are given.
            pub branch: Option<String>,
            /// Username of the owner (managers only).
            pub owner: Option<String>,
            /// Username of the inside-sales owner (managers only).
            pub inside_owner: Option<String>,
            /// Username of the KA manager (managers only).
            pub ka_manager: Option<String>,
            #[schema(max_length = 300)]
            pub address: Option<String>,
            #[schema(max_length = 300)]
            pub website: Option<String>,
            #[schema(max_length = 300)]
            pub business_units: Option<String>,
            /// Yearly purchasing volume (年度采购量), not negative.
            #[schema(value_type = Option<Money>)]
            pub buying_power: Option<serde_json::Value>,
            /// Sales of the trailing twelve months that KAM does not hold (won opportunities are added to it).
            #[schema(value_type = Option<Money>)]
            pub sales_12m: Option<serde_json::Value>,
            /// The same as `sales_12m`.
            #[schema(value_type = Option<Money>)]
            pub sales_12m_entered: Option<serde_json::Value>,
            /// Our profit margin on the customer, percent ("18.50").
            #[schema(pattern = r"^-?[0-9]+(\.[0-9]{1,2})?$")]
            pub profit_margin: Option<String>,
            #[schema(minimum = 0, maximum = 3650)]
            pub payment_terms_days: Option<i64>,
            /// Sales expense ratio, percent, not negative.
            #[schema(pattern = r"^[0-9]+(\.[0-9]{1,2})?$")]
            pub sales_expense_ratio: Option<String>,
            #[schema(max_length = 4000)]
            pub notes: Option<String>,
            /// Free tags, comma separated.
            #[schema(max_length = 300)]
            pub tags: Option<String>,
            /// Current asset ratio, percent.
            #[schema(pattern = r"^-?[0-9]+(\.[0-9]{1,2})?$")]
            pub current_asset_ratio: Option<String>,
            /// Net margin, percent.
            #[schema(pattern = r"^-?[0-9]+(\.[0-9]{1,2})?$")]
            pub net_margin: Option<String>,
            /// Return on assets, percent.
            #[schema(pattern = r"^-?[0-9]+(\.[0-9]{1,2})?$")]
            pub roa: Option<String>,
            /// Days sales outstanding.
            #[schema(minimum = 0, maximum = 3650)]
            pub collection_days: Option<i64>,
            /// Days inventory outstanding.
            #[schema(minimum = 0, maximum = 3650)]
            pub inventory_days: Option<i64>,
        }
    };
}

account_body!(
    /// An account's fields on create. `name` and `industry` are required; the owners are for
    /// managers only. Codes that are not valid are all reported at once (422).
    AccountCreate {
        /// The registered name (客户名称).
        #[schema(required = true, nullable = false, min_length = 1, max_length = 200)]
        pub name: Option<String>,
        #[schema(required = true, nullable = false, value_type = Option<Industry>)]
        pub industry: Option<String>,
        /// Create the account although an existing one has the same name (after the 409 `duplicate`).
        pub allow_duplicate_name: Option<bool>,
    }
);

account_body!(
    /// An account's changes: `version` (the one read) and only the fields to change; null
    /// clears a field. The owners are for managers only; `status` moves only through its flows
    /// (repeating the current one is accepted and changes nothing).
    AccountUpdate {
        /// The version read; a stale one is 409.
        #[schema(required = true, nullable = false)]
        pub version: Option<i64>,
        #[schema(min_length = 1, max_length = 200)]
        pub name: Option<String>,
        #[schema(value_type = Option<Industry>)]
        pub industry: Option<String>,
        /// Only the current status (a form sends it back); any other is 422 `status_by_flow`.
        #[schema(value_type = Option<Status>)]
        pub status: Option<String>,
    }
);

/// A new contact of the account: `name` is required. Codes are checked with the other fields,
/// so every refused field is reported at once.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ContactCreate {
    #[schema(required = true, nullable = false, min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[schema(value_type = Option<Gender>)]
    pub gender: Option<String>,
    pub birthday: Option<Date>,
    #[schema(max_length = 100)]
    pub department: Option<String>,
    #[schema(max_length = 100)]
    pub title: Option<String>,
    /// Another contact of the same account.
    pub reports_to: Option<i64>,
    #[schema(value_type = Option<DecisionRole>)]
    pub decision_role: Option<String>,
    #[schema(value_type = Option<Attitude>)]
    pub attitude: Option<String>,
    /// Strength of our relationship, 1 (none) to 5 (close).
    #[schema(minimum = 1, maximum = 5)]
    pub relationship: Option<i64>,
    #[schema(max_length = 1000)]
    pub interests: Option<String>,
    #[schema(max_length = 50)]
    pub phone: Option<String>,
    /// Must contain an `@` between two parts.
    #[schema(max_length = 200)]
    pub email: Option<String>,
    pub last_contact_on: Option<Date>,
}

/// The user to add to the team.
#[derive(Deserialize, ToSchema)]
pub struct TeamAdd {
    /// An active user's username.
    #[schema(required = true, nullable = false, min_length = 1)]
    pub username: Option<String>,
}

/// `?q=`: the pool's search text.
#[derive(Deserialize, IntoParams)]
pub struct PoolQuery {
    /// Matches the (normalized) name.
    #[param(max_length = 200)]
    pub q: Option<String>,
}

/// How an import treats the file.
#[derive(Deserialize, IntoParams)]
pub struct ImportQuery {
    /// `true` (or `1`): check every row and report, write nothing; any other value is false.
    pub dry_run: Option<String>,
    /// A row that matches an existing record: `report` it as a row error (default) or `update` the record.
    #[param(inline)]
    pub on_match: Option<OnMatchCode>,
    /// `HEADER:field` maps a header the built-in names do not know to a field; `HEADER:` ignores the column. Repeatable.
    #[serde(default)]
    pub map: Vec<String>,
}

/// What to do with a row that matches an existing record.
#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum OnMatchCode {
    Report,
    Update,
}

/// One refused cell of an import, with its reason in the caller's language.
#[derive(Serialize, ToSchema)]
pub struct ImportRowError {
    /// The spreadsheet row (1 = the header row).
    pub row: usize,
    /// The column's field code (or header).
    pub column: String,
    /// The value as given (shortened).
    pub value: String,
    /// Why: a field error code, optionally followed by `:detail` (`matches_existing:12`).
    pub code: String,
    /// The reason in the caller's language.
    pub message: String,
}

/// What an import did (or, for a dry run, would do).
#[derive(Serialize, ToSchema)]
pub struct ImportReport {
    /// Data rows read.
    pub rows: usize,
    pub created: usize,
    /// Existing records a row matched and updated (only with `on_match=update`).
    pub updated: usize,
    pub dry_run: bool,
    /// Whether the rows were written.
    pub committed: bool,
    /// Headers that map to no field (their columns were ignored).
    pub unknown_columns: Vec<String>,
    /// Refused cells; empty on 200.
    pub errors: Vec<ImportRowError>,
    /// On 422 only: the error object (code `invalid_input`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>, required = false)]
    pub error: Option<serde_json::Value>,
}

async fn list(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(f): Query<FilterQuery>,
    Query(o): Query<SortQuery>,
    Query(p): Query<PageQuery>,
) -> ApiResult {
    let f = f.into_filter(o.sort, p.cursor, p.limit);
    Ok(Json(accounts::list(&s.app.db, &c.ctx.caller, &f).await?).into_response())
}

async fn count(State(s): State<AppState>, c: ApiCtx, Query(f): Query<FilterQuery>) -> ApiResult {
    let count = accounts::count(&s.app.db, &c.ctx.caller, &f.into_filter(None, None, None)).await?;
    Ok(Json(Count { count }).into_response())
}

async fn export_csv(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(f): Query<FilterQuery>,
    Query(fmt): Query<FormatQuery>,
) -> ApiResult {
    let rows = accounts::export(&s.app.db, &c.ctx.caller, &f.into_filter(None, None, None)).await?;
    let t = export::accounts_table(&rows, c.ctx.caller.sees_credit());
    Ok(export_response(&t, fmt.code(), "accounts")?)
}

async fn get(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(accounts::get(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn create(State(s): State<AppState>, c: ApiCtx, b: Body<AccountCreate>) -> ApiResult {
    let v = accounts::create(&s.app.db, &c.ctx, &b.input).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn update(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Body<AccountUpdate>) -> ApiResult {
    Ok(Json(accounts::update(&s.app.db, &c.ctx, id, &b.input).await?).into_response())
}

async fn delete(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    Query(q): Query<VersionQuery>,
) -> ApiResult {
    accounts::delete(&s.app.db, &c.ctx, id, q.version).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_contacts(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    let items = contacts::of_account(&s.app.db, &c.ctx.caller, id).await?;
    Ok(OnePage::of(items).into_response())
}

async fn create_contact(
    State(s): State<AppState>,
    c: ApiCtx,
    Params(Id(id)): Params<Id>,
    b: Body<ContactCreate>,
) -> ApiResult {
    let v = contacts::create(&s.app.db, &c.ctx, id, &b.input).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn team(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    let items = accounts::team(&s.app.db, &c.ctx.caller, id).await?;
    Ok(OnePage::of(items).into_response())
}

async fn team_add(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Typed<TeamAdd>) -> ApiResult {
    let u = b.typed.username.as_deref().unwrap_or("");
    let items = accounts::set_team_member(&s.app.db, &c.ctx, id, u, true).await?;
    Ok((StatusCode::CREATED, OnePage::of(items)).into_response())
}

async fn team_remove(State(s): State<AppState>, c: ApiCtx, Params((Id(id), u)): Params<(Id, String)>) -> ApiResult {
    accounts::set_team_member(&s.app.db, &c.ctx, id, &u, false).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn pool_list(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(q): Query<PoolQuery>,
    Query(p): Query<PageQuery>,
) -> ApiResult {
    let page =
        crate::app::customers::pool::list(&s.app.db, &c.ctx.caller, q.q.as_deref(), p.cursor.as_deref(), p.limit)
            .await?;
    Ok(Json(page).into_response())
}

async fn claim(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    let a = crate::app::customers::pool::claim(&s.app.db, &c.ctx, id, s.app.settings.pool_claim_limit).await?;
    Ok(Json(a).into_response())
}

async fn release(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    crate::app::customers::pool::release(&s.app.db, &c.ctx, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn import(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(q): Query<ImportQuery>,
    body: axum::body::Bytes,
    kind: crate::app::spreadsheets::import::Kind,
) -> ApiResult {
    use crate::app::spreadsheets::import::{OnMatch, Options, Source};
    let dry_run = matches!(q.dry_run.as_deref(), Some("true" | "1"));
    let on_match = match q.on_match {
        None | Some(OnMatchCode::Report) => OnMatch::Report,
        Some(OnMatchCode::Update) => OnMatch::Update,
    };
    let mapping = crate::app::spreadsheets::import::parse_mapping(kind, q.map.iter().map(String::as_str))?;
    let opts = Options { dry_run, on_match, mapping };
    let r = crate::app::spreadsheets::import::run(&s.app.db, &c.ctx, kind, Source::bytes(body), &opts).await?;
    let failed = !r.errors.is_empty();
    let errors = r
        .errors
        .into_iter()
        .map(|e| {
            let message = crate::web::ui::import_reason(c.lang, &e.code).to_string();
            ImportRowError { row: e.row, column: e.column, value: e.value, code: e.code, message }
        })
        .collect();
    let mut report = ImportReport {
        rows: r.rows,
        created: r.created,
        updated: r.updated,
        dry_run: r.dry_run,
        committed: r.committed,
        unknown_columns: r.unknown_columns,
        errors,
        error: None,
    };
    if failed {
        // A refused file is an error answer like any other, and carries its report beside it.
        let message = c.lang.msg("err", "invalid_input");
        report.error = Some(json!({"code": "invalid_input", "message": message, "details": {}}));
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(report)).into_response());
    }
    Ok(Json(report).into_response())
}
