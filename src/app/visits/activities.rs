//! Visits and activities (docs/DOMAIN.md#5-visits): recording and planning contacts with an account, the
//! effective-visit rule, follow-ups after visits to key and target accounts, the weekly visit plan, the
//! week calendar, visit statistics against targets, and the development record of an account.
//!
//! An activity is seen by whoever sees its account, and by its owner. Its owner, or whoever
//! manages the owner, may change it. `local_day` and `week` are computed from the owner's time
//! zone (users.time_zone, Asia/Shanghai by default) whenever the time changes, so every count by
//! day and week is the owner's own calendar.
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use crate::app::customers::visibility::Probe;
use crate::app::records::files::{Area, Storage};
use crate::app::records::input::Input;
use crate::app::{clamp_limit, customers::accounts, records::audit, Caller, Ctx, Error, Page, Result};
use crate::db::codes::Flag;
use crate::db::sql::Sql;
use crate::db::{now, parse_ts, ts, Db, WriteTx};
use crate::domain::account::Attitude;
use crate::domain::activity::{self as act, CustomerAttitude, Facts, Kind, Outcome, Status, Targets};
use crate::domain::error::Errors;
use crate::domain::role::Reach;
use crate::domain::text;

/// The visit record's free text, where users write about the people they met (a contact's
/// erasure takes their name out of it, `customers::privacy`); each is also in [`FIELDS`].
pub const FREE_TEXT: &[&str] = &[
    "place",
    "participants",
    "objective",
    "materials",
    "talking_points",
    "customer_views",
    "problems",
    "next_steps",
    "summary",
];

/// Fields of the visit record a user fills in.
pub const FIELDS: &[&str] = &[
    "account_id",
    "opportunity_id",
    "kind",
    "status",
    "planned_at",
    "occurred_at",
    "ends_at",
    "place",
    "participants",
    "objective",
    "materials",
    "talking_points",
    "customer_views",
    "problems",
    "next_steps",
    "summary",
    "outcome",
    "customer_attitude",
    "purpose",
];
const SYSTEM_FIELDS: &[&str] =
    &["id", "owner", "effective", "local_day", "week", "follow_up_due", "followed_up_by", "created_at", "updated_at"];

/// Free-text answers and their length limits.
const TEXTS: &[(&str, usize)] = &[
    ("place", 200),
    ("participants", 500),
    ("objective", 1000),
    ("materials", 1000),
    ("talking_points", 4000),
    ("customer_views", 4000),
    ("problems", 4000),
    ("next_steps", 2000),
    ("summary", 4000),
];

/// The contacts met as given: (contact id, attitude code).
pub type MetInput = Vec<(i64, Option<String>)>;

/// A contact met and the attitude (supporter / neutral / opponent) the record noted.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct ContactMet {
    pub contact_id: i64,
    pub name: String,
    /// The contact's personal data was erased at their request: show "erased contact".
    pub erased: bool,
    /// The attitude noted at this activity.
    #[schema(value_type = Option<crate::domain::account::Attitude>)]
    pub attitude: Option<String>,
}

/// An activity: a visit, call, meeting or other contact with an account, done or planned.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, FromRow)]
pub struct ActivityView {
    pub id: i64,
    pub account_id: i64,
    pub account_name: String,
    pub opportunity_id: Option<i64>,
    pub opportunity_name: Option<String>,
    pub owner: String,
    pub owner_name: String,
    #[schema(value_type = crate::domain::activity::Kind)]
    pub kind: String,
    /// `done` or `planned` (inline: `Status` is also the account status's schema name).
    pub status: crate::domain::activity::Status,
    /// When a planned activity is to take place.
    #[schema(format = DateTime)]
    pub planned_at: Option<String>,
    /// When it took place (done activities).
    #[schema(format = DateTime)]
    pub occurred_at: Option<String>,
    #[schema(format = DateTime)]
    pub ends_at: Option<String>,
    /// The owner's local day and the Monday of its week.
    #[schema(format = Date)]
    pub local_day: String,
    #[schema(format = Date)]
    pub week: String,
    pub place: Option<String>,
    pub participants: Option<String>,
    pub objective: Option<String>,
    pub materials: Option<String>,
    pub talking_points: Option<String>,
    pub customer_views: Option<String>,
    pub problems: Option<String>,
    pub next_steps: Option<String>,
    pub summary: Option<String>,
    #[schema(value_type = crate::domain::activity::Outcome)]
    pub outcome: String,
    #[schema(value_type = Option<crate::domain::activity::CustomerAttitude>)]
    pub customer_attitude: Option<String>,
    /// What it was for, as the tiers' service standards count it: `executive_visit`,
    /// `technical_exchange`, or null (any done contact is a working contact).
    pub purpose: Option<String>,
    /// Derived: an effective visit by the rule of `domain::activity::is_effective`.
    #[sqlx(try_from = "Flag")]
    pub effective: bool,
    /// Derived: why it is not one (`domain::activity::why_not_effective`), empty when it is.
    #[schema(value_type = Vec<String>)]
    #[sqlx(skip)]
    pub why_not_effective: Vec<&'static str>,
    /// The local day by which a follow-up contact is due (done visits to key accounts).
    #[schema(format = Date)]
    pub follow_up_due: Option<String>,
    /// The later activity that answered the follow-up.
    pub followed_up_by: Option<i64>,
    /// The contacts met.
    #[sqlx(skip)]
    pub contacts: Vec<ContactMet>,
    /// Checked in (签到): a location was attached when the visit was recorded.
    #[sqlx(try_from = "Flag")]
    pub checked_in: bool,
    /// Where and when the visitor's browser placed them; null when not checked in.
    #[sqlx(skip)]
    pub check_in: Option<CheckIn>,
    /// The photo taken at the visit (`GET /api/v1/activities/{id}/photo`); null when none.
    #[sqlx(skip)]
    pub photo: Option<Photo>,
    /// When the check-in location and photo were deleted at the end of the company's retention
    /// period (`/api/v1/settings/check-in-retention`); null while kept.
    #[schema(format = DateTime)]
    pub check_in_purged_at: Option<String>,
    pub version: i64,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl ActivityView {
    /// The time shown in lists and the calendar: when it happened, else when it is planned.
    pub fn at(&self) -> &str {
        self.occurred_at.as_deref().or(self.planned_at.as_deref()).unwrap_or("")
    }
}

const SELECT: &str = "SELECT v.*, a.name AS account_name, o.name AS opportunity_name, u.username AS owner, \
    u.display_name AS owner_name FROM activities v JOIN accounts a ON a.id = v.account_id \
    JOIN users u ON u.id = v.owner_id LEFT JOIN opportunities o ON o.id = v.opportunity_id";

/// A visit's check-in (签到): the location the visitor's browser gave when it was recorded.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct CheckIn {
    /// Degrees north (WGS 84), −90…90, to six decimals.
    #[schema(minimum = -90, maximum = 90)]
    pub latitude: f64,
    /// Degrees east (WGS 84), −180…180, to six decimals.
    #[schema(minimum = -180, maximum = 180)]
    pub longitude: f64,
    /// The fix's accuracy in metres, as the browser reported it (rounded up); null when not given.
    #[schema(minimum = 0)]
    pub accuracy_m: Option<i64>,
    /// When the browser took the fix.
    #[schema(format = DateTime)]
    pub at: String,
}

/// The photo of a visit (its bytes at `GET /api/v1/activities/{id}/photo`).
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Photo {
    /// The type sniffed from the bytes: image/jpeg, image/png, image/webp or image/heif.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// SHA-256 of the bytes, hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub sha256: String,
    #[schema(format = DateTime)]
    pub uploaded_at: String,
}

/// The check-in fields of the form and (flattened from `check_in`) of the API.
pub const CHECK_IN_FIELDS: &[&str] = &["check_in.latitude", "check_in.longitude", "check_in.accuracy_m", "check_in.at"];

/// The largest photo accepted.
pub const PHOTO_MAX_BYTES: usize = 10 * 1024 * 1024;

/// The image types a visit photo may be, as sniffed from its bytes (HEIC is `image/heif`).
const PHOTO_TYPES: &[&str] = &["image/jpeg", "image/png", "image/webp", "image/heif"];

/// An activity read with [`SELECT`], and why it is not an effective visit.
fn view(r: &AnyRow) -> Result<ActivityView> {
    let mut v = ActivityView::from_row(r)?;
    if v.checked_in {
        let (lat, lon): (Option<i64>, Option<i64>) = (r.try_get("check_in_lat_e6")?, r.try_get("check_in_lon_e6")?);
        if let (Some(lat), Some(lon)) = (lat, lon) {
            v.check_in = Some(CheckIn {
                latitude: lat as f64 / 1e6,
                longitude: lon as f64 / 1e6,
                accuracy_m: r.try_get("check_in_accuracy_m")?,
                at: r.try_get::<Option<String>, _>("check_in_at")?.unwrap_or_default(),
            });
        }
    }
    if let Some(sha256) = r.try_get::<Option<String>, _>("photo_sha256")? {
        v.photo = Some(Photo {
            content_type: r.try_get::<Option<String>, _>("photo_type")?.unwrap_or_default(),
            size: r.try_get::<Option<i64>, _>("photo_size")?.unwrap_or(0),
            sha256,
            uploaded_at: r.try_get::<Option<String>, _>("photo_at")?.unwrap_or_default(),
        });
    }
    if let (Ok(kind), Ok(outcome)) = (Kind::parse(&v.kind), Outcome::parse(&v.outcome)) {
        v.why_not_effective = act::why_not_effective(Facts {
            kind,
            status: v.status,
            outcome,
            has_opportunity: v.opportunity_id.is_some(),
            names_problem: v.problems.is_some(),
        });
    }
    Ok(v)
}

/// The caller's scope over activities (alias `v`): those on accounts they see, and their own.
/// (`Probe::Row` for one activity, or the activities of one account.)
fn push_scope_as(s: &mut Sql, caller: &Caller, probe: Probe) {
    s.push(" AND v.deleted_at IS NULL AND a.deleted_at IS NULL");
    match caller.reach() {
        Reach::All => {}
        Reach::Nothing => {
            s.push(" AND v.owner_id = ").bind(caller.user_id);
        }
        Reach::Own | Reach::Reports | Reach::OrgSubtree => {
            s.push(" AND (");
            crate::app::customers::visibility::push_sees(s, caller.user_id, "v.account_id", probe);
            s.push(" OR v.owner_id = ").bind(caller.user_id).push(")");
        }
    }
}

