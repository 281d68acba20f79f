//! `/api/v1/products`: the product catalogue (产品目录) — list, record, create, update, import and
//! export. The floor price and standard cost appear only for the roles that see them.
use axum::extract::State;
use axum::handler::Handler;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::app::quotes::products::{self, Filter, ProductView};
use crate::app::spreadsheets::import::Source;
use crate::web::api::contract::{self, Count, FormatQuery, Id, Money, PageQuery};
use crate::web::api::customers::accounts::{ImportReport, ImportRowError};
use crate::web::api::{Api, ApiResult, Body, Op, Params, Query};
use crate::web::auth::ApiCtx;
use crate::web::i18n::Lang;
use crate::web::AppState;

/// The largest import file accepted (a catalogue is a few thousand rows).
const IMPORT_MAX_BYTES: usize = 16 * 1024 * 1024;

const IMPORT: &str = "Import products: the body is the CSV (UTF-8 or GBK) or XLSX file; all rows or none; a row \
    whose code exists updates that product; ?dry_run=true only reports";
const IMPORT_DESCRIPTION: &str = "The first row names the columns, in Chinese or English: 编码/code, 名称/name, \
    类别/category, 规格/specification, 单位/unit, 目录价/list_price, 底价/floor_price, 税率/tax_rate (percent), \
    标准成本/standard_cost, 启用/active (是/否, true/false); the export's own headers are read too. A row whose code \
    matches an existing product (whatever its case) updates it with the row's non-empty cells; any other row adds a \
    product (code, name, unit and list price required). Each row is checked by the rules of `POST`; amounts may be \
    written `1,280,000` or `128万`. 200 with the report when every row is good (and, unless a dry run, written). \
    When any row is refused nothing is written and the answer is 422: the error object (`error`, code \
    `invalid_input`) beside the report, whose `errors` list each refused cell by row (1 = the header row), column, \
    value and reason. A file that cannot be read, or has no code column, is a plain 422 naming `file`. At most \
    20,000 rows and 16 MB; the import stops after the server's limit of refused rows (`errors_truncated`).";

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get("/api/v1/products", "List the product catalogue", "products")
            .describe(
                "Every signed-in role but the administrator reads the catalogue. `floor_price` and \
                 `standard_cost` are present only for the commercial, finance and director roles.",
            )
            .query::<FilterQuery>()
            .query::<SortQuery>()
            .query::<PageQuery>()
            .page::<ProductView>(),
        list,
    )
    .add(
        Op::post("/api/v1/products", "Add a product to the catalogue (commercial manager and HQ managers)", "products")
            .describe(
                "`code`, `name`, `unit` and `list_price` are required; `tax_rate` is 13 (%) unless given. The \
                 floor price may not exceed the list price. A code in use (whatever its case) is 409 `duplicate` \
                 with details.field `code`.",
            )
            .body_example::<ProductCreate>(json!({
                "code": "SRV-R750",
                "name": "机架式服务器 R750",
                "category": "服务器",
                "specification": "2×银牌4314 / 256GB / 4×1.92TB SSD",
                "unit": "台",
                "list_price": "128000.00",
                "floor_price": "106000.00",
                "tax_rate": "13",
                "standard_cost": "92000.00"
            }))
            .ok_example::<ProductView>(201, product_example())
            .errors(&[409]),
        create,
    )
    .add(
        Op::get("/api/v1/products/count", "Count the products matching the filters", "products")
            .query::<FilterQuery>()
            .ok::<Count>(200),
        count,
    )
    .add(
        Op::get("/api/v1/products/export", "Export the catalogue as CSV or XLSX (?format=xlsx)", "products")
            .describe(
                "Headers and the file name in the caller's language (产品目录_2026-12-03.xlsx); XLSX prices are \
                 number cells in yuan, CSV keeps decimal strings. Floor price and standard cost only for the roles \
                 that see them. The file imports again as it is.",
            )
            .query::<FilterQuery>()
            .query::<SortQuery>()
            .query::<FormatQuery>()
            .download()
            .with_format_schema(),
        export,
    )
    .add(
        Op::post("/api/v1/products/import", IMPORT, "products")
            .describe(IMPORT_DESCRIPTION)
            .query::<ImportQuery>()
            .file_body(&["text/csv", contract::XLSX])
            .ok::<ImportReport>(200),
        import.layer(axum::extract::DefaultBodyLimit::max(IMPORT_MAX_BYTES)),
    )
    .add(
        Op::get("/api/v1/products/{id}", "Get one product", "products")
            .ok_example::<ProductView>(200, product_example()),
        get,
    )
    .add(
        Op::patch("/api/v1/products/{id}", "Update a product (needs its version)", "products")
            .describe(
                "Send `version` and only the fields to change; null clears an optional field (`tax_rate`: back \
                 to 13). `active: false` deactivates the product (it is never deleted), `true` reactivates it.",
            )
            .body_example::<ProductUpdate>(json!({"version": 2, "list_price": "125000.00", "floor_price": "104000.00"}))
            .ok::<ProductView>(200),
        update,
    )
}

