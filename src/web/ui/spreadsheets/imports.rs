//! Import pages: upload (with progress), map unknown headers, dry run, "import now", the
//! per-row report in the user's language and its download. The work is `app::import_runs`.
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::app::spreadsheets::import::{Kind, OnMatch, Options, Report};
use crate::app::spreadsheets::import_runs::{self, ImportRun};
use crate::domain::DomainError;
use crate::web::api::id_of;
use crate::web::auth::{UiCtx, UiForm};
use crate::web::i18n::Lang;
use crate::web::ui::{fail_page, render, Layout, Load, Section};
use crate::web::AppState;

/// Uploads may be as large as a national customer base.
const UPLOAD_LIMIT: usize = 64 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    let limit = axum::extract::DefaultBodyLimit::max(UPLOAD_LIMIT);
    Router::new()
        .route(
            "/accounts/import",
            get(|s, ui| page(s, ui, Kind::Accounts)).post(|s, ui, m| upload(s, ui, m, Kind::Accounts)).layer(limit),
        )
        .route(
            "/contacts/import",
            get(|s, ui| page(s, ui, Kind::Contacts)).post(|s, ui, m| upload(s, ui, m, Kind::Contacts)).layer(limit),
        )
        .route("/imports/{id}", get(show).post(run))
        .route("/imports/{id}/errors.csv", get(|s, ui, p| errors(s, ui, p, "csv")))
        .route("/imports/{id}/errors.xlsx", get(|s, ui, p| errors(s, ui, p, "xlsx")))
}

/// One unknown header and the choice of field for it.
struct MapRow {
    index: usize,
    header: String,
    chosen: String,
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    l: Layout,
    kind: &'static str,
    dry_run: bool,
    update_existing: bool,
    run: Option<ImportRun>,
    /// Headers waiting for a mapping (the mapping step), and the fields on offer.
    mapping: Vec<MapRow>,
    fields: Vec<(String, String)>,
    /// Mapping already chosen, carried into "import now".
    chosen: Vec<(usize, String, String)>,
    report: Option<Report>,
    summary: String,
    /// "More errors not shown", when the import stopped at its limit of refused rows.
    more_errors: String,
    errors: Vec<(usize, String, String, String)>,
    /// The caller's latest imports, a section of the page.
    recent: Section<Vec<ImportRun>>,
}

impl ImportPage {
    async fn new(s: &AppState, ui: &UiCtx, kind: Kind) -> ImportPage {
        let title = ui.lang.t(if kind == Kind::Accounts { "import.title" } else { "import.title_contacts" });
        let nav = if kind == Kind::Accounts { "accounts" } else { "contacts" };
        let l = Layout::new(ui, nav, title);
        let fields = kind.fields().iter().map(|f| (f.to_string(), label(ui.lang, kind, f))).collect();
        let recent = import_runs::recent(&s.app.db, &ui.ctx.caller, 10).await.section("import", "recent imports");
        ImportPage {
            l,
            kind: kind.code(),
            dry_run: true,
            update_existing: false,
            run: None,
            mapping: vec![],
            fields,
            chosen: vec![],
            report: None,
            summary: String::new(),
            more_errors: String::new(),
            errors: vec![],
            recent,
        }
    }

    fn with_report(mut self, lang: Lang, run: &ImportRun, r: Report) -> ImportPage {
        let kind = if run.kind == Kind::Accounts { "import" } else { "import.contacts" };
        let key = match (!r.refused(), r.dry_run) {
            (false, _) => "summary_rejected",
            (true, true) => "summary_dry",
            (true, false) => "summary_done",
        };
        self.summary = lang
            .t(&format!("{kind}.{key}"))
            .replace("{u}", &r.updated.to_string())
            .replace("{rows}", &r.rows.to_string())
            .replace("{n}", &r.created.to_string())
            .replace("{e}", &r.errors.len().to_string());
        self.errors = error_rows(lang, run.kind, &r);
        if r.errors_truncated {
            self.more_errors = more_errors_text(lang, listed_rows(&r));
        }
        self.dry_run = r.dry_run;
        self.update_existing = run.on_match == "update";
        self.chosen = chosen(run);
        self.report = Some(r);
        self.run = Some(run.clone());
        self
    }
}

/// The mapping step's rows, every header first set to "ignore".
fn map_rows(unknown: Vec<String>) -> Vec<MapRow> {
    unknown.into_iter().enumerate().map(|(index, header)| MapRow { index, header, chosen: String::new() }).collect()
}