/// A user's time zone (the default when unset or unknown).
pub async fn user_tz(conn: &mut sqlx::AnyConnection, user_id: i64) -> Result<Tz> {
    let tz: Option<String> = sqlx::query("SELECT time_zone FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(conn)
        .await?
        .map(|r| r.try_get("time_zone"))
        .transpose()?;
    Ok(tz.and_then(|t| act::parse_tz(&t).ok()).unwrap_or(chrono_tz::Asia::Shanghai))
}

/// An instant given as RFC 3339 (with an offset), or as a local date-time without one
/// (`2026-11-23T14:30`, what a browser's date-time field sends), read in the owner's zone.
fn parse_instant(v: &str, tz: Tz) -> std::result::Result<DateTime<Utc>, &'static str> {
    let v = v.trim();
    if let Some(t) = parse_ts(v) {
        return Ok(t);
    }
    for f in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(v, f) {
            return n.and_local_timezone(tz).earliest().map(|t| t.with_timezone(&Utc)).ok_or("time_format");
        }
    }
    Err("time_format")
}

/// The stored, editable state of an activity.
#[derive(Debug, Clone, PartialEq)]
struct Data {
    account_id: i64,
    opportunity_id: Option<i64>,
    kind: Kind,
    status: Status,
    planned_at: Option<DateTime<Utc>>,
    occurred_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
    texts: BTreeMap<&'static str, Option<String>>,
    outcome: Outcome,
    customer_attitude: Option<CustomerAttitude>,
    purpose: Option<&'static str>,
}

/// Reads the given fields into `d`, collecting every error; `contacts` (when given) must be
/// contacts of the account.
async fn apply(
    conn: &mut sqlx::AnyConnection,
    caller: &Caller,
    tz: Tz,
    d: &mut Data,
    inp: &Input,
    creating: bool,
) -> Result<()> {
    let mut e = Errors::default();
    let val = |k: &str| inp.get(k).flatten().map(str::trim).filter(|v| !v.is_empty());
    if creating {
        match val("account_id").map(str::parse::<i64>) {
            None => e.add("account_id", "required"),
            Some(Err(_)) => e.add("account_id", "expected_integer"),
            Some(Ok(id)) => d.account_id = id,
        }
    } else if inp.has("account_id") {
        e.add("account_id", "forbidden_field");
    }
    if inp.has("kind") || creating {
        match val("kind") {
            None => e.add("kind", "required"),
            Some(v) => {
                if let Some(k) = e.take("kind", Kind::parse(v)) {
                    d.kind = k;
                }
            }
        }
    }
    if inp.has("status") {
        match val("status") {
            None => e.add("status", "required"),
            Some(v) => {
                if let Some(s) = e.take("status", Status::parse(v)) {
                    d.status = s;
                }
            }
        }
    }
    for (k, slot) in
        [("planned_at", &mut d.planned_at), ("occurred_at", &mut d.occurred_at), ("ends_at", &mut d.ends_at)]
    {
        if inp.has(k) {
            *slot = match val(k) {
                None => None,
                Some(v) => e.take(k, parse_instant(v, tz)),
            };
        }
    }
    for (k, max) in TEXTS {
        if inp.has(k) {
            if let Some(v) = e.take(k, text::optional(inp.get(k).flatten(), *max)) {
                d.texts.insert(k, v);
            }
        }
    }
    if inp.has("outcome") {
        d.outcome = match val("outcome") {
            None => Outcome::None,
            Some(v) => e.take("outcome", Outcome::parse(v)).unwrap_or(Outcome::None),
        };
    }
    if inp.has("customer_attitude") {
        d.customer_attitude = match val("customer_attitude") {
            None => None,
            Some(v) => e.take("customer_attitude", CustomerAttitude::parse(v)),
        };
    }
    if inp.has("purpose") {
        d.purpose = match val("purpose") {
            None => None,
            Some(v) => match crate::domain::classify::PURPOSES.iter().find(|x| **x == v) {
                Some(p) => Some(*p),
                None => {
                    e.add("purpose", "invalid_choice");
                    None
                }
            },
        };
    }
    if inp.has("opportunity_id") {
        d.opportunity_id = match val("opportunity_id") {
            None => None,
            Some(v) => e.take("opportunity_id", v.parse::<i64>().map_err(|_| "expected_integer")),
        };
    }
    e.finish()?;
    // The record as a whole.
    let mut e = Errors::default();
    let now = Utc::now();
    match d.status {
        Status::Done => {
            let at = d.occurred_at.or(d.planned_at).unwrap_or(now);
            d.occurred_at = Some(at);
            // A record of what happened cannot lie ahead (a minute of clock skew allowed).
            if at > now + Duration::minutes(1) {
                e.add("occurred_at", "done_in_future");
            }
        }
        Status::Planned => {
            if d.planned_at.is_none() {
                e.add("planned_at", "required");
            }
            d.occurred_at = None;
        }
    }
    if let (Some(end), Some(start)) = (d.ends_at, d.occurred_at.or(d.planned_at)) {
        if end <= start {
            e.add("ends_at", "end_before_start");
        } else if end - start > Duration::hours(24) {
            e.add("ends_at", "too_long");
        }
    }
    let facts = facts(d);
    if let Some((field, code)) = act::outcome_gap(facts) {
        e.add(field, code);
    }
    e.finish()?;
    // What it refers to: an account the caller sees (else 404), an opportunity of that
    // account the caller sees (else 404 / 422).
    let mut s = Sql::new("SELECT a.id FROM accounts a WHERE a.id = ");
    s.bind(d.account_id);
    accounts::push_scope_one(&mut s, caller);
    if s.query().fetch_optional(&mut *conn).await?.is_none() {
        return Err(Error::NotFound);
    }
    if let Some(oid) = d.opportunity_id {
        let o = crate::app::funnel::opportunities::fetch_scoped(conn, caller, oid).await.map_err(|e| match e {
            Error::NotFound => Error::invalid("opportunity_id", "unknown_opportunity"),
            e => e,
        })?;
        if o.account_id != d.account_id {
            return Err(Error::invalid("opportunity_id", "opportunity_other_account"));
        }
    }
    Ok(())
}

/// A location as given for a check-in, validated.
#[derive(Debug, Clone, Copy)]
struct Loc {
    lat_e6: i64,
    lon_e6: i64,
    accuracy_m: Option<i64>,
    at: DateTime<Utc>,
}

/// Reads the check-in fields (`check_in.*`): none given (or all empty) is no check-in; else
/// latitude and longitude are required and in range, the accuracy ≥ 0, the fix not ahead.
fn read_check_in(inp: &Input, tz: Tz) -> Result<Option<Loc>> {
    let val = |k: &str| inp.get(k).flatten().map(str::trim).filter(|v| !v.is_empty());
    if CHECK_IN_FIELDS.iter().all(|k| val(k).is_none()) {
        return Ok(None);
    }
    let mut e = Errors::default();
    let mut num = |k: &str, lo: f64, hi: f64| -> Option<f64> {
        match val(k).map(str::parse::<f64>) {
            None => {
                e.add(k, "required");
                None
            }
            Some(Ok(x)) if x.is_finite() && x >= lo && x <= hi => Some(x),
            Some(Ok(x)) if x.is_finite() => {
                e.add(k, "out_of_range");
                None
            }
            Some(_) => {
                e.add(k, "expected_number");
                None
            }
        }
    };
    let lat = num("check_in.latitude", -90.0, 90.0);
    let lon = num("check_in.longitude", -180.0, 180.0);
    let accuracy = match val("check_in.accuracy_m") {
        None => None,
        Some(_) => num("check_in.accuracy_m", 0.0, 1e9).map(|a| a.ceil() as i64),
    };
    let at = match val("check_in.at") {
        None => Some(Utc::now()),
        Some(v) => e.take("check_in.at", parse_instant(v, tz)),
    };
    if at.is_some_and(|t| t > Utc::now() + Duration::minutes(1)) {
        e.add("check_in.at", "check_in_in_future");
    }
    e.finish()?;
    match (lat, lon, at) {
        (Some(lat), Some(lon), Some(at)) => Ok(Some(Loc {
            lat_e6: (lat * 1e6).round() as i64,
            lon_e6: (lon * 1e6).round() as i64,
            accuracy_m: accuracy,
            at,
        })),
        _ => Ok(None),
    }
}

/// Stores a check-in on an activity that has none (set once; never changed afterwards).
async fn write_check_in(tx: &mut WriteTx, id: i64, l: &Loc) -> Result<()> {
    sqlx::query(
        "UPDATE activities SET checked_in = 1, check_in_lat_e6 = $1, check_in_lon_e6 = $2, check_in_accuracy_m = $3, \
         check_in_at = $4 WHERE id = $5 AND checked_in = 0",
    )
    .bind(l.lat_e6)
    .bind(l.lon_e6)
    .bind(l.accuracy_m)
    .bind(ts(l.at))
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A photo's bytes checked and kept under the data directory (by SHA-256), before the
/// transaction that attaches it to a visit.
#[derive(Debug, Clone)]
pub struct StoredPhoto {
    pub sha256: String,
    pub content_type: &'static str,
    pub size: i64,
}

/// Checks a photo (not empty, at most [`PHOTO_MAX_BYTES`], an image by its bytes: JPEG, PNG,
/// WebP or HEIC) and keeps it (`photos/`, by its hash). Nothing is recorded yet.
pub async fn store_photo(db: &Db, store: &Storage, bytes: &[u8]) -> Result<StoredPhoto> {
    if bytes.is_empty() {
        return Err(Error::invalid("photo", "file_empty"));
    }
    if bytes.len() > PHOTO_MAX_BYTES {
        return Err(Error::invalid("photo", "photo_too_large"));
    }
    let sniffed = infer::get(bytes).map(|t| t.mime_type()).unwrap_or("");
    let content_type =
        *PHOTO_TYPES.iter().find(|t| **t == sniffed).ok_or_else(|| Error::invalid("photo", "photo_not_image"))?;
    let sha256 = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(bytes))
    };
    // Whole or not at all (see `records::files`).
    store.put(&mut *db.pool.acquire().await?, Area::Photos, &sha256, bytes).await?;
    Ok(StoredPhoto { sha256, content_type, size: bytes.len() as i64 })
}