fn product_example() -> serde_json::Value {
    json!({
        "id": 12, "code": "SRV-R750", "name": "机架式服务器 R750", "category": "服务器",
        "specification": "2×银牌4314 / 256GB / 4×1.92TB SSD", "unit": "台", "list_price": "128000.00",
        "floor_price": "106000.00", "tax_rate": "13.00", "standard_cost": "92000.00", "active": true, "version": 1,
        "created_at": "2026-12-03T02:30:00.000000Z", "updated_at": "2026-12-03T02:30:00.000000Z",
        "updated_by": "commercial", "updated_by_name": "陈静"
    })
}

/// Which products (all optional, combined with AND).
#[derive(Deserialize, IntoParams)]
pub struct FilterQuery {
    /// Matches the code, the name, or the name in pinyin, full or by initials (服务器 is found by
    /// `fuwuqi` and `fwq`).
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Only this category (exactly).
    pub category: Option<String>,
    /// `true`: only active products; `false`: only inactive ones; absent: all.
    pub active: Option<bool>,
}

/// `?sort=`: the list's order.
#[derive(Deserialize, IntoParams)]
pub struct SortQuery {
    /// `code` (default), `name` (pinyin order), `list_price` or `updated`; a leading `-` reverses it.
    #[param(pattern = "^-?(code|name|list_price|updated)$")]
    pub sort: Option<String>,
}

impl FilterQuery {
    fn into_filter(self, sort: Option<String>, page: Option<PageQuery>) -> Filter {
        let (cursor, limit) = page.map(|p| (p.cursor, p.limit)).unwrap_or_default();
        Filter { q: self.q, category: self.category, active: self.active, sort, cursor, limit }
    }
}

/// The filter of a query string's pairs (the pages read the same parameters as the API).
pub fn filter_from(p: &[(String, String)]) -> Result<Filter, crate::domain::DomainError> {
    let mut seen = std::collections::HashSet::new();
    let firsts: Vec<&(String, String)> = p.iter().filter(|(k, _)| seen.insert(k.as_str())).collect();
    let raw = serde_html_form::to_string(&firsts).unwrap_or_default();
    let f: FilterQuery = contract::parse_query(&raw)?;
    let s: SortQuery = contract::parse_query(&raw)?;
    let pg: PageQuery = contract::parse_query(&raw)?;
    Ok(f.into_filter(s.sort, Some(pg)))
}