fn chosen(run: &ImportRun) -> Vec<(usize, String, String)> {
    run.mapping.iter().enumerate().map(|(i, (h, f))| (i, h.clone(), f.clone())).collect()
}

/// Each refused cell as the user reads it: row, column name, value, reason.
fn error_rows(lang: Lang, kind: Kind, r: &Report) -> Vec<(usize, String, String, String)> {
    r.errors.iter().map(|e| (e.row, label(lang, kind, &e.column), e.value.clone(), reason(lang, &e.code))).collect()
}

/// A column's name as the user knows it.
fn label(lang: Lang, kind: Kind, field: &str) -> String {
    match (kind, field) {
        (Kind::Contacts, "name") => lang.t("field.contact_name"),
        (Kind::Contacts, "account_credit_code") => lang.t("field.credit_code"),
        _ => lang.msg("field", field),
    }
}

/// The rows a report lists.
fn listed_rows(r: &Report) -> usize {
    r.errors.iter().map(|e| e.row).collect::<std::collections::BTreeSet<_>>().len()
}

/// "Only the first N refused rows are listed; more errors are not shown", in the user's
/// language: an import stops at its limit of refused rows.
pub fn more_errors_text(lang: Lang, listed: usize) -> String {
    lang.t("import.more_errors").replace("{n}", &listed.to_string())
}

/// Why a row was refused, in the user's language (with the record or row it collides with).
pub fn reason(lang: Lang, code: &str) -> String {
    let mut parts = code.split(':');
    let base = parts.next().unwrap_or("");
    let mut why = lang.msg("invalid", base);
    if let Some(n) = parts.next() {
        why = match base {
            "duplicate_in_file" => format!("{why} ({} {n})", lang.t("import.row")),
            _ => format!("{why} (#{n})"),
        };
    }
    why
}

async fn page(State(s): State<AppState>, ui: UiCtx, kind: Kind) -> Response {
    if !crate::app::spreadsheets::import::may_import(&ui.ctx.caller) {
        return fail_page(&ui, DomainError::Forbidden);
    }
    render(&ImportPage::new(&s, &ui, kind).await)
}

fn flag(fields: &[(String, String)], k: &str) -> bool {
    fields.iter().any(|(n, v)| n == k && !v.trim().is_empty())
}

async fn upload(State(s): State<AppState>, ui: UiCtx, m: axum::extract::Multipart, kind: Kind) -> Response {
    let res = async {
        let parts = crate::web::api::customers::documents::read_multipart(m).await?;
        if !crate::web::auth::same_secret(parts.get("_csrf").unwrap_or(""), &ui.csrf) {
            return Err(DomainError::Csrf);
        }
        let store = &s.app.settings.files();
        let run = import_runs::upload(&s.app.db, &ui.ctx, store, kind, &parts.file_name, &parts.bytes).await?;
        let opts = Options {
            dry_run: parts.get("dry_run").is_some(),
            on_match: if parts.get("update_existing").is_some() { OnMatch::Update } else { OnMatch::Report },
            mapping: vec![],
            max_errors: s.app.settings.import_max_errors,
        };
        let (_, unknown) = import_runs::headers(&s.app.db, &ui.ctx.caller, store, run.id).await?;
        if !unknown.is_empty() {
            return Ok((run, None, opts, unknown));
        }
        let (run, report) = import_runs::execute(&s.app.db, &ui.ctx, store, run.id, &opts).await?;
        Ok((run, Some(report), opts, vec![]))
    }
    .await;
    match res {
        Ok((run, Some(report), _, _)) => report_page(&s, &ui, &run, report).await,
        Ok((run, None, opts, unknown)) => {
            let mut p = ImportPage::new(&s, &ui, kind).await;
            p.dry_run = opts.dry_run;
            p.update_existing = opts.on_match == OnMatch::Update;
            p.mapping = map_rows(unknown);
            p.run = Some(run);
            render(&p)
        }
        Err(e) => file_error(&s, &ui, kind, e).await,
    }
}

/// A file that cannot be read at all: the form again, with the reason in the user's language.
async fn file_error(s: &AppState, ui: &UiCtx, kind: Kind, e: DomainError) -> Response {
    match e {
        DomainError::Invalid(fs) => {
            let mut p = ImportPage::new(s, ui, kind).await;
            p.summary = fs
                .iter()
                .map(|f| format!("{}: {}", ui.lang.msg("field", &f.field), ui.lang.msg("invalid", f.code)))
                .collect::<Vec<_>>()
                .join("; ");
            p.report = Some(Report::default());
            let mut res = render(&p);
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            res
        }
        e => fail_page(ui, e),
    }
}

