//! Notifications: in the app always; by email (SMTP) and by webhook (a JSON POST, the way
//! enterprise chat bots take messages) when the user chose those channels. A notification and
//! its deliveries are written in the transaction of the change they tell about; a background
//! task (`kam serve`'s scheduler) sends the deliveries. Each delivery row is claimed with a
//! conditional update before it is sent, so with several servers on one database each goes out
//! once; a failure is retried with backoff and shown to the administrator, never dropped.
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::{FromRow, Row};

use crate::app::{Caller, Ctx, Error, Result};
use crate::db::codes::Flag;
use crate::db::{parse_ts, ts, Db, WriteTx};

/// How deliveries leave this server.
#[derive(Debug, Clone, Default)]
pub struct Channels {
    /// `smtp://host:port` (plain), `smtps://…` or `smtp://…?tls=required` (lettre's URL form);
    /// None: email is not configured and email deliveries wait.
    pub smtp_url: Option<String>,
    pub mail_from: String,
    /// The address of this KAM in links (`http://kam.example.com`).
    pub base_url: String,
}

/// Tells `users` about something, in their own language: a notification each, and a delivery
/// row per channel they chose.
pub async fn send(
    tx: &mut WriteTx,
    users: &[i64],
    kind: &str,
    approval_id: Option<i64>,
    text: impl Fn(&str) -> (String, String),
) -> Result<()> {
    let now = ts(Utc::now());
    let mut seen = vec![];
    for &u in users {
        if seen.contains(&u) {
            continue;
        }
        seen.push(u);
        let Some(r) = sqlx::query_as::<_, Recipient>(
            "SELECT locale, email, notify_email, webhook_url, notify_webhook FROM users WHERE id = $1 AND active = 1",
        )
        .bind(u)
        .fetch_optional(tx.conn())
        .await?
        else {
            continue;
        };
        let (title, body) = text(&r.locale);
        let id: i64 = sqlx::query(
            "INSERT INTO notifications (user_id, kind, approval_id, title, body, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(u)
        .bind(kind)
        .bind(approval_id)
        .bind(title)
        .bind(body)
        .bind(now.clone())
        .fetch_one(tx.conn())
        .await?
        .try_get("id")?;
        let c = r.channels;
        for (channel, target, on) in [("email", c.email, c.notify_email), ("webhook", c.webhook_url, c.notify_webhook)]
        {
            if let (true, Some(t)) = (on, target.filter(|t| !t.trim().is_empty())) {
                sqlx::query(
                    "INSERT INTO outbox (notification_id, channel, target, state, attempts, next_attempt_at, created_at) \
                     VALUES ($1, $2, $3, 'pending', 0, $4, $4)",
                )
                .bind(id)
                .bind(channel)
                .bind(t)
                .bind(now.clone())
                .execute(tx.conn())
                .await?;
            }
        }
    }
    Ok(())
}

/// Someone to notify: their language and channels.
#[derive(FromRow)]
struct Recipient {
    locale: String,
    #[sqlx(flatten)]
    channels: ChannelsView,
}

/// A notification in the caller's language.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, FromRow)]
pub struct NotificationView {
    pub id: i64,
    /// What happened, e.g. `approval_waiting`, `approval_closed`, `approval_reminder`.
    pub kind: String,
    /// The request it is about.
    pub approval_id: Option<i64>,
    pub title: String,
    pub body: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[sqlx(try_from = "Flag")]
    pub read: bool,
}

/// The caller's notifications, newest first.
pub async fn mine(db: &Db, caller: &Caller, unread_only: bool) -> Result<Vec<NotificationView>> {
    let extra = if unread_only { " AND read_at IS NULL" } else { "" };
    Ok(sqlx::query_as(&format!(
        "SELECT id, kind, approval_id, title, body, created_at, \
         CAST(CASE WHEN read_at IS NULL THEN 0 ELSE 1 END AS BIGINT) AS read FROM notifications \
         WHERE user_id = $1{extra} ORDER BY id DESC LIMIT 200"
    ))
    .bind(caller.user_id)
    .fetch_all(&db.pool)
    .await?)
}

pub async fn unread_count(db: &Db, caller: &Caller) -> Result<i64> {
    Ok(sqlx::query("SELECT COUNT(*) AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL")
        .bind(caller.user_id)
        .fetch_one(&db.pool)
        .await?
        .try_get("n")?)
}

/// Marks the caller's notifications read (all, or one).
pub async fn mark_read(db: &Db, ctx: &Ctx, id: Option<i64>) -> Result<()> {
    let mut tx = db.begin().await?;
    let mut s = crate::db::sql::Sql::new("UPDATE notifications SET read_at = ");
    s.bind(ts(Utc::now())).push(" WHERE user_id = ").bind(ctx.caller.user_id).push(" AND read_at IS NULL");
    if let Some(id) = id {
        s.push(" AND id = ").bind(id);
    }
    s.query().execute(tx.conn()).await?;
    tx.commit().await?;
    Ok(())
}

/// The caller's channels: email and webhook, each with its switch.
pub async fn set_channels(
    db: &Db,
    ctx: &Ctx,
    email: Option<&str>,
    notify_email: bool,
    webhook_url: Option<&str>,
    notify_webhook: bool,
) -> Result<()> {
    let mut e = crate::domain::error::Errors::default();
    let email = email.map(str::trim).filter(|v| !v.is_empty());
    if let Some(m) = email {
        if m.len() > 200 || !m.contains('@') || m.contains(char::is_whitespace) {
            e.add("email", "email_format");
        }
    }
    let hook = webhook_url.map(str::trim).filter(|v| !v.is_empty());
    if let Some(h) = hook {
        if h.len() > 500 || !(h.starts_with("http://") || h.starts_with("https://")) {
            e.add("webhook_url", "url_format");
        }
    }
    if notify_email && email.is_none() {
        e.add("email", "required");
    }
    if notify_webhook && hook.is_none() {
        e.add("webhook_url", "required");
    }
    e.finish()?;
    let now = channels_of(db, &ctx.caller).await?;
    if (now.email.as_deref(), now.notify_email, now.webhook_url.as_deref(), now.notify_webhook)
        == (email, notify_email, hook, notify_webhook)
    {
        // The channels as they are: nothing changes, no audit row.
        return Ok(());
    }
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE users SET email = $1, notify_email = $2, webhook_url = $3, notify_webhook = $4 WHERE id = $5")
        .bind(email)
        .bind(notify_email as i64)
        .bind(hook)
        .bind(notify_webhook as i64)
        .bind(ctx.caller.user_id)
        .execute(tx.conn())
        .await?;
    crate::app::records::audit::record(
        &mut tx,
        ctx,
        "user",
        &ctx.caller.username,
        "channels",
        None,
        Some(&json!({"email": email, "notify_email": notify_email, "webhook_url": hook, "notify_webhook": notify_webhook})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The caller's notification channels.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, FromRow)]
pub struct ChannelsView {
    pub email: Option<String>,
    /// Notifications are also sent to `email`.
    #[sqlx(try_from = "Flag")]
    pub notify_email: bool,
    pub webhook_url: Option<String>,
    /// Notifications are also posted to `webhook_url`.
    #[sqlx(try_from = "Flag")]
    pub notify_webhook: bool,
}

pub async fn channels_of(db: &Db, caller: &Caller) -> Result<ChannelsView> {
    Ok(sqlx::query_as("SELECT email, notify_email, webhook_url, notify_webhook FROM users WHERE id = $1")
        .bind(caller.user_id)
        .fetch_one(&db.pool)
        .await?)
}

/// A delivery as the administrator sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, FromRow)]
pub struct Delivery {
    pub id: i64,
    /// `email` or `webhook`.
    pub channel: String,
    /// The address or URL.
    pub target: String,
    /// `pending`, `sent` or `failed`.
    pub state: String,
    pub attempts: i64,
    #[schema(format = DateTime)]
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    #[schema(format = DateTime)]
    pub sent_at: Option<String>,
    /// The notification's title.
    pub title: String,
}

/// Deliveries not sent yet or failed (the administrator's view).
pub async fn deliveries(db: &Db, ctx: &Ctx, state: Option<&str>) -> Result<Vec<Delivery>> {
    ctx.require_admin()?;
    let st = match state.map(str::trim).filter(|v| !v.is_empty()) {
        None => None,
        Some(s @ ("pending" | "sent" | "failed")) => Some(s.to_string()),
        Some(_) => return Err(Error::invalid("state", "invalid_choice")),
    };
    let mut s = crate::db::sql::Sql::new(
        "SELECT o.id, o.channel, o.target, o.state, o.attempts, o.next_attempt_at, o.last_error, o.sent_at, n.title \
         FROM outbox o JOIN notifications n ON n.id = o.notification_id WHERE 1 = 1",
    );
    if let Some(st) = st {
        s.push(" AND o.state = ").bind(st);
    }
    s.push(" ORDER BY o.id DESC LIMIT 500");
    Ok(s.query().try_map(|r| Delivery::from_row(&r)).fetch_all(&db.pool).await?)
}

/// After this many failed attempts a delivery is `failed` (shown to the administrator, who may
/// send it again); until then it is retried after 1, 2, 4, … minutes.
pub const MAX_ATTEMPTS: i64 = 8;

/// Sends the deliveries that are due, each claimed first by this `worker`. Returns how many
/// were sent.
pub async fn deliver(db: &Db, ch: &Channels, worker: &str, now: DateTime<Utc>) -> Result<usize> {
    let due = sqlx::query(
        "SELECT o.id FROM outbox o WHERE o.state = 'pending' AND o.next_attempt_at <= $1 \
         AND (o.claimed_until IS NULL OR o.claimed_until < $1) ORDER BY o.id LIMIT 50",
    )
    .bind(ts(now))
    .fetch_all(&db.pool)
    .await?;
    let mut sent = 0;
    for r in due {
        let id: i64 = r.try_get("id")?;
        // The claim: one server wins each row (the condition is re-checked under the row lock).
        let claimed = {
            let mut tx = db.begin().await?;
            let n = sqlx::query(
                "UPDATE outbox SET claimed_by = $1, claimed_until = $2 WHERE id = $3 AND state = 'pending' \
                 AND next_attempt_at <= $4 AND (claimed_until IS NULL OR claimed_until < $4)",
            )
            .bind(worker)
            .bind(ts(now + Duration::minutes(2)))
            .bind(id)
            .bind(ts(now))
            .execute(tx.conn())
            .await?
            .rows_affected();
            tx.commit().await?;
            n == 1
        };
        if !claimed {
            continue;
        }
        let Outgoing { channel, target, attempts, kind, title, body, approval_id: approval, username } =
            sqlx::query_as(
                "SELECT o.channel, o.target, o.attempts, n.kind, n.title, n.body, n.approval_id, u.username \
                 FROM outbox o JOIN notifications n ON n.id = o.notification_id JOIN users u ON u.id = n.user_id WHERE o.id = $1",
            )
            .bind(id)
            .fetch_one(&db.pool)
            .await?;
        let link = approval.map(|a| format!("{}/approvals/{a}", ch.base_url.trim_end_matches('/')));
        let result = match channel.as_str() {
            "email" => send_email(ch, &target, &title, &body, link.as_deref()).await,
            _ => {
                let payload = json!({
                    "msgtype": "text",
                    "text": {"content": format!("{title}\n{body}{}", link.as_deref().map(|l| format!("\n{l}")).unwrap_or_default())},
                    "kind": kind,
                    "title": title,
                    "body": body,
                    "approval_id": approval,
                    "user": username,
                    "url": link,
                });
                send_webhook(&target, &payload).await
            }
        };
        let attempts = attempts + 1;
        let mut tx = db.begin().await?;
        match result {
            Ok(()) => {
                sqlx::query(
                    "UPDATE outbox SET state = 'sent', sent_at = $1, attempts = $2, last_error = NULL, claimed_until = NULL \
                     WHERE id = $3",
                )
                .bind(ts(Utc::now()))
                .bind(attempts)
                .bind(id)
                .execute(tx.conn())
                .await?;
                sent += 1;
            }
            Err(err) => {
                let state = if attempts >= MAX_ATTEMPTS { "failed" } else { "pending" };
                let next = now + Duration::minutes(1 << (attempts - 1).min(10));
                sqlx::query(
                    "UPDATE outbox SET state = $1, attempts = $2, last_error = $3, next_attempt_at = $4, claimed_until = NULL \
                     WHERE id = $5",
                )
                .bind(state)
                .bind(attempts)
                .bind(err.chars().take(500).collect::<String>())
                .bind(ts(next))
                .bind(id)
                .execute(tx.conn())
                .await?;
                tracing::warn!(delivery = id, channel, attempts, error = %err, "delivery failed");
            }
        }
        tx.commit().await?;
    }
    Ok(sent)
}

/// A claimed delivery and the notification it carries.
#[derive(FromRow)]
struct Outgoing {
    channel: String,
    target: String,
    attempts: i64,
    kind: String,
    title: String,
    body: String,
    approval_id: Option<i64>,
    username: String,
}

/// Puts a failed delivery back in line (the administrator).
pub async fn retry(db: &Db, ctx: &Ctx, id: i64) -> Result<()> {
    ctx.require_admin()?;
    let mut tx = db.begin().await?;
    let n = sqlx::query(
        "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = $1, claimed_until = NULL WHERE id = $2 AND state = 'failed'",
    )
    .bind(ts(Utc::now()))
    .bind(id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if n != 1 {
        return Err(Error::NotFound);
    }
    crate::app::records::audit::record(&mut tx, ctx, "delivery", &id.to_string(), "retry", None, None).await?;
    tx.commit().await?;
    Ok(())
}

async fn send_email(
    ch: &Channels,
    to: &str,
    subject: &str,
    body: &str,
    link: Option<&str>,
) -> std::result::Result<(), String> {
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
    let Some(url) = &ch.smtp_url else { return Err("no SMTP server configured (KAM_SMTP_URL)".into()) };
    let text = match link {
        Some(l) => format!("{body}\n\n{l}"),
        None => body.to_string(),
    };
    let msg = Message::builder()
        .from(ch.mail_from.parse().map_err(|e| format!("from address: {e}"))?)
        .to(to.parse().map_err(|e| format!("to address: {e}"))?)
        .subject(subject)
        .header(lettre::message::header::ContentType::TEXT_PLAIN)
        .body(text)
        .map_err(|e| e.to_string())?;
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .map_err(|e| e.to_string())?
        .timeout(Some(std::time::Duration::from_secs(20)))
        .build();
    mailer.send(msg).await.map(|_| ()).map_err(|e| e.to_string())
}

async fn send_webhook(url: &str, payload: &serde_json::Value) -> std::result::Result<(), String> {
    let client =
        reqwest::Client::builder().timeout(std::time::Duration::from_secs(15)).build().map_err(|e| e.to_string())?;
    let r = client.post(url).json(payload).send().await.map_err(|e| e.to_string())?;
    if r.status().is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {}", r.status()))
    }
}

/// When a timestamp column is in the past (for reminders).
pub fn is_past(v: Option<&str>, now: DateTime<Utc>) -> bool {
    v.and_then(parse_ts).is_some_and(|t| t <= now)
}

/// (pending, failed) outbox deliveries, for the metrics.
pub async fn outbox_counts(db: &Db) -> Result<(i64, i64)> {
    let r = sqlx::query(
        "SELECT CAST(COALESCE(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0) AS BIGINT) AS pending, \
         CAST(COALESCE(SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), 0) AS BIGINT) AS failed \
         FROM outbox WHERE state IN ('pending', 'failed')",
    )
    .fetch_one(&db.pool)
    .await?;
    Ok((r.try_get("pending")?, r.try_get("failed")?))
}