/// Attaches a stored photo to a visit, inside the caller's transaction: only its owner, only
/// to a done face-to-face visit, once.
pub async fn attach_photo_in(tx: &mut WriteTx, ctx: &Ctx, id: i64, p: &StoredPhoto) -> Result<ActivityView> {
    let before = load(tx.conn(), Some(&ctx.caller), id).await?;
    let owner_id = owner_of(tx.conn(), id).await?;
    if owner_id != ctx.caller.user_id {
        return Err(Error::invalid("photo", "check_in_not_owner"));
    }
    let face_to_face = Kind::parse(&before.kind).is_ok_and(Kind::face_to_face);
    if before.status != Status::Done || !face_to_face {
        return Err(Error::invalid("photo", "check_in_not_visit"));
    }
    let n = sqlx::query(
        "UPDATE activities SET photo_sha256 = $1, photo_type = $2, photo_size = $3, photo_at = $4, \
         version = version + 1, updated_at = $4 WHERE id = $5 AND photo_sha256 IS NULL",
    )
    .bind(p.sha256.clone())
    .bind(p.content_type)
    .bind(p.size)
    .bind(now())
    .bind(id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if n != 1 {
        return Err(Error::invalid("photo", "photo_once"));
    }
    let after = load(tx.conn(), None, id).await?;
    let photo = serde_json::json!({"photo": after.photo});
    audit::record(
        tx,
        ctx,
        "activity",
        &id.to_string(),
        "photo",
        Some(&serde_json::json!({"photo": null})),
        Some(&photo),
    )
    .await?;
    Ok(after)
}

/// Attaches a photo to a visit (the API's upload): checked, stored, recorded in one go.
pub async fn attach_photo(db: &Db, ctx: &Ctx, store: &Storage, id: i64, bytes: &[u8]) -> Result<ActivityView> {
    // The visit first: one the caller does not see is 404 whatever the file.
    get(db, &ctx.caller, id).await?;
    let p = store_photo(db, store, bytes).await?;
    let mut tx = db.begin().await?;
    let v = attach_photo_in(&mut tx, ctx, id, &p).await?;
    tx.commit().await?;
    Ok(v)
}

/// A visit's photo and its bytes, for a caller who sees the visit (else 404, as when none).
pub async fn photo(db: &Db, caller: &Caller, store: &Storage, id: i64) -> Result<(Photo, Vec<u8>)> {
    let v = get(db, caller, id).await?;
    let p = v.photo.ok_or(Error::NotFound)?;
    let bytes = store
        .get(&mut *db.pool.acquire().await?, Area::Photos, &p.sha256)
        .await
        .map_err(|e| anyhow::anyhow!("reading photo of {id}: {e:#}"))?;
    Ok((p, bytes))
}

fn facts(d: &Data) -> Facts {
    Facts {
        kind: d.kind,
        status: d.status,
        outcome: d.outcome,
        has_opportunity: d.opportunity_id.is_some(),
        names_problem: d.texts.get("problems").is_some_and(|p| p.is_some()),
    }
}

/// Checks the contacts met: each a live contact of the account; attitudes by the contact codes.
async fn check_contacts(
    conn: &mut sqlx::AnyConnection,
    account_id: i64,
    met: &[(i64, Option<String>)],
) -> Result<Vec<(i64, Option<Attitude>)>> {
    let mut e = Errors::default();
    let mut out = vec![];
    for (id, att) in met {
        let ok = sqlx::query("SELECT id FROM contacts WHERE id = $1 AND account_id = $2 AND deleted_at IS NULL")
            .bind(*id)
            .bind(account_id)
            .fetch_optional(&mut *conn)
            .await?
            .is_some();
        if !ok {
            e.add("contacts", "contact_other_account");
            continue;
        }
        let a = match att.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => e.take("contacts", Attitude::parse(v)),
        };
        if out.iter().any(|(x, _)| x == id) {
            e.add("contacts", "duplicate_contact");
        }
        out.push((*id, a));
    }
    e.finish()?;
    Ok(out)
}