async fn report_page(s: &AppState, ui: &UiCtx, run: &ImportRun, report: Report) -> Response {
    let rejected = report.refused();
    let p = ImportPage::new(s, ui, run.kind).await.with_report(ui.lang, run, report);
    let mut res = render(&p);
    if rejected {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

async fn show(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>) -> Response {
    let res = async {
        let run = import_runs::get(&s.app.db, &ui.ctx.caller, id_of(&id)?).await?;
        let unknown = if run.report.is_none() && run.has_file {
            import_runs::headers(&s.app.db, &ui.ctx.caller, &s.app.settings.files(), run.id).await?.1
        } else {
            vec![]
        };
        Ok((run, unknown))
    }
    .await;
    match res {
        Ok((run, unknown)) => match run.report.clone() {
            Some(r) => {
                let p = ImportPage::new(&s, &ui, run.kind).await.with_report(ui.lang, &run, r);
                render(&p)
            }
            None => {
                let mut p = ImportPage::new(&s, &ui, run.kind).await;
                p.mapping = map_rows(unknown);
                p.run = Some(run);
                render(&p)
            }
        },
        Err(e) => fail_page(&ui, e),
    }
}

/// Runs the import of an uploaded file with the chosen mapping (`col_N` = header, `map_N` =
/// field or empty to ignore) and options.
async fn run(State(s): State<AppState>, Path(id): Path<String>, form: UiForm) -> Response {
    let ui = &form.ui;
    let f = &form.fields;
    let mut mapping = vec![];
    for (k, header) in f {
        if let Some(n) = k.strip_prefix("col_") {
            let field = f.iter().find(|(k2, _)| *k2 == format!("map_{n}")).map(|(_, v)| v.clone()).unwrap_or_default();
            mapping.push((header.clone(), field));
        }
    }
    let opts = Options {
        dry_run: flag(f, "dry_run"),
        on_match: if flag(f, "update_existing") { OnMatch::Update } else { OnMatch::Report },
        mapping,
        max_errors: s.app.settings.import_max_errors,
    };
    let res = async {
        let id = id_of(&id)?;
        import_runs::execute(&s.app.db, &ui.ctx, &s.app.settings.files(), id, &opts).await
    }
    .await;
    match res {
        Ok((run, report)) => report_page(&s, ui, &run, report).await,
        Err(DomainError::Invalid(fs)) if fs.iter().all(|x| x.field == "file") => {
            // The form of the file's kind (the run was found a moment ago).
            let run = async { import_runs::get(&s.app.db, &ui.ctx.caller, id_of(&id)?).await }.await;
            match run.page_data("import", "import run") {
                Ok(run) => file_error(&s, ui, run.kind, DomainError::Invalid(fs)).await,
                Err(e) => fail_page(ui, e),
            }
        }
        Err(e) => fail_page(ui, e),
    }
}

/// The refused rows as a spreadsheet, headers and reasons in the user's language.
async fn errors(State(s): State<AppState>, ui: UiCtx, Path(id): Path<String>, format: &str) -> Response {
    let res = async {
        let run = import_runs::get(&s.app.db, &ui.ctx.caller, id_of(&id)?).await?;
        let report = run.report.clone().unwrap_or_default();
        let l = ui.lang;
        let headers: Vec<String> =
            ["import.row", "import.column", "import.value", "import.reason"].iter().map(|k| l.t(k)).collect();
        let mut rows: Vec<Vec<String>> =
            error_rows(l, run.kind, &report).into_iter().map(|(r, c, v, why)| vec![r.to_string(), c, v, why]).collect();
        if report.errors_truncated {
            // The report stops at the import's limit of refused rows, and says so.
            rows.push(vec![String::new(), String::new(), String::new(), more_errors_text(l, listed_rows(&report))]);
        }
        let t = crate::app::spreadsheets::export::Table { keys: vec!["row", "column", "value", "reason"], rows };
        crate::web::api::table_download(&t, &headers, Some(format), &format!("import-{}-errors", run.id))
    }
    .await;
    res.unwrap_or_else(|e| fail_page(&ui, e))
}
