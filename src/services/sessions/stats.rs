//! Progress statistics over a period: loads the subject's sessions and their latest programme,
//! and lets `domain::sessions::stats` compute.

use chrono::NaiveDateTime;

use crate::db::{self, DbPool};
use crate::domain::sessions::stats::{self, Logged, Stats};
use crate::error::{ApiError, read_json};
use crate::repository::{programmes, sessions as repo};
use crate::services::Subject;

/// At most this many days per request.
pub const MAX_DAYS: i64 = 366;

/// The statistics of sessions started in `[from, to)`; 422 on an empty or too long period.
pub async fn period(
    pool: &DbPool,
    subject: Subject,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Stats, ApiError> {
    if from >= to || to - from > chrono::Duration::days(MAX_DAYS) {
        return Err(ApiError::invalid_field(
            "from",
            "range",
            "must be before `to` and at most 366 days earlier",
        ));
    }
    let user_id = subject.user_id;
    let (rows, latest) = db::query(pool, move |conn| {
        let rows = repo::in_range(conn, &user_id, from, to, 20_000)?;
        let latest = programmes::list(conn, &user_id, None, 1)?.into_iter().next();
        Ok((rows, latest))
    })
    .await?;
    let programme = latest
        .map(|p| -> Result<_, ApiError> {
            let planned: crate::services::programmes::Head = read_json(&p.document)?;
            Ok((p.id, u32::from(planned.sessions_per_week)))
        })
        .transpose()?;
    let logged: Vec<Logged> = rows
        .into_iter()
        .map(|r| -> Result<Logged, ApiError> {
            Ok(Logged {
                started_at: r.started_at,
                duration_seconds: r.duration_seconds,
                programme_id: r.programme_id,
                content: read_json(&r.content)?,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(stats::compute(
        &logged,
        programme.as_ref().map(|(id, n)| (id.as_str(), *n)),
    ))
}