/// Writes the contacts met; a noted attitude that differs from the contact's becomes a change
/// of the contact (its own audit row), so the relationship map's history shows it.
/// `fresh`: the activity was inserted in this transaction (no earlier contacts to replace).
async fn write_contacts(
    tx: &mut WriteTx,
    ctx: &Ctx,
    id: i64,
    met: &[(i64, Option<Attitude>)],
    fresh: bool,
) -> Result<()> {
    if !fresh {
        sqlx::query("DELETE FROM activity_contacts WHERE activity_id = $1").bind(id).execute(tx.conn()).await?;
    }
    for (cid, att) in met {
        sqlx::query("INSERT INTO activity_contacts (activity_id, contact_id, attitude) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(*cid)
            .bind(att.map(|a| a.code()))
            .execute(tx.conn())
            .await?;
        if let Some(a) = att {
            let current: Option<String> = sqlx::query("SELECT attitude FROM contacts WHERE id = $1")
                .bind(*cid)
                .fetch_one(tx.conn())
                .await?
                .try_get("attitude")?;
            if current.as_deref() != Some(a.code()) {
                let inp = Input::from_pairs(&[("attitude", Some(a.code()))]);
                crate::app::customers::contacts::update_in(tx, ctx, *cid, &inp, None).await?;
            }
        }
    }
    Ok(())
}

async fn targets_for(conn: &mut sqlx::AnyConnection, sales_type: Option<&str>) -> Result<Targets> {
    let t = Targets::default();
    let Some(st) = sales_type else { return Ok(t) };
    Ok(
        match sqlx::query("SELECT * FROM activity_targets WHERE sales_type = $1").bind(st).fetch_optional(conn).await? {
            None => t,
            Some(r) => Targets {
                weekly_effective: r.try_get("weekly_effective")?,
                daily_effective: r.try_get("daily_effective")?,
                daily_calls: r.try_get("daily_calls")?,
                follow_up_days: r.try_get("follow_up_days")?,
            },
        },
    )
}

/// Writes the derived columns (local day, week, effective, follow-up due) and answers earlier
/// follow-ups of the account when this is a done contact.
/// `account_status`: the status of the activity's account, read by the caller in this
/// transaction.
async fn derive(tx: &mut WriteTx, id: i64, owner_id: i64, tz: Tz, d: &Data, account_status: &str) -> Result<()> {
    // Coverage reads the account's latest done activity.
    crate::app::customers::derived::refresh(tx, d.account_id, "", crate::app::customers::derived::Change::Activity)
        .await?;
    let at = d.occurred_at.or(d.planned_at).unwrap_or_else(Utc::now);
    let day = act::local_day(at, tz);
    let effective = act::is_effective(facts(d));
    // A face-to-face visit to a key account or a target account (prospect, candidate) asks for
    // a follow-up within the configured days.
    let follow_up = if d.status == Status::Done && d.kind.face_to_face() && act::asks_follow_up(account_status) {
        let st: Option<String> = sqlx::query("SELECT sales_type FROM users WHERE id = $1")
            .bind(owner_id)
            .fetch_one(tx.conn())
            .await?
            .try_get("sales_type")?;
        let days = targets_for(tx.conn(), st.as_deref()).await?.follow_up_days;
        Some((day + Duration::days(days)).format("%Y-%m-%d").to_string())
    } else {
        None
    };
    // The due day follows the visit's own day; whether and by what it is answered is decided
    // again below, from the calendar.
    // (No longer asking for one: nothing answers it either.)
    let answered = if follow_up.is_some() { "followed_up_by" } else { "NULL" };
    sqlx::query(&format!(
        "UPDATE activities SET local_day = $1, week = $2, effective = $3, follow_up_due = $4, \
         followed_up_by = {answered} WHERE id = $5"
    ))
    .bind(day.format("%Y-%m-%d").to_string())
    .bind(act::monday(day).format("%Y-%m-%d").to_string())
    .bind(effective as i64)
    .bind(follow_up.clone())
    .bind(id)
    .execute(tx.conn())
    .await?;
    let answers = (d.status == Status::Done).then(|| d.occurred_at.map(ts)).flatten();
    relink_follow_ups(tx, d.account_id, id, answers.as_deref()).await
}

/// Keeps `followed_up_by` in agreement with the calendar after activity `x` of the account was
/// written or deleted: a visit waiting for a follow-up is answered by the first done contact on
/// the account *after* it (by `occurred_at`, then id), and by nothing else.
/// `x_done_at`: when `x` took place, if it is now a live done contact (else `None`).
/// Recomputed: `x` itself, the visits `x` answered (its old place), the visits still waiting;
/// and, when `x` is a done contact, the visits before it that a later contact answered (`x` comes
/// first now).
async fn relink_follow_ups(tx: &mut WriteTx, account_id: i64, x: i64, x_done_at: Option<&str>) -> Result<()> {
    const FIRST_AFTER: &str = "(SELECT l.id FROM activities l WHERE l.account_id = activities.account_id \
         AND l.status = 'done' AND l.deleted_at IS NULL AND l.occurred_at > activities.occurred_at \
         ORDER BY l.occurred_at, l.id LIMIT 1)";
    sqlx::query(&format!(
        "UPDATE activities SET followed_up_by = {FIRST_AFTER} WHERE account_id = $1 AND follow_up_due IS NOT NULL \
         AND deleted_at IS NULL AND (followed_up_by IS NULL OR followed_up_by = $2 OR id = $2)"
    ))
    .bind(account_id)
    .bind(x)
    .execute(tx.conn())
    .await?;
    if let Some(at) = x_done_at {
        // Answered by a contact later than `x`: `x` is the first one after them now.
        sqlx::query(
            "UPDATE activities SET followed_up_by = $1 WHERE account_id = $2 AND id <> $1 \
             AND follow_up_due IS NOT NULL AND deleted_at IS NULL AND occurred_at < $3 \
             AND followed_up_by IN (SELECT l.id FROM activities l WHERE l.account_id = $2 \
             AND (l.occurred_at > $3 OR (l.occurred_at = $3 AND l.id > $1)))",
        )
        .bind(x)
        .bind(account_id)
        .bind(at)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

fn o_ts(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(ts)
}

/// Records or plans an activity for the caller. `contacts`: the contacts met, with the attitude
/// noted for each (None: none given).
pub async fn create(
    db: &Db,
    ctx: &Ctx,
    inp: &Input,
    contacts: Option<&[(i64, Option<String>)]>,
) -> Result<ActivityView> {
    let mut tx = db.begin().await?;
    let after = create_in(&mut tx, ctx, inp, contacts).await?;
    tx.commit().await?;
    Ok(after)
}

/// Records an activity inside the caller's transaction (the UI's form, saved once per token).
pub async fn create_in(
    tx: &mut WriteTx,
    ctx: &Ctx,
    inp: &Input,
    contacts: Option<&[(i64, Option<String>)]>,
) -> Result<ActivityView> {
    let caller = &ctx.caller;
    inp.refuse_version()?;
    let known: Vec<&str> = FIELDS.iter().chain(SYSTEM_FIELDS).chain(CHECK_IN_FIELDS).copied().collect();
    let allowed: Vec<&str> = FIELDS.iter().chain(CHECK_IN_FIELDS).copied().collect();
    inp.check_keys(&allowed, &known)?;
    let tz = user_tz(tx.conn(), caller.user_id).await?;
    let check_in = read_check_in(inp, tz)?;
    let mut d = Data {
        account_id: 0,
        opportunity_id: None,
        kind: Kind::Visit,
        status: Status::Done,
        planned_at: None,
        occurred_at: None,
        ends_at: None,
        texts: BTreeMap::new(),
        outcome: Outcome::None,
        customer_attitude: None,
        purpose: None,
    };
    apply(tx.conn(), caller, tz, &mut d, inp, true).await?;
    if check_in.is_some() && !(d.status == Status::Done && d.kind.face_to_face()) {
        return Err(Error::invalid("check_in", "check_in_not_visit"));
    }
    let met = check_contacts(tx.conn(), d.account_id, contacts.unwrap_or(&[])).await?;
    // The account row first and for update (the write keeps its latest activity): two visits
    // to one account that both took a share lock and then updated it would deadlock.
    crate::app::customers::derived::lock(tx, d.account_id).await?;
    let account_status = accounts::hold_live(tx, d.account_id).await?;
    let ts_now = now();
    let mut s = Sql::new(
        "INSERT INTO activities (account_id, opportunity_id, owner_id, kind, status, planned_at, occurred_at, ends_at, \
         local_day, week, outcome, customer_attitude, purpose, version, created_at, updated_at",
    );
    for (k, _) in TEXTS {
        s.push(", ").push(k);
    }
    s.push(") VALUES (").bind(d.account_id).push(", ").bind(d.opportunity_id).push(", ").bind(caller.user_id);
    s.push(", ").bind(d.kind.code()).push(", ").bind(d.status.code());
    s.push(", ").bind(o_ts(d.planned_at)).push(", ").bind(o_ts(d.occurred_at)).push(", ").bind(o_ts(d.ends_at));
    s.push(", '', '', ").bind(d.outcome.code()).push(", ").bind(d.customer_attitude.map(|a| a.code()));
    s.push(", ").bind(d.purpose);
    s.push(", 1, ").bind(ts_now.clone()).push(", ").bind(ts_now);
    for (k, _) in TEXTS {
        s.push(", ").bind(d.texts.get(k).cloned().flatten());
    }
    s.push(") RETURNING id");
    let id: i64 = s.query().fetch_one(tx.conn()).await?.try_get("id")?;
    derive(tx, id, caller.user_id, tz, &d, &account_status).await?;
    write_contacts(tx, ctx, id, &met, true).await?;
    if let Some(l) = &check_in {
        write_check_in(tx, id, l).await?;
    }
    let after = load(tx.conn(), None, id).await?;
    audit::record(tx, ctx, "activity", &id.to_string(), "create", None, Some(&j(&after))).await?;
    Ok(after)
}

fn j(v: &ActivityView) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

async fn load(conn: &mut sqlx::AnyConnection, caller: Option<&Caller>, id: i64) -> Result<ActivityView> {
    let mut s = Sql::new(SELECT);
    s.push(" WHERE v.id = ").bind(id);
    match caller {
        Some(c) => push_scope_as(&mut s, c, Probe::Row),
        None => {
            s.push(" AND v.deleted_at IS NULL");
        }
    }
    let r = s.query().fetch_optional(&mut *conn).await?.ok_or(Error::NotFound)?;
    let mut v = view(&r)?;
    v.contacts = sqlx::query(
        "SELECT c.id, c.name, c.erased_at, x.attitude FROM activity_contacts x JOIN contacts c ON c.id = x.contact_id \
         WHERE x.activity_id = $1 ORDER BY c.name",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(ContactMet {
            contact_id: r.try_get("id")?,
            name: r.try_get("name")?,
            erased: r.try_get::<Option<String>, _>("erased_at")?.is_some(),
            attitude: r.try_get("attitude")?,
        })
    })
    .collect::<Result<_>>()?;
    Ok(v)
}

pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<ActivityView> {
    let mut conn = db.pool.acquire().await?;
    load(&mut conn, Some(caller), id).await
}

/// Whether the caller may change the activity: its owner, or whoever manages the owner.
async fn may_edit(conn: &mut sqlx::AnyConnection, caller: &Caller, owner_id: i64) -> Result<bool> {
    Ok(caller.user_id == owner_id || crate::app::people::team::manages_person(conn, caller, owner_id).await?)
}

/// Whether the caller may change the activity (the rule [`update`] and [`delete`] enforce),
/// for pages to offer the edit only to those who may.
pub async fn may_change(db: &Db, caller: &Caller, id: i64) -> Result<bool> {
    let mut conn = db.pool.acquire().await?;
    let owner = owner_of(&mut conn, id).await?;
    may_edit(&mut conn, caller, owner).await
}

async fn owner_of(conn: &mut sqlx::AnyConnection, id: i64) -> Result<i64> {
    Ok(sqlx::query("SELECT owner_id FROM activities WHERE id = $1")
        .bind(id)
        .fetch_one(conn)
        .await?
        .try_get("owner_id")?)
}

/// Changes an activity (`version` required): completes a planned visit, corrects a record.
pub async fn update(
    db: &Db,
    ctx: &Ctx,
    id: i64,
    inp: &Input,
    contacts: Option<&[(i64, Option<String>)]>,
) -> Result<ActivityView> {
    update_with_photo(db, ctx, id, inp, contacts, None).await
}

/// Changes an activity and, when given, attaches the photo taken at it (the form that
/// completes a planned visit), in one transaction.
pub async fn update_with_photo(
    db: &Db,
    ctx: &Ctx,
    id: i64,
    inp: &Input,
    contacts: Option<&[(i64, Option<String>)]>,
    photo: Option<&StoredPhoto>,
) -> Result<ActivityView> {
    let mut tx = db.begin().await?;
    let mut after = update_in(&mut tx, ctx, id, inp, contacts).await?;
    if let Some(p) = photo {
        after = attach_photo_in(&mut tx, ctx, id, p).await?;
    }
    tx.commit().await?;
    Ok(after)
}

async fn update_in(
    tx: &mut WriteTx,
    ctx: &Ctx,
    id: i64,
    inp: &Input,
    contacts: Option<&[(i64, Option<String>)]>,
) -> Result<ActivityView> {
    let caller = &ctx.caller;
    let version = inp.version.ok_or_else(|| Error::invalid("version", "required"))?;
    let known: Vec<&str> = FIELDS.iter().chain(SYSTEM_FIELDS).chain(CHECK_IN_FIELDS).copied().collect();
    let allowed: Vec<&str> = FIELDS.iter().chain(CHECK_IN_FIELDS).copied().collect();
    let before = load(tx.conn(), Some(caller), id).await?;
    // The account before the activity, as every writer of its activities locks them.
    crate::app::customers::derived::lock(tx, before.account_id).await?;
    let owner_id = owner_of(tx.conn(), id).await?;
    if !may_edit(tx.conn(), caller, owner_id).await? {
        return Err(Error::Forbidden);
    }
    inp.check_keys(&allowed, &known)?;
    if version != before.version {
        return Err(Error::StaleVersion { current: before.version });
    }
    let tz = user_tz(tx.conn(), owner_id).await?;
    let mut d = Data {
        account_id: before.account_id,
        opportunity_id: before.opportunity_id,
        kind: Kind::parse(&before.kind).unwrap_or(Kind::Other),
        status: before.status,
        planned_at: before.planned_at.as_deref().and_then(parse_ts),
        occurred_at: before.occurred_at.as_deref().and_then(parse_ts),
        ends_at: before.ends_at.as_deref().and_then(parse_ts),
        texts: TEXTS
            .iter()
            .map(|(k, _)| {
                let v = match *k {
                    "place" => &before.place,
                    "participants" => &before.participants,
                    "objective" => &before.objective,
                    "materials" => &before.materials,
                    "talking_points" => &before.talking_points,
                    "customer_views" => &before.customer_views,
                    "problems" => &before.problems,
                    "next_steps" => &before.next_steps,
                    _ => &before.summary,
                };
                (*k, v.clone())
            })
            .collect(),
        outcome: Outcome::parse(&before.outcome).unwrap_or(Outcome::None),
        customer_attitude: before.customer_attitude.as_deref().and_then(|a| CustomerAttitude::parse(a).ok()),
        purpose: before
            .purpose
            .as_deref()
            .and_then(|p| crate::domain::classify::PURPOSES.iter().find(|x| **x == p).copied()),
    };
    let check_in = read_check_in(inp, tz)?;
    let stored = d.clone();
    apply(tx.conn(), caller, tz, &mut d, inp, false).await?;
    if d == stored && check_in.is_none() && contacts.is_none() {
        // Nothing to change: no new version, no audit row.
        return Ok(before);
    }
    // The location is set once: when the visit is recorded done, or when a planned one is
    // completed, by the visitor; never changed afterwards.
    if check_in.is_some() {
        if before.checked_in || before.status == Status::Done {
            return Err(Error::invalid("check_in", "check_in_once"));
        }
        if owner_id != caller.user_id {
            return Err(Error::invalid("check_in", "check_in_not_owner"));
        }
        if !(d.status == Status::Done && d.kind.face_to_face()) {
            return Err(Error::invalid("check_in", "check_in_not_visit"));
        }
    }
    let met = match contacts {
        Some(c) => Some(check_contacts(tx.conn(), d.account_id, c).await?),
        None => None,
    };
    let mut s = Sql::new("UPDATE activities SET opportunity_id = ");
    s.bind(d.opportunity_id).push(", kind = ").bind(d.kind.code()).push(", status = ").bind(d.status.code());
    s.push(", planned_at = ").bind(o_ts(d.planned_at)).push(", occurred_at = ").bind(o_ts(d.occurred_at));
    s.push(", ends_at = ").bind(o_ts(d.ends_at)).push(", outcome = ").bind(d.outcome.code());
    s.push(", customer_attitude = ").bind(d.customer_attitude.map(|a| a.code()));
    s.push(", purpose = ").bind(d.purpose);
    for (k, _) in TEXTS {
        s.push(&format!(", {k} = ")).bind(d.texts.get(k).cloned().flatten());
    }
    s.push(", version = version + 1, updated_at = ").bind(now());
    s.push(" WHERE id = ").bind(id).push(" AND version = ").bind(version);
    if s.query().execute(tx.conn()).await?.rows_affected() != 1 {
        return Err(Error::StaleVersion { current: before.version });
    }
    let account_status: String = sqlx::query("SELECT status FROM accounts WHERE id = $1")
        .bind(d.account_id)
        .fetch_one(tx.conn())
        .await?
        .try_get("status")?;
    derive(tx, id, owner_id, tz, &d, &account_status).await?;
    if let Some(met) = met {
        write_contacts(tx, ctx, id, &met, false).await?;
    }
    if let Some(l) = &check_in {
        write_check_in(tx, id, l).await?;
    }
    let after = load(tx.conn(), None, id).await?;
    audit::record(tx, ctx, "activity", &id.to_string(), "update", Some(&j(&before)), Some(&j(&after))).await?;
    Ok(after)
}

/// Removes an activity (kept with its history; it leaves every list and count).
pub async fn delete(db: &Db, ctx: &Ctx, id: i64, version: Option<i64>) -> Result<()> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let before = load(tx.conn(), Some(caller), id).await?;
    // The account before the activity, as every writer of its activities locks them.
    crate::app::customers::derived::lock(&mut tx, before.account_id).await?;
    let owner_id = owner_of(tx.conn(), id).await?;
    if !may_edit(tx.conn(), caller, owner_id).await? {
        return Err(Error::Forbidden);
    }
    if version.is_some_and(|v| v != before.version) {
        return Err(Error::StaleVersion { current: before.version });
    }
    sqlx::query("UPDATE activities SET deleted_at = $1, version = version + 1 WHERE id = $2")
        .bind(now())
        .bind(id)
        .execute(tx.conn())
        .await?;
    // Follow-ups it answered go to the next later contact on the account, or are open again.
    relink_follow_ups(&mut tx, before.account_id, id, None).await?;
    let change = crate::app::customers::derived::Change::Activity;
    crate::app::customers::derived::refresh(&mut tx, before.account_id, &ctx.caller.username, change).await?;
    audit::record(&mut tx, ctx, "activity", &id.to_string(), "delete", Some(&j(&before)), None).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub owner: Option<String>,
    pub account_id: Option<i64>,
    pub opportunity_id: Option<i64>,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub effective: Option<bool>,
    /// Checked-in visits only (true), or those not checked in (false).
    pub checked_in: Option<bool>,
    /// Local days, inclusive.
    pub from: Option<String>,
    pub to: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

fn parse_day(field: &str, v: &str) -> Result<String> {
    NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
        .map(|d| d.format("%Y-%m-%d").to_string())
        .map_err(|_| Error::invalid(field, "date_format"))
}

/// Activities in scope, newest first (by local day, then id); cursor `day~id`.
pub async fn list(db: &Db, caller: &Caller, f: &Filter) -> Result<Page<ActivityView>> {
    let limit = clamp_limit(f.limit)?;
    let mut s = Sql::new(SELECT);
    s.push(" WHERE 1 = 1");
    // The activities of one account (its page): each row's account is probed, not the set.
    push_scope_as(&mut s, caller, if f.account_id.is_some() { Probe::Row } else { Probe::Set });
    let mut e = Errors::default();
    // A username, at most 100 characters as the document says (longer is no one's: 422).
    if let Some(o) = e.take("owner", text::optional(f.owner.as_deref(), 100)).flatten() {
        s.push(" AND u.username = ").bind(o);
    }
    if let Some(a) = f.account_id {
        s.push(" AND v.account_id = ").bind(a);
    }
    if let Some(o) = f.opportunity_id {
        s.push(" AND v.opportunity_id = ").bind(o);
    }
    if let Some(k) = f.kind.as_deref().filter(|v| !v.is_empty()) {
        if let Some(k) = e.take("kind", Kind::parse(k)) {
            s.push(" AND v.kind = ").bind(k.code());
        }
    }
    if let Some(st) = f.status.as_deref().filter(|v| !v.is_empty()) {
        if let Some(st) = e.take("status", Status::parse(st)) {
            s.push(" AND v.status = ").bind(st.code());
        }
    }
    if let Some(eff) = f.effective {
        s.push(" AND v.effective = ").bind(eff as i64);
    }
    if let Some(c) = f.checked_in {
        s.push(" AND v.checked_in = ").bind(c as i64);
    }
    e.finish()?;
    if let Some(d) = f.from.as_deref().filter(|v| !v.is_empty()) {
        s.push(" AND v.local_day >= ").bind(parse_day("from", d)?);
    }
    if let Some(d) = f.to.as_deref().filter(|v| !v.is_empty()) {
        s.push(" AND v.local_day <= ").bind(parse_day("to", d)?);
    }
    if let Some(c) = &f.cursor {
        let bad = || Error::invalid("cursor", "invalid_cursor");
        let (day, id) = c.rsplit_once('~').ok_or_else(bad)?;
        let id: i64 = id.parse().map_err(|_| bad())?;
        s.push(" AND (v.local_day < ").bind(day.to_string()).push(" OR (v.local_day = ").bind(day.to_string());
        s.push(" AND v.id < ").bind(id).push("))");
    }
    s.push(" ORDER BY v.local_day DESC, v.id DESC LIMIT ").bind(limit + 1);
    let rows = s.query().fetch_all(&db.pool).await?;
    let mut items: Vec<ActivityView> = rows.iter().take(limit as usize).map(view).collect::<Result<_>>()?;
    let next_cursor =
        if rows.len() as i64 > limit { items.last().map(|v| format!("{}~{}", v.local_day, v.id)) } else { None };
    let mut conn = db.pool.acquire().await?;
    fill_contacts(&mut conn, &mut items).await?;
    Ok(Page { items, next_cursor })
}

async fn fill_contacts(conn: &mut sqlx::AnyConnection, items: &mut [ActivityView]) -> Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = items.iter().map(|v| v.id).collect();
    let mut s = Sql::new(
        "SELECT x.activity_id, c.id, c.name, c.erased_at, x.attitude FROM activity_contacts x JOIN contacts c ON c.id = x.contact_id \
         WHERE x.activity_id IN (",
    );
    s.bind_list(&ids).push(") ORDER BY c.name");
    let mut by: HashMap<i64, Vec<ContactMet>> = HashMap::new();
    for r in s.query().fetch_all(&mut *conn).await? {
        by.entry(r.try_get("activity_id")?).or_default().push(ContactMet {
            contact_id: r.try_get("id")?,
            name: r.try_get("name")?,
            erased: r.try_get::<Option<String>, _>("erased_at")?.is_some(),
            attitude: r.try_get("attitude")?,
        });
    }
    for v in items {
        v.contacts = by.remove(&v.id).unwrap_or_default();
    }
    Ok(())
}

/// The people whose visits the caller follows: themselves and everyone they manage.
#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub sales_type: Option<String>,
    pub manager_id: Option<i64>,
    pub org_path: String,
    pub time_zone: Tz,
}

