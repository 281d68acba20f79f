//! Role titles (docs/DOMAIN.md#8): what the company calls each role, read by anyone signed in,
//! set by the administrator (the same rules as the page `/admin/role-titles`).
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::people::role_titles;
use crate::domain::role::{title_slots, RoleTitles};
use crate::web::api::{Api, ApiResult, Op};
use crate::web::auth::ApiCtx;
use crate::web::i18n::default_title;
use crate::web::AppState;

pub fn routes(api: Api) -> Api {
    api.add(
        Op::get("/api/v1/role-titles", "The role titles in force, with the manual's defaults", "org").ok::<Titles>(200),
        get_titles,
    )
    .add(
        Op::put("/api/v1/role-titles", "Set the role titles (administrator; needs their version)", "org")
            .describe(
                "The whole list: a role left out, or given an empty text or its default, shows the manual's title. \
                 `branch_manager_region` is the title of a branch manager placed on a region.",
            )
            .body::<TitlesBody>()
            .ok::<Titles>(200)
            .errors(&[403, 409]),
        set_titles,
    )
}

/// The titles and the version to send back when changing them.
#[derive(Serialize, ToSchema)]
pub struct Titles {
    pub version: i64,
    pub items: Vec<TitleRow>,
}

/// One role's title: the company's (empty: the default is shown) and the manual's.
#[derive(Serialize, ToSchema)]
pub struct TitleRow {
    /// The role's code, or `branch_manager_region` (a branch manager placed on a region).
    pub slot: String,
    /// The title shown in Chinese and in English.
    pub zh: String,
    pub en: String,
    /// Whether the company set its own title.
    pub custom: bool,
    pub default_zh: String,
    pub default_en: String,
}

/// New titles, over the version read.
#[derive(Deserialize, ToSchema)]
pub struct TitlesBody {
    #[schema(required = true, nullable = false)]
    pub version: Option<i64>,
    #[schema(required = true, nullable = false)]
    pub titles: Option<Vec<TitleInput>>,
}

#[derive(Deserialize, ToSchema)]
pub struct TitleInput {
    #[schema(required = true, nullable = false)]
    pub slot: Option<String>,
    #[schema(max_length = 40)]
    pub zh: Option<String>,
    #[schema(max_length = 40)]
    pub en: Option<String>,
}

fn view(titles: &RoleTitles, version: i64) -> Titles {
    let items = title_slots()
        .into_iter()
        .map(|slot| {
            let (default_zh, default_en) = (default_title(slot, false), default_title(slot, true));
            TitleRow {
                slot: slot.to_string(),
                zh: titles.get(slot, false).map(str::to_string).unwrap_or_else(|| default_zh.clone()),
                en: titles.get(slot, true).map(str::to_string).unwrap_or_else(|| default_en.clone()),
                custom: titles.0.contains_key(slot),
                default_zh,
                default_en,
            }
        })
        .collect();
    Titles { version, items }
}

async fn get_titles(State(s): State<AppState>, _c: ApiCtx) -> ApiResult {
    let (titles, version) = role_titles::load(&s.app.db).await?;
    Ok(Json(view(&titles, version)).into_response())
}

async fn set_titles(State(s): State<AppState>, c: ApiCtx, b: crate::web::api::Typed<TitlesBody>) -> ApiResult {
    let typed: Vec<(String, String, String)> = b
        .typed
        .titles
        .iter()
        .flatten()
        .map(|t| {
            let text = |v: &Option<String>| v.clone().unwrap_or_default();
            (text(&t.slot), text(&t.zh), text(&t.en))
        })
        .collect();
    let version = b.typed.version.unwrap_or(-1);
    let titles = role_titles::save(&s.app.db, &c.ctx, &typed, default_title, version).await?;
    let (_, version) = role_titles::load(&s.app.db).await?;
    Ok(Json(view(&titles, version)).into_response())
}
