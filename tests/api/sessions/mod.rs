//! Workout sessions: idempotent create, preconditions, tombstones, paging, the change feed,
//! concurrency, ownership and partner upserts; the shared fixtures and typed helpers.

mod create;
mod feed;
mod ownership;
mod stats;
mod updates;

use diesel::prelude::*;
use serde_json::{Value, json};
use soleus_api::db::schema::sessions;

use crate::helpers::{Response, TestApp};

pub fn session(id: Option<&str>, started: &str) -> Value {
    let mut s = json!({
        "started_at": started, "duration_seconds": 1200, "rpe": 6, "pain_during": 1,
        "sets": [
            {"exercise_id": "single-leg-bent-knee-heel-raise", "set_number": 1, "side": "left", "reps": 15, "completed": true},
            {"exercise_id": "single-leg-bent-knee-heel-raise", "set_number": 2, "side": "right", "reps": 14, "load_kg": 5.0, "completed": true}
        ]
    });
    if let Some(id) = id {
        s["id"] = id.into();
    }
    s
}

impl TestApp {
    /// `POST /v1/me/sessions` with the user's token.
    pub async fn post_session(&self, token: &str, body: &Value) -> Response {
        self.send_json_with("POST", "/v1/me/sessions", token, body).await
    }

    pub async fn send_with_headers(
        &self,
        method: &str,
        path: &str,
        token: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Response {
        let mut req = self
            .client
            .request(method.parse().unwrap(), self.url(path))
            .insert_header(("Authorization", format!("Bearer {token}")));
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        match body {
            Some(b) => {
                let req = req.insert_header(("Content-Type", "application/json"));
                self.send(req, Some(b.to_string().as_bytes())).await
            }
            None => self.send(req, None).await,
        }
    }

    /// Follows the change feed from `since` to the end; returns the changes and the last cursor.
    pub async fn follow(
        &self,
        base: &str,
        token: &str,
        since: Option<String>,
        limit: u32,
    ) -> (Vec<Value>, String) {
        let mut changes = Vec::new();
        let mut since = since;
        loop {
            let mut path = format!("{base}?limit={limit}");
            if let Some(s) = &since {
                path.push_str(&format!("&since={s}"));
            }
            let page = self.get_with(&path, token).await;
            assert_eq!(
                page.status.as_u16(),
                200,
                "{}",
                String::from_utf8_lossy(&page.body)
            );
            let page = page.json();
            changes.extend(page["changes"].as_array().unwrap().iter().cloned());
            since = Some(page["next"].as_str().unwrap().to_owned());
            if page["has_more"] == false {
                return (changes, since.unwrap());
            }
        }
    }
}

pub fn stored_ids(app: &TestApp) -> Vec<String> {
    let mut conn = app.raw_connection();
    sessions::table
        .select(sessions::id)
        .order(sessions::id)
        .load(&mut conn)
        .unwrap()
}