async fn people(conn: &mut sqlx::AnyConnection, caller: &Caller) -> Result<Vec<Person>> {
    let ids: Vec<i64> =
        crate::app::people::team::people_in_scope(conn, caller).await?.into_iter().map(|p| p.2).collect();
    let mut s = Sql::new(
        "SELECT u.id, u.username, u.display_name, u.sales_type, u.manager_id, u.time_zone, o.path \
         FROM users u JOIN org_units o ON o.id = u.org_unit_id WHERE u.id IN (",
    );
    let mut with_self = ids.clone();
    if !with_self.contains(&caller.user_id) {
        with_self.push(caller.user_id);
    }
    s.bind_list(&with_self).push(") ORDER BY u.username");
    s.query()
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(Person {
                id: r.try_get("id")?,
                username: r.try_get("username")?,
                name: r.try_get("display_name")?,
                sales_type: r.try_get("sales_type")?,
                manager_id: r.try_get("manager_id")?,
                org_path: r.try_get("path")?,
                time_zone: act::parse_tz(&r.try_get::<String, _>("time_zone")?).unwrap_or(chrono_tz::Asia::Shanghai),
            })
        })
        .collect()
}

fn week_of(v: Option<&str>, tz: Tz) -> Result<NaiveDate> {
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(act::monday(act::local_day(Utc::now(), tz))),
        Some(v) => Ok(act::monday(
            NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| Error::invalid("week", "date_format"))?,
        )),
    }
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// One day's counts.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct DayCount {
    #[schema(format = Date)]
    pub day: String,
    pub done: i64,
    pub effective: i64,
    pub calls: i64,
    /// A working day (Monday–Friday) that has begun, below the person's daily target.
    pub below_target: bool,
}

/// One person's week against their targets.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonWeek {
    pub username: String,
    pub name: String,
    #[schema(value_type = Option<crate::domain::role::SalesType>)]
    pub sales_type: Option<String>,
    pub days: Vec<DayCount>,
    pub done: i64,
    pub effective: i64,
    pub calls: i64,
    /// Visits planned for the week, and how many of them were done.
    pub planned: i64,
    pub planned_done: i64,
    /// Done face-to-face visits (visits and meetings), and of them those checked in (签到).
    pub visits: i64,
    pub checked_in: i64,
    /// `checked_in` as a whole percentage of `visits`; null without visits.
    pub checked_in_pct: Option<i64>,
    pub targets: Targets,
    /// Outside sales: effective visits ≥ the weekly target; inside sales: calls ≥ 5 × daily.
    pub met: bool,
    /// Working days (Monday–Friday) below the daily target.
    pub days_below_target: i64,
}

/// A team (a manager and everyone below) or a region, summed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GroupWeek {
    /// `team` or `region`.
    #[schema(value_type = String)]
    pub kind: &'static str,
    /// The manager's username (team) or the region's code.
    pub key: String,
    pub name: String,
    pub people: i64,
    pub days: Vec<DayCount>,
    pub done: i64,
    pub effective: i64,
    pub calls: i64,
    pub planned: i64,
    pub planned_done: i64,
    /// Done face-to-face visits, those checked in, and their share in whole percent.
    pub visits: i64,
    pub checked_in: i64,
    pub checked_in_pct: Option<i64>,
    /// Σ of the members' weekly effective-visit targets (outside sales).
    pub target_effective: i64,
}

/// Visit statistics of a week: per person, team and region, day by day, against targets.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VisitStats {
    /// The Monday of the week.
    #[schema(format = Date)]
    pub week: String,
    /// The seven days, Monday first.
    #[schema(value_type = Vec<crate::web::api::contract::Date>)]
    pub days: Vec<String>,
    pub people: Vec<PersonWeek>,
    pub teams: Vec<GroupWeek>,
    pub regions: Vec<GroupWeek>,
}

/// `part` as a whole percentage of `whole` (rounded half up); None when `whole` is 0.
fn pct(part: i64, whole: i64) -> Option<i64> {
    (whole > 0).then(|| (part * 200 + whole) / (2 * whole))
}

/// `(owner, status)` of the activities planned for the week of `monday` in each owner's own
/// zone: read over a window a day wider on each side, then kept by the owner's local week.
async fn planned_in_week(
    conn: &mut sqlx::AnyConnection,
    ps: &[Person],
    monday: NaiveDate,
) -> Result<Vec<(i64, String)>> {
    if ps.is_empty() {
        return Ok(vec![]);
    }
    let from = ts(act::day_bounds(monday - Duration::days(1), chrono_tz::UTC).0);
    let to = ts(act::day_bounds(monday + Duration::days(8), chrono_tz::UTC).0);
    let ids: Vec<i64> = ps.iter().map(|p| p.id).collect();
    let mut s = Sql::new("SELECT owner_id, planned_at, status FROM activities WHERE owner_id IN (");
    s.bind_list(&ids).push(") AND planned_at IS NOT NULL AND deleted_at IS NULL AND planned_at >= ").bind(from);
    s.push(" AND planned_at < ").bind(to);
    let mut out = vec![];
    for r in s.query().fetch_all(&mut *conn).await? {
        let owner: i64 = r.try_get("owner_id")?;
        let Some(tz) = ps.iter().find(|p| p.id == owner).map(|p| p.time_zone) else { continue };
        let Some(at) = r.try_get::<String, _>("planned_at").ok().as_deref().and_then(parse_ts) else { continue };
        if act::monday(act::local_day(at, tz)) == monday {
            out.push((owner, r.try_get("status")?));
        }
    }
    Ok(out)
}

