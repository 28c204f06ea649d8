//! `Idempotency-Key` on POSTs (draft-ietf-httpapi-idempotency-key-header): the first successful
//! response is stored for 24 hours and replayed for a retry with the same key and body; the same
//! key with a different body is a 422; a retry while the first is still running is a 409.
//! Errors are not stored (they changed nothing), so a retry after an error runs again.

use std::future::Future;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use chrono::Duration;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::db::{self, DbPool};
use crate::error::{ApiError, FieldError};
use crate::repository::idempotency::{self, KeyRow};

pub const HEADER: &str = "Idempotency-Key";

/// Response headers that are part of what a replay must give back.
const REPLAYED_HEADERS: [&str; 4] = ["content-type", "location", "etag", "sync-result"];

/// The key, if the request has one: a structured-field string (`"…"`) or a bare token of
/// 1–255 visible ASCII characters.
fn key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(HEADER) else {
        return Ok(None);
    };
    let raw = value.to_str().unwrap_or("").trim();
    let key = raw
        .strip_prefix('"')
        .and_then(|k| k.strip_suffix('"'))
        .unwrap_or(raw);
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::BadRequest {
            detail: "The Idempotency-Key header must be 1-255 visible ASCII characters (a UUID is best)."
                .into(),
            errors: vec![FieldError::new(
                HEADER,
                "invalid",
                "must be 1-255 visible ASCII characters",
            )],
        });
    }
    Ok(Some(key.to_owned()))
}

enum Claim {
    New,
    Replay(KeyRow),
}

/// Runs `handler` at most once per (owner, key); see the module docs.
pub async fn idempotent<T, F, Fut>(
    req: &HttpRequest,
    pool: &DbPool,
    owner: String,
    request: &T,
    handler: F,
) -> Result<HttpResponse, ApiError>
where
    T: Serialize,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<HttpResponse, ApiError>>,
{
    let Some(key) = key(req)? else {
        return handler().await;
    };
    let body = crate::error::write_json(request)?;
    let hash = crate::domain::catalogue::hex(&Sha256::digest(format!(
        "{} {}\n{body}",
        req.method(),
        req.path()
    )));
    let claim = {
        let (owner, key, hash) = (owner.clone(), key.clone(), hash.clone());
        db::write(pool, move |conn| -> Result<Claim, ApiError> {
            let now = db::now();
            for _ in 0..2 {
                match idempotency::find(conn, &owner, &key)? {
                    Some(row) if row.created_at < now - Duration::hours(24) => {
                        idempotency::release(conn, &owner, &key)?
                    }
                    Some(row) if row.request_hash != hash => {
                        return Err(ApiError::invalid_field(
                            HEADER,
                            "reused",
                            "was already used with a different request; use a new key",
                        ));
                    }
                    Some(row) if row.status == 0 => {
                        return Err(ApiError::Conflict(
                            "A request with this Idempotency-Key is still being processed; retry shortly."
                                .into(),
                        ));
                    }
                    Some(row) => return Ok(Claim::Replay(row)),
                    None => {
                        let row = KeyRow {
                            owner: owner.clone(),
                            key: key.clone(),
                            request_hash: hash.clone(),
                            status: 0,
                            headers: "{}".into(),
                            body: String::new(),
                            created_at: now,
                        };
                        if idempotency::claim(conn, &row)? {
                            return Ok(Claim::New);
                        }
                    }
                }
            }
            Err(ApiError::Conflict(
                "A request with this Idempotency-Key is still being processed; retry shortly.".into(),
            ))
        })
        .await?
    };
    if let Claim::Replay(row) = claim {
        return Ok(replay(&row));
    }
    let response = match handler().await {
        Ok(response) if response.status().is_success() => response,
        other => {
            let (owner, key) = (owner.clone(), key.clone());
            db::autocommit(pool, move |conn| idempotency::release(conn, &owner, &key)).await?;
            return other;
        }
    };
    let status = response.status();
    let headers: serde_json::Map<String, serde_json::Value> = REPLAYED_HEADERS
        .iter()
        .filter_map(|name| {
            let value = response.headers().get(*name)?.to_str().ok()?;
            Some(((*name).to_owned(), value.into()))
        })
        .collect();
    let bytes = actix_web::body::to_bytes(response.into_body())
        .await
        .map_err(|_| ApiError::Internal(anyhow::anyhow!("could not read the response body")))?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let stored = KeyRow {
        owner,
        key,
        request_hash: hash,
        status: i32::from(status.as_u16()),
        headers: serde_json::Value::Object(headers).to_string(),
        body: text,
        created_at: db::now(),
    };
    let row = stored.clone();
    db::autocommit(pool, move |conn| {
        idempotency::complete(conn, &row.owner, &row.key, row.status, &row.headers, &row.body)
    })
    .await?;
    Ok(rebuild(&stored, false))
}

fn replay(row: &KeyRow) -> HttpResponse {
    rebuild(row, true)
}

fn rebuild(row: &KeyRow, replayed: bool) -> HttpResponse {
    let status = u16::try_from(row.status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut builder = HttpResponse::build(status);
    if let Ok(serde_json::Value::Object(headers)) = serde_json::from_str::<serde_json::Value>(&row.headers) {
        for (name, value) in headers {
            if let Some(value) = value.as_str() {
                builder.insert_header((name, value.to_owned()));
            }
        }
    }
    if replayed {
        builder.insert_header(("Idempotent-Replayed", "true"));
    }
    builder.insert_header((header::CACHE_CONTROL, "no-store"));
    builder.body(row.body.clone())
}