/// Declares a product body: its own fields, then those create and update share.
macro_rules! product_body {
    ($(#[$m:meta])* $name:ident { $($own:tt)* }) => {
        $(#[$m])*
        #[derive(Deserialize, ToSchema)]
        #[allow(dead_code)]
        pub struct $name {
            $($own)*
            /// The category (类别), free text.
            #[schema(max_length = 50)]
            pub category: Option<String>,
            /// Model, configuration or scope (规格).
            #[schema(max_length = 500)]
            pub specification: Option<String>,
            /// The floor price (底价), not above the list price (commercial, finance and director roles).
            pub floor_price: Option<Money>,
            /// The VAT rate in percent, at most two decimals: 0 or 1–100 ("13", "9", "6.00"; a
            /// trailing % is accepted). Absent on create: 13.
            pub tax_rate: Option<String>,
            /// The standard cost (标准成本), for margins (commercial, finance and director roles).
            pub standard_cost: Option<Money>,
            /// Offered in new quotes (true unless said otherwise).
            pub active: Option<bool>,
        }
    };
}

product_body!(
    /// A new product: `code`, `name`, `unit` and `list_price` are required.
    ProductCreate {
        /// Unique whatever its case, at most 40 characters.
        #[schema(required = true, nullable = false, min_length = 1, max_length = 40)]
        pub code: Option<String>,
        #[schema(required = true, nullable = false, min_length = 1, max_length = 200)]
        pub name: Option<String>,
        /// The unit it is sold in (台, 套, 年…).
        #[schema(required = true, nullable = false, min_length = 1, max_length = 20)]
        pub unit: Option<String>,
        /// The list price (目录价).
        #[schema(required = true, nullable = false)]
        pub list_price: Option<Money>,
    }
);

product_body!(
    /// A product's changes: `version` (the one read) and only the fields to change; null clears
    /// an optional field.
    ProductUpdate {
        /// The version read; a stale one is 409.
        #[schema(required = true, nullable = false)]
        pub version: Option<i64>,
        #[schema(min_length = 1, max_length = 40)]
        pub code: Option<String>,
        #[schema(min_length = 1, max_length = 200)]
        pub name: Option<String>,
        #[schema(min_length = 1, max_length = 20)]
        pub unit: Option<String>,
        pub list_price: Option<Money>,
    }
);

/// How an import treats the file.
#[derive(Deserialize, IntoParams)]
pub struct ImportQuery {
    /// `true` (or `1`): check every row and report, write nothing; any other value is false.
    pub dry_run: Option<String>,
}

async fn list(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(f): Query<FilterQuery>,
    Query(o): Query<SortQuery>,
    Query(p): Query<PageQuery>,
) -> ApiResult {
    let f = f.into_filter(o.sort, Some(p));
    Ok(Json(products::list(&s.app.db, &c.ctx.caller, &f).await?).into_response())
}

async fn count(State(s): State<AppState>, c: ApiCtx, Query(f): Query<FilterQuery>) -> ApiResult {
    let count = products::count(&s.app.db, &c.ctx.caller, &f.into_filter(None, None)).await?;
    Ok(Json(Count { count }).into_response())
}

async fn get(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>) -> ApiResult {
    Ok(Json(products::get(&s.app.db, &c.ctx.caller, id).await?).into_response())
}

async fn create(State(s): State<AppState>, c: ApiCtx, b: Body<ProductCreate>) -> ApiResult {
    let v = products::create(&s.app.db, &c.ctx, &b.input).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn update(State(s): State<AppState>, c: ApiCtx, Params(Id(id)): Params<Id>, b: Body<ProductUpdate>) -> ApiResult {
    Ok(Json(products::update(&s.app.db, &c.ctx, id, &b.input).await?).into_response())
}

/// The catalogue as a file for a person: headers, file name and the active column in `lang`.
pub fn download(
    rows: &[ProductView],
    caller: &crate::app::Caller,
    lang: Lang,
    format: &str,
) -> Result<axum::response::Response, crate::domain::DomainError> {
    crate::web::api::person_download(
        &products::table(rows, caller.role.sees_floor_price()),
        caller,
        lang,
        format,
        "products",
    )
}

async fn export(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(f): Query<FilterQuery>,
    Query(o): Query<SortQuery>,
    Query(fmt): Query<FormatQuery>,
) -> ApiResult {
    let rows = products::export(&s.app.db, &c.ctx.caller, &f.into_filter(o.sort, None)).await?;
    Ok(download(&rows, &c.ctx.caller, c.lang, fmt.code().unwrap_or("csv"))?)
}

async fn import(
    State(s): State<AppState>,
    c: ApiCtx,
    Query(q): Query<ImportQuery>,
    body: axum::body::Bytes,
) -> ApiResult {
    let dry_run = matches!(q.dry_run.as_deref(), Some("true" | "1"));
    let max = s.app.settings.import_max_errors;
    let r = products::import(&s.app.db, &c.ctx, Source::bytes(body), dry_run, max).await?;
    let failed = r.refused();
    let listed = r.errors.iter().map(|e| e.row).collect::<std::collections::BTreeSet<_>>().len();
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
        errors_truncated: r.errors_truncated,
        error: None,
    };
    if failed {
        let mut message = c.lang.msg("err", "invalid_input");
        if r.errors_truncated {
            message = format!("{message} ({})", crate::web::ui::more_errors_text(c.lang, listed));
        }
        report.error = Some(json!({"code": "invalid_input", "message": message, "details": {}}));
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(report)).into_response());
    }
    Ok(Json(report).into_response())
}