/// Who visited whom this week: per person, team and region, by day, against the targets. The
/// week is the given Monday's (default: the caller's current week).
pub async fn stats(db: &Db, caller: &Caller, week: Option<&str>) -> Result<VisitStats> {
    let mut conn = db.pool.acquire().await?;
    let tz = user_tz(&mut conn, caller.user_id).await?;
    let monday = week_of(week, tz)?;
    let ps = people(&mut conn, caller).await?;
    let days: Vec<String> = (0..7).map(|i| day(monday + Duration::days(i))).collect();
    let ids: Vec<i64> = ps.iter().map(|p| p.id).collect();
    let mut s = Sql::new(
        "SELECT owner_id, local_day, COUNT(*) AS n, CAST(SUM(effective) AS BIGINT) AS eff, \
         CAST(SUM(CASE WHEN kind IN ('phone', 'ob_call', 'ib_call') THEN 1 ELSE 0 END) AS BIGINT) AS calls, \
         CAST(SUM(CASE WHEN kind IN ('visit', 'meeting') THEN 1 ELSE 0 END) AS BIGINT) AS f2f, \
         CAST(SUM(CASE WHEN kind IN ('visit', 'meeting') THEN checked_in ELSE 0 END) AS BIGINT) AS chk \
         FROM activities WHERE week = ",
    );
    s.bind(day(monday)).push(" AND status = 'done' AND deleted_at IS NULL AND owner_id IN (").bind_list(&ids).push(")");
    s.push(" GROUP BY owner_id, local_day");
    let rows = s.query().fetch_all(&mut *conn).await?;
    let mut counts: HashMap<i64, (BTreeMap<String, DayCount>, i64, i64)> = HashMap::new();
    // (face-to-face visits, checked in) per owner.
    let mut checks: HashMap<i64, (i64, i64)> = HashMap::new();
    for r in &rows {
        let owner: i64 = r.try_get("owner_id")?;
        let c = checks.entry(owner).or_default();
        c.0 += r.try_get::<Option<i64>, _>("f2f")?.unwrap_or(0);
        c.1 += r.try_get::<Option<i64>, _>("chk")?.unwrap_or(0);
        let d: String = r.try_get("local_day")?;
        let e = counts.entry(owner).or_default();
        let c = e.0.entry(d.clone()).or_insert_with(|| DayCount { day: d, ..Default::default() });
        c.done += r.try_get::<i64, _>("n")?;
        c.effective += r.try_get::<Option<i64>, _>("eff")?.unwrap_or(0);
        c.calls += r.try_get::<Option<i64>, _>("calls")?.unwrap_or(0);
    }
    // Planned visits belong to the week they were planned for (in each owner's zone), done or not.
    for (owner, status) in planned_in_week(&mut conn, &ps, monday).await? {
        let e = counts.entry(owner).or_default();
        e.1 += 1;
        e.2 += (status == "done") as i64;
    }
    let mut targets: HashMap<String, Targets> = HashMap::new();
    for st in ["ae", "sr"] {
        targets.insert(st.to_string(), targets_for(&mut conn, Some(st)).await?);
    }
    let mut people_rows = vec![];
    for p in &ps {
        let (by_day, planned, planned_done) = counts.remove(&p.id).unwrap_or_default();
        let t = p.sales_type.as_ref().and_then(|st| targets.get(st)).copied().unwrap_or_default();
        let ds: Vec<DayCount> = days
            .iter()
            .map(|d| by_day.get(d).cloned().unwrap_or(DayCount { day: d.clone(), ..Default::default() }))
            .collect();
        let (done, effective, calls) =
            ds.iter().fold((0, 0, 0), |a, d| (a.0 + d.done, a.1 + d.effective, a.2 + d.calls));
        let inside = p.sales_type.as_deref() == Some("sr");
        // Only working days that have begun in the person's own calendar can fall short.
        let today = day(act::local_day(Utc::now(), p.time_zone));
        let mut ds = ds;
        for d in ds.iter_mut().take(5) {
            let v = if inside { d.calls } else { d.effective };
            d.below_target =
                p.sales_type.is_some() && d.day <= today && v < if inside { t.daily_calls } else { t.daily_effective };
        }
        let below = ds.iter().filter(|d| d.below_target).count();
        let (visits, checked_in) = checks.get(&p.id).copied().unwrap_or_default();
        people_rows.push(PersonWeek {
            visits,
            checked_in,
            checked_in_pct: pct(checked_in, visits),
            username: p.username.clone(),
            name: p.name.clone(),
            sales_type: p.sales_type.clone(),
            met: if inside { calls >= t.daily_calls * 5 } else { effective >= t.weekly_effective },
            days_below_target: below as i64,
            days: ds,
            done,
            effective,
            calls,
            planned,
            planned_done,
            targets: t,
        });
    }
    let group = |kind: &'static str, key: String, name: String, members: &[&PersonWeek]| {
        let mut g = GroupWeek {
            kind,
            key,
            name,
            people: members.len() as i64,
            days: days.iter().map(|d| DayCount { day: d.clone(), ..Default::default() }).collect(),
            done: 0,
            effective: 0,
            calls: 0,
            planned: 0,
            planned_done: 0,
            visits: 0,
            checked_in: 0,
            checked_in_pct: None,
            target_effective: 0,
        };
        for m in members {
            for (gd, md) in g.days.iter_mut().zip(&m.days) {
                gd.done += md.done;
                gd.effective += md.effective;
                gd.calls += md.calls;
            }
            g.done += m.done;
            g.effective += m.effective;
            g.calls += m.calls;
            g.planned += m.planned;
            g.planned_done += m.planned_done;
            g.visits += m.visits;
            g.checked_in += m.checked_in;
            if m.sales_type.as_deref() != Some("sr") && m.sales_type.is_some() {
                g.target_effective += m.targets.weekly_effective;
            }
        }
        g.checked_in_pct = pct(g.checked_in, g.visits);
        g
    };
    let row_of = |id: i64| ps.iter().position(|p| p.id == id).map(|i| &people_rows[i]);
    let mut teams = vec![];
    for m in ps.iter().filter(|m| ps.iter().any(|p| p.manager_id == Some(m.id))) {
        let mut members = vec![];
        let mut stack = vec![m.id];
        while let Some(x) = stack.pop() {
            for p in ps.iter().filter(|p| p.manager_id == Some(x)) {
                if let Some(r) = row_of(p.id) {
                    members.push(r);
                }
                stack.push(p.id);
            }
        }
        teams.push(group("team", m.username.clone(), m.name.clone(), &members));
    }
    let mut regions = vec![];
    for r in sqlx::query("SELECT code, name, path FROM org_units WHERE kind = 'region' ORDER BY code")
        .fetch_all(&mut *conn)
        .await?
    {
        let path: String = r.try_get("path")?;
        let members: Vec<&PersonWeek> =
            ps.iter().filter(|p| p.org_path.starts_with(&path)).filter_map(|p| row_of(p.id)).collect();
        if !members.is_empty() {
            regions.push(group("region", r.try_get("code")?, r.try_get("name")?, &members));
        }
    }
    Ok(VisitStats { week: day(monday), days, people: people_rows, teams, regions })
}

/// A person's progress today and this week, in their own calendar.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Progress {
    pub today: DayCount,
    /// The Monday of this week.
    #[schema(format = Date)]
    pub week: String,
    pub week_effective: i64,
    pub week_calls: i64,
    pub week_done: i64,
    pub targets: Targets,
    #[schema(value_type = Option<crate::domain::role::SalesType>)]
    pub sales_type: Option<String>,
}

pub async fn progress(db: &Db, caller: &Caller) -> Result<Progress> {
    let mut conn = db.pool.acquire().await?;
    let tz = user_tz(&mut conn, caller.user_id).await?;
    let today = act::local_day(Utc::now(), tz);
    let monday = act::monday(today);
    let st: Option<String> = sqlx::query("SELECT sales_type FROM users WHERE id = $1")
        .bind(caller.user_id)
        .fetch_one(&mut *conn)
        .await?
        .try_get("sales_type")?;
    let targets = targets_for(&mut conn, st.as_deref()).await?;
    let rows = sqlx::query(
        "SELECT local_day, COUNT(*) AS n, CAST(SUM(effective) AS BIGINT) AS eff, \
         CAST(SUM(CASE WHEN kind IN ('phone', 'ob_call', 'ib_call') THEN 1 ELSE 0 END) AS BIGINT) AS calls \
         FROM activities WHERE owner_id = $1 AND week = $2 AND status = 'done' AND deleted_at IS NULL GROUP BY local_day",
    )
    .bind(caller.user_id)
    .bind(day(monday))
    .fetch_all(&mut *conn)
    .await?;
    let mut p = Progress {
        today: DayCount { day: day(today), ..Default::default() },
        week: day(monday),
        week_effective: 0,
        week_calls: 0,
        week_done: 0,
        targets,
        sales_type: st,
    };
    for r in rows {
        let (n, eff, calls): (i64, i64, i64) = (
            r.try_get("n")?,
            r.try_get::<Option<i64>, _>("eff")?.unwrap_or(0),
            r.try_get::<Option<i64>, _>("calls")?.unwrap_or(0),
        );
        p.week_done += n;
        p.week_effective += eff;
        p.week_calls += calls;
        if r.try_get::<String, _>("local_day")? == p.today.day {
            p.today = DayCount { day: p.today.day.clone(), done: n, effective: eff, calls, below_target: false };
        }
    }
    Ok(p)
}

/// A visit waiting for its follow-up contact.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FollowUp {
    /// The visit to follow up.
    pub activity_id: i64,
    pub account_id: i64,
    pub account_name: String,
    pub owner: String,
    /// The owner's local day of the visit.
    #[schema(format = Date)]
    pub visited_on: String,
    #[schema(format = Date)]
    pub due: String,
    /// Due before today (the owner's).
    pub overdue: bool,
}

/// Follow-ups still open for one person (the caller, or someone they may see), oldest due first.
pub async fn follow_ups(db: &Db, caller: &Caller, owner: Option<&str>) -> Result<Vec<FollowUp>> {
    let mut conn = db.pool.acquire().await?;
    let owner_id = match owner.map(str::trim).filter(|v| !v.is_empty()) {
        None => caller.user_id,
        Some(u) => {
            let ps = people(&mut conn, caller).await?;
            ps.iter().find(|p| p.username == u).map(|p| p.id).ok_or(Error::NotFound)?
        }
    };
    let tz = user_tz(&mut conn, owner_id).await?;
    let today = day(act::local_day(Utc::now(), tz));
    let rows = sqlx::query(
        "SELECT v.id, v.account_id, a.name AS account_name, u.username, v.local_day, v.follow_up_due \
         FROM activities v JOIN accounts a ON a.id = v.account_id JOIN users u ON u.id = v.owner_id \
         WHERE (v.owner_id = $1 AND v.follow_up_owner_id IS NULL OR v.follow_up_owner_id = $1) \
         AND v.follow_up_due IS NOT NULL AND v.followed_up_by IS NULL \
         AND v.deleted_at IS NULL AND a.deleted_at IS NULL ORDER BY v.follow_up_due, v.id LIMIT 200",
    )
    .bind(owner_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let due: String = r.try_get("follow_up_due")?;
            Ok(FollowUp {
                activity_id: r.try_get("id")?,
                account_id: r.try_get("account_id")?,
                account_name: r.try_get("account_name")?,
                owner: r.try_get("username")?,
                visited_on: r.try_get("local_day")?,
                overdue: due < today,
                due,
            })
        })
        .collect()
}

/// A person's (or a team's) week, day by day.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CalendarDay {
    #[schema(format = Date)]
    pub day: String,
    pub items: Vec<ActivityView>,
}

/// A week calendar, Monday to Sunday.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Calendar {
    /// The Monday of the week.
    #[schema(format = Date)]
    pub week: String,
    /// The person shown; None for the team.
    pub owner: Option<String>,
    pub days: Vec<CalendarDay>,
}

/// The week calendar of one person (default: the caller) or, with `team`, of everyone the
/// caller follows.
pub async fn calendar(
    db: &Db,
    caller: &Caller,
    owner: Option<&str>,
    team: bool,
    week: Option<&str>,
) -> Result<Calendar> {
    let mut conn = db.pool.acquire().await?;
    let tz = user_tz(&mut conn, caller.user_id).await?;
    let monday = week_of(week, tz)?;
    let ps = people(&mut conn, caller).await?;
    let (ids, shown): (Vec<i64>, Option<String>) = if team {
        (ps.iter().map(|p| p.id).collect(), None)
    } else {
        match owner.map(str::trim).filter(|v| !v.is_empty()) {
            None => (vec![caller.user_id], Some(caller.username.clone())),
            Some(u) => {
                let p = ps.iter().find(|p| p.username == u).ok_or(Error::NotFound)?;
                (vec![p.id], Some(p.username.clone()))
            }
        }
    };
    let mut s = Sql::new(SELECT);
    s.push(" WHERE v.week = ").bind(day(monday)).push(" AND v.owner_id IN (").bind_list(&ids).push(")");
    s.push(" AND v.deleted_at IS NULL AND a.deleted_at IS NULL ORDER BY v.local_day, COALESCE(v.occurred_at, v.planned_at), v.id LIMIT 2000");
    let mut items: Vec<ActivityView> =
        s.query().fetch_all(&mut *conn).await?.iter().map(view).collect::<Result<_>>()?;
    fill_contacts(&mut conn, &mut items).await?;
    let mut days: Vec<CalendarDay> =
        (0..7).map(|i| CalendarDay { day: day(monday + Duration::days(i)), items: vec![] }).collect();
    for v in items {
        if let Some(d) = days.iter_mut().find(|d| d.day == v.local_day) {
            d.items.push(v);
        }
    }
    Ok(Calendar { week: day(monday), owner: shown, days })
}

/// The caller's own activities on the given local days (`YYYY-MM-DD`; the home's agenda), in
/// time order, at most `limit`: one range of the owner's week index per day, instead of the
/// whole week's calendar.
pub async fn own_on_days(db: &Db, caller: &Caller, days: &[NaiveDate], limit: i64) -> Result<Vec<ActivityView>> {
    let mut weeks: Vec<String> = days.iter().map(|d| day(act::monday(*d))).collect();
    weeks.dedup();
    let days: Vec<String> = days.iter().map(|d| day(*d)).collect();
    let mut s = Sql::new(SELECT);
    s.push(" WHERE v.owner_id = ").bind(caller.user_id);
    s.push(" AND v.week IN (").bind_texts(&weeks).push(") AND v.local_day IN (").bind_texts(&days).push(")");
    s.push(" AND v.deleted_at IS NULL AND a.deleted_at IS NULL ORDER BY v.local_day, COALESCE(v.occurred_at, v.planned_at), v.id LIMIT ");
    s.bind(limit);
    s.query().fetch_all(&db.pool).await?.iter().map(view).collect()
}

/// The weekly visit plan (每周工作计划表) of one person.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VisitPlan {
    pub owner: String,
    pub name: String,
    /// The Monday of the week.
    #[schema(format = Date)]
    pub week: String,
    /// `draft` or `submitted`.
    #[schema(pattern = "^(draft|submitted)$")]
    pub status: String,
    #[schema(format = DateTime)]
    pub submitted_at: Option<String>,
    pub note: Option<String>,
    /// The plan's version once submitted; null for a draft never submitted.
    pub version: Option<i64>,
    /// The planned visits of the week (those done since included).
    pub visits: Vec<ActivityView>,
    pub planned: i64,
    pub done: i64,
    pub effective: i64,
}

async fn plan_of(conn: &mut sqlx::AnyConnection, p: &Person, monday: NaiveDate) -> Result<VisitPlan> {
    let head =
        sqlx::query("SELECT status, submitted_at, note, version FROM visit_plans WHERE owner_id = $1 AND week = $2")
            .bind(p.id)
            .bind(day(monday))
            .fetch_optional(&mut *conn)
            .await?;
    // The visits planned for that week in the owner's zone, whenever they were done.
    let (from, to) =
        (act::day_bounds(monday, p.time_zone).0, act::day_bounds(monday + Duration::days(7), p.time_zone).0);
    let mut s = Sql::new(SELECT);
    s.push(" WHERE v.owner_id = ").bind(p.id).push(" AND v.planned_at >= ").bind(ts(from));
    s.push(" AND v.planned_at < ").bind(ts(to));
    s.push(" AND v.deleted_at IS NULL AND a.deleted_at IS NULL ORDER BY v.planned_at, v.id");
    let mut visits: Vec<ActivityView> =
        s.query().fetch_all(&mut *conn).await?.iter().map(view).collect::<Result<_>>()?;
    fill_contacts(conn, &mut visits).await?;
    let done = visits.iter().filter(|v| v.status == Status::Done).count() as i64;
    let effective = visits.iter().filter(|v| v.effective).count() as i64;
    Ok(VisitPlan {
        owner: p.username.clone(),
        name: p.name.clone(),
        week: day(monday),
        status: match &head {
            Some(h) => h.try_get("status")?,
            None => "draft".into(),
        },
        submitted_at: head.as_ref().map(|h| h.try_get("submitted_at")).transpose()?.flatten(),
        note: head.as_ref().map(|h| h.try_get("note")).transpose()?.flatten(),
        version: head.as_ref().map(|h| h.try_get("version")).transpose()?,
        planned: visits.len() as i64,
        visits,
        done,
        effective,
    })
}

/// One person's plan for a week (default: the caller's, this week).
pub async fn plan(db: &Db, caller: &Caller, owner: Option<&str>, week: Option<&str>) -> Result<VisitPlan> {
    let mut conn = db.pool.acquire().await?;
    let ps = people(&mut conn, caller).await?;
    let who = owner.map(str::trim).filter(|v| !v.is_empty()).unwrap_or(&caller.username);
    let p = ps.iter().find(|p| p.username == who).ok_or(Error::NotFound)?;
    let monday = week_of(week, p.time_zone)?;
    plan_of(&mut conn, p, monday).await
}

/// Everyone's plans the caller follows, side by side (a manager's weekly view).
pub async fn team_plans(db: &Db, caller: &Caller, week: Option<&str>) -> Result<Vec<VisitPlan>> {
    let mut conn = db.pool.acquire().await?;
    let tz = user_tz(&mut conn, caller.user_id).await?;
    let monday = week_of(week, tz)?;
    let mut out = vec![];
    for p in people(&mut conn, caller).await?.iter().filter(|p| p.sales_type.is_some()) {
        out.push(plan_of(&mut conn, p, monday).await?);
    }
    Ok(out)
}

/// Submits the caller's plan for a week: it must hold at least one planned visit.
pub async fn submit_plan(db: &Db, ctx: &Ctx, week: Option<&str>, note: Option<&str>) -> Result<VisitPlan> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let tz = user_tz(tx.conn(), caller.user_id).await?;
    let monday = week_of(week, tz)?;
    let note = text::optional(note, 2000).map_err(|c| Error::invalid("note", c))?;
    let (from, to) = (act::day_bounds(monday, tz).0, act::day_bounds(monday + Duration::days(7), tz).0);
    let n: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM activities WHERE owner_id = $1 AND planned_at >= $2 AND planned_at < $3 \
         AND deleted_at IS NULL",
    )
    .bind(caller.user_id)
    .bind(ts(from))
    .bind(ts(to))
    .fetch_one(tx.conn())
    .await?
    .try_get("n")?;
    if n == 0 {
        return Err(Error::invalid("week", "plan_empty"));
    }
    let ts_now = now();
    let updated = sqlx::query(
        "UPDATE visit_plans SET status = 'submitted', submitted_at = $1, note = $2, version = version + 1, updated_at = $1 \
         WHERE owner_id = $3 AND week = $4",
    )
    .bind(ts_now.clone())
    .bind(note.clone())
    .bind(caller.user_id)
    .bind(day(monday))
    .execute(tx.conn())
    .await?
    .rows_affected();
    if updated == 0 {
        sqlx::query(
            "INSERT INTO visit_plans (owner_id, week, status, note, submitted_at, version, created_at, updated_at) \
             VALUES ($1, $2, 'submitted', $3, $4, 1, $4, $4)",
        )
        .bind(caller.user_id)
        .bind(day(monday))
        .bind(note)
        .bind(ts_now)
        .execute(tx.conn())
        .await?;
    }
    let p = Person {
        id: caller.user_id,
        username: caller.username.clone(),
        name: caller.display_name.clone(),
        sales_type: None,
        manager_id: None,
        org_path: caller.org_path.clone(),
        time_zone: tz,
    };
    let plan = plan_of(tx.conn(), &p, monday).await?;
    audit::record(
        &mut tx,
        ctx,
        "visit_plan",
        &format!("{}:{}", caller.username, plan.week),
        "submit",
        None,
        Some(&serde_json::json!({"week": plan.week, "planned": plan.planned, "note": plan.note})),
    )
    .await?;
    tx.commit().await?;
    Ok(plan)
}

/// The development record (大客户开发记录表, 003 §七) of an account, derived from its
/// activities and opportunities.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Development {
    pub account_id: i64,
    /// Local days of the first and the last done contact.
    #[schema(format = Date)]
    pub first_contact: Option<String>,
    #[schema(format = Date)]
    pub last_contact: Option<String>,
    /// Done contacts of every kind, and of them face-to-face visits and effective visits.
    pub contacts: i64,
    pub visits: i64,
    pub effective: i64,
    /// Σ of the recorded durations (start to end), in minutes.
    pub total_minutes: i64,
    /// Days from the first contact to the last.
    pub days: i64,
    /// The customer's attitude over time: `[local day, attitude]` pairs.
    #[schema(value_type = Vec<Vec<String>>)]
    pub attitudes: Vec<(String, String)>,
    /// `won` (an order booked), `lost` (every opportunity lost), `in_progress`, or `not_started`.
    #[schema(pattern = "^(won|lost|in_progress|not_started)$")]
    pub result: String,
    /// Why: the won opportunity's name, or the reasons the opportunities were lost.
    pub reason: Option<String>,
    /// The development plan (大客户开发方案) beside the activities; null when none was saved.
    pub plan: Option<crate::app::visits::development_plans::DevPlanBody>,
}

pub async fn development(db: &Db, caller: &Caller, account: impl Into<accounts::AccountRef>) -> Result<Development> {
    let account_id = account.into().check(db, caller).await?;
    let mut conn = db.pool.acquire().await?;
    let rows = sqlx::query(
        "SELECT kind, local_day, occurred_at, ends_at, effective, customer_attitude FROM activities \
         WHERE account_id = $1 AND status = 'done' AND deleted_at IS NULL ORDER BY occurred_at, id",
    )
    .bind(account_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut d = Development {
        account_id,
        first_contact: None,
        last_contact: None,
        contacts: 0,
        visits: 0,
        effective: 0,
        total_minutes: 0,
        days: 0,
        attitudes: vec![],
        result: "not_started".into(),
        reason: None,
        plan: crate::app::visits::development_plans::in_force(db, account_id).await?,
    };
    for r in &rows {
        let kind = Kind::parse(&r.try_get::<String, _>("kind")?).unwrap_or(Kind::Other);
        let local: String = r.try_get("local_day")?;
        d.contacts += 1;
        d.visits += kind.face_to_face() as i64;
        d.effective += r.try_get::<i64, _>("effective")?;
        if let (Some(s), Some(e)) = (
            r.try_get::<Option<String>, _>("occurred_at")?.as_deref().and_then(parse_ts),
            r.try_get::<Option<String>, _>("ends_at")?.as_deref().and_then(parse_ts),
        ) {
            d.total_minutes += (e - s).num_minutes().max(0);
        }
        if let Some(a) = r.try_get::<Option<String>, _>("customer_attitude")? {
            d.attitudes.push((local.clone(), a));
        }
        if d.first_contact.is_none() {
            d.first_contact = Some(local.clone());
        }
        d.last_contact = Some(local);
    }
    if let (Some(f), Some(l)) = (&d.first_contact, &d.last_contact) {
        if let (Ok(f), Ok(l)) = (NaiveDate::parse_from_str(f, "%Y-%m-%d"), NaiveDate::parse_from_str(l, "%Y-%m-%d")) {
            d.days = (l - f).num_days();
        }
    }
    let opps = sqlx::query(
        "SELECT name, stage, lost_reason, lost_to FROM opportunities WHERE account_id = $1 AND deleted_at IS NULL ORDER BY id",
    )
    .bind(account_id)
    .fetch_all(&mut *conn)
    .await?;
    let stage = |r: &AnyRow| r.try_get::<String, _>("stage").unwrap_or_default();
    if let Some(w) = opps.iter().find(|r| stage(r) == "won") {
        d.result = "won".into();
        d.reason = Some(w.try_get("name")?);
    } else if !opps.is_empty() && opps.iter().all(|r| stage(r) == "lost") {
        d.result = "lost".into();
        let reasons: Vec<String> = opps
            .iter()
            .map(|r| {
                let why: Option<String> = r.try_get("lost_reason").ok().flatten();
                let to: Option<String> = r.try_get("lost_to").ok().flatten();
                format!("{}（{}）", why.unwrap_or_default(), to.unwrap_or_default())
            })
            .collect();
        d.reason = Some(reasons.join("；"));
    } else if d.contacts > 0 || !opps.is_empty() {
        d.result = "in_progress".into();
    }
    Ok(d)
}

/// The targets per sales type (the defaults where none were set).
pub async fn targets(db: &Db) -> Result<Vec<(String, Targets)>> {
    let mut conn = db.pool.acquire().await?;
    let mut out = vec![];
    for st in ["ae", "sr"] {
        out.push((st.to_string(), targets_for(&mut conn, Some(st)).await?));
    }
    Ok(out)
}

/// Sets the targets of a sales type (administrators and the heads of the KA system).
pub async fn set_targets(db: &Db, ctx: &Ctx, sales_type: &str, inp: &Input) -> Result<Targets> {
    let caller = &ctx.caller;
    if !(caller.role == crate::domain::role::Role::Admin
        || (caller.reach() == Reach::All && caller.role.manages_accounts()))
    {
        return Err(Error::Forbidden);
    }
    crate::domain::role::SalesType::parse(sales_type).map_err(|c| Error::invalid("sales_type", c))?;
    let keys = ["weekly_effective", "daily_effective", "daily_calls", "follow_up_days"];
    inp.check_keys(&keys, &keys)?;
    let mut tx = db.begin().await?;
    let before = targets_for(tx.conn(), Some(sales_type)).await?;
    let mut t = before;
    let mut e = Errors::default();
    for (k, slot, max) in [
        ("weekly_effective", &mut t.weekly_effective, 100),
        ("daily_effective", &mut t.daily_effective, 20),
        ("daily_calls", &mut t.daily_calls, 500),
        ("follow_up_days", &mut t.follow_up_days, 90),
    ] {
        if let Some(v) = inp.get(k) {
            match v.map(str::trim).filter(|v| !v.is_empty()).map(str::parse::<i64>) {
                None => e.add(k, "required"),
                Some(Err(_)) => e.add(k, "expected_integer"),
                Some(Ok(n)) if n < 1 || n > max => e.add(k, "out_of_range"),
                Some(Ok(n)) => *slot = n,
            }
        }
    }
    if t.daily_effective > t.weekly_effective {
        e.add("daily_effective", "daily_above_weekly");
    }
    e.finish()?;
    if t == before {
        // Nothing to change: no audit row.
        return Ok(t);
    }
    let ts_now = now();
    sqlx::query("DELETE FROM activity_targets WHERE sales_type = $1").bind(sales_type).execute(tx.conn()).await?;
    sqlx::query(
        "INSERT INTO activity_targets (sales_type, weekly_effective, daily_effective, daily_calls, follow_up_days, version, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 1, $6)",
    )
    .bind(sales_type)
    .bind(t.weekly_effective)
    .bind(t.daily_effective)
    .bind(t.daily_calls)
    .bind(t.follow_up_days)
    .bind(ts_now)
    .execute(tx.conn())
    .await?;
    audit::record(
        &mut tx,
        ctx,
        "activity_targets",
        sales_type,
        "update",
        Some(&serde_json::to_value(before).unwrap_or(Value::Null)),
        Some(&serde_json::to_value(t).unwrap_or(Value::Null)),
    )
    .await?;
    tx.commit().await?;
    Ok(t)
}

/// Visit statistics as a table for export: one row per person.
pub fn stats_table(s: &VisitStats) -> crate::app::spreadsheets::export::Table {
    let mut keys = vec!["week", "owner", "name", "sales_type"];
    const DAY_KEYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    keys.extend_from_slice(&DAY_KEYS);
    keys.extend_from_slice(&["effective", "calls", "done", "planned", "planned_done", "target_weekly", "met"]);
    keys.extend_from_slice(&["visits", "checked_in", "checked_in_pct"]);
    let rows = s
        .people
        .iter()
        .map(|p| {
            let inside = p.sales_type.as_deref() == Some("sr");
            let mut r =
                vec![s.week.clone(), p.username.clone(), p.name.clone(), p.sales_type.clone().unwrap_or_default()];
            r.extend(p.days.iter().map(|d| if inside { d.calls.to_string() } else { d.effective.to_string() }));
            r.extend([
                p.effective.to_string(),
                p.calls.to_string(),
                p.done.to_string(),
                p.planned.to_string(),
                p.planned_done.to_string(),
                if inside { (p.targets.daily_calls * 5).to_string() } else { p.targets.weekly_effective.to_string() },
                if p.met { "1" } else { "0" }.to_string(),
                p.visits.to_string(),
                p.checked_in.to_string(),
                p.checked_in_pct.map(|x| x.to_string()).unwrap_or_default(),
            ]);
            r
        })
        .collect();
    crate::app::spreadsheets::export::Table { keys, rows }
}

/// The scheduler's pass over follow-ups: the owner of each visit whose follow-up falls due
/// today or earlier (in their own calendar) and is still open is told once, in the app and on
/// their channels. Claimed by a conditional update, so several servers tell them once.
pub async fn remind_follow_ups(db: &Db, now: DateTime<Utc>) -> Result<usize> {
    // Every zone's today lies within a day of UTC's: read a day ahead, then decide per owner.
    let horizon = day((now + Duration::days(1)).date_naive());
    let rows = sqlx::query(
        "SELECT v.id, COALESCE(v.follow_up_owner_id, v.owner_id) AS owner_id, v.follow_up_due, v.local_day, a.name, \
         u.time_zone FROM activities v \
         JOIN accounts a ON a.id = v.account_id JOIN users u ON u.id = COALESCE(v.follow_up_owner_id, v.owner_id) \
         WHERE v.follow_up_due IS NOT NULL AND v.followed_up_by IS NULL AND v.deleted_at IS NULL \
         AND v.follow_up_reminded_at IS NULL AND v.follow_up_due <= $1 AND a.deleted_at IS NULL",
    )
    .bind(horizon)
    .fetch_all(&db.pool)
    .await?;
    let mut told = 0;
    for r in rows {
        let tz = act::parse_tz(&r.try_get::<String, _>("time_zone")?).unwrap_or(chrono_tz::Asia::Shanghai);
        let due: String = r.try_get("follow_up_due")?;
        if due > day(act::local_day(now, tz)) {
            continue;
        }
        let (id, owner): (i64, i64) = (r.try_get("id")?, r.try_get("owner_id")?);
        let mut tx = db.begin().await?;
        let n = sqlx::query(
            "UPDATE activities SET follow_up_reminded_at = $1 WHERE id = $2 AND follow_up_reminded_at IS NULL \
             AND followed_up_by IS NULL",
        )
        .bind(ts(now))
        .bind(id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n == 1 {
            let (account, visited): (String, String) = (r.try_get("name")?, r.try_get("local_day")?);
            crate::app::records::notify::send(&mut tx, &[owner], "follow_up_due", None, |loc| {
                (
                    rust_i18n::t!("notify.follow_up.title", locale = loc, account = account).into_owned(),
                    rust_i18n::t!("notify.follow_up.body", locale = loc, visited = visited, due = due).into_owned(),
                )
            })
            .await?;
            told += 1;
        }
        tx.commit().await?;
    }
    Ok(told)
}
