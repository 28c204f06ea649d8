//! Workout sessions: the wire types, their validation, and the canonical form that decides
//! whether a replayed write is "the same session" (pure: no HTTP, no database).

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use utoipa::ToSchema;
use validator::Validate;

/// Which leg a set was done with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SetSide {
    Left,
    Right,
    Both,
}

/// Something the user noticed during or after a session. The adaptation engine acts on each
/// (domain brief §7.3): the first five stop the programme and refer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Symptom {
    /// New calf swelling, warmth or redness (STP-01).
    CalfSwellingWarmthRedness,
    /// Chest pain (STP-02).
    ChestPain,
    /// Dizziness (STP-02).
    Dizziness,
    /// Severe breathlessness (STP-02).
    SevereBreathlessness,
    /// Sudden sharp calf or Achilles pain, or a "pop" (STP-03).
    SuddenSharpPain,
    /// Lost balance and needed a grab or a step (REG-02).
    BalanceLoss,
    /// Heel height visibly lost on more than a third of the reps (REG-03).
    HeelHeightLost,
    /// Ill since the last session (REG-04).
    Illness,
    /// Had a fall since the last session: more support, and re-screen (SCR-11, §9.2).
    Fall,
}

/// One performed set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"exercise_id": "single-leg-bent-knee-heel-raise", "set_number": 1, "side": "left", "reps": 15, "load_kg": 5.0, "rpe": 7, "completed": true}))]
pub struct SessionSet {
    /// A catalogue exercise id.
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub exercise_id: String,
    #[validate(range(min = 1, max = 100))]
    #[schema(minimum = 1, maximum = 100)]
    pub set_number: u16,
    /// Which leg; a set without one was done on both (or alternating).
    #[serde(default = "both_sides")]
    #[schema(default = "both")]
    pub side: SetSide,
    #[validate(range(max = 1000))]
    #[schema(maximum = 1000)]
    pub reps: Option<u16>,
    #[validate(range(min = 0.0, max = 500.0))]
    #[schema(minimum = 0, maximum = 500)]
    pub load_kg: Option<f64>,
    #[validate(range(max = 3600))]
    #[schema(maximum = 3600)]
    pub hold_seconds: Option<u16>,
    #[validate(range(max = 86_400))]
    #[schema(maximum = 86_400)]
    pub duration_seconds: Option<u32>,
    #[validate(range(max = 10))]
    #[schema(maximum = 10)]
    pub rpe: Option<u8>,
    /// Whether the set was finished as planned; a logged set is done unless said otherwise.
    #[serde(default = "done")]
    #[schema(default = true)]
    pub completed: bool,
}

fn done() -> bool {
    true
}

fn both_sides() -> SetSide {
    SetSide::Both
}

/// The writable fields of a session (what `POST` and `PUT` take).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "id": "0b6c1f7e-5b8a-4d0e-9a55-3c2f1d9e8a71", "started_at": "2026-12-07T07:30:00+01:00", "duration_seconds": 1500,
    "rpe": 6, "pain_during": 1, "pain_next_morning": 0, "notes": "Felt strong.",
    "sets": [{"exercise_id": "single-leg-bent-knee-heel-raise", "set_number": 1, "side": "left", "reps": 15, "completed": true}]
}))]
pub struct SessionInput {
    /// Client-chosen UUID (for sessions created offline). Replaying the same id with the same
    /// content returns the stored session; with different content, 409.
    pub id: Option<uuid::Uuid>,
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub programme_id: Option<String>,
    #[validate(range(min = 1, max = 52))]
    #[schema(minimum = 1, maximum = 52)]
    pub programme_week: Option<u16>,
    #[validate(range(min = 1, max = 21))]
    #[schema(minimum = 1, maximum = 21)]
    pub programme_session: Option<u16>,
    /// RFC 3339 with the offset the client used.
    pub started_at: DateTime<FixedOffset>,
    #[validate(range(max = 86_400))]
    #[schema(maximum = 86_400)]
    pub duration_seconds: u32,
    /// The partner's own id for this session (partners only).
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub external_id: Option<String>,
    #[validate(range(min = 0))]
    #[schema(minimum = 0)]
    pub external_version: Option<i64>,
    /// Session effort, 0–10.
    #[validate(range(max = 10))]
    #[schema(maximum = 10)]
    pub rpe: Option<u8>,
    /// Achilles/calf pain during the session, 0–10.
    #[validate(range(max = 10))]
    #[schema(maximum = 10)]
    pub pain_during: Option<u8>,
    /// Pain the next morning, 0–10 (often added later with PATCH).
    #[validate(range(max = 10))]
    #[schema(maximum = 10)]
    pub pain_next_morning: Option<u8>,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
    /// Symptoms noticed during or after the session; programmes adapt to them (STP-*, REG-*).
    #[validate(length(max = 8))]
    #[schema(max_items = 8)]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub symptoms: Vec<Symptom>,
    #[validate(length(max = 200), nested)]
    #[schema(max_items = 200)]
    #[serde(default)]
    pub sets: Vec<SessionSet>,
}

/// The logged content, stored as one JSON document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Content {
    pub programme_week: Option<u16>,
    pub programme_session: Option<u16>,
    pub rpe: Option<u8>,
    pub pain_during: Option<u8>,
    pub pain_next_morning: Option<u8>,
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub symptoms: Vec<Symptom>,
    pub sets: Vec<SessionSet>,
}

/// A session reduced to what is stored: UTC start, offset, duration, content and its hash.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalised {
    pub programme_id: Option<String>,
    pub started_at: NaiveDateTime,
    pub utc_offset_minutes: i32,
    pub duration_seconds: i32,
    pub external_id: Option<String>,
    pub external_version: Option<i64>,
    pub content: String,
    /// Hash of everything the client wrote: equal hashes mean "the same session".
    pub content_hash: String,
}

impl SessionInput {
    pub fn normalise(&self) -> Normalised {
        let duration = self.duration_seconds;
        let content = Content {
            programme_week: self.programme_week,
            programme_session: self.programme_session,
            rpe: self.rpe,
            pain_during: self.pain_during,
            pain_next_morning: self.pain_next_morning,
            notes: self.notes.clone(),
            symptoms: {
                let mut s = self.symptoms.clone();
                s.sort_unstable();
                s.dedup();
                s
            },
            sets: self.sets.clone(),
        };
        let content = serde_json::to_string(&content).unwrap_or_default();
        let started_at = self.started_at.with_timezone(&Utc).naive_utc();
        // Microseconds: PostgreSQL keeps no more, so both engines compare the same instant.
        let started_at = started_at.with_nanosecond_truncated();
        let offset = self.started_at.offset().local_minus_utc() / 60;
        let fingerprint = format!(
            "{:?}|{}|{offset}|{duration}|{:?}|{:?}|{content}",
            self.programme_id,
            started_at.and_utc().timestamp_micros(),
            self.external_id,
            self.external_version,
        );
        Normalised {
            programme_id: self.programme_id.clone(),
            started_at,
            utc_offset_minutes: offset,
            duration_seconds: i32::try_from(duration).unwrap_or(i32::MAX),
            external_id: self.external_id.clone(),
            external_version: self.external_version,
            content_hash: crate::domain::catalogue::hex(&Sha256::digest(fingerprint.as_bytes())),
            content,
        }
    }
}

trait TruncateNanos {
    fn with_nanosecond_truncated(self) -> Self;
}

impl TruncateNanos for NaiveDateTime {
    fn with_nanosecond_truncated(self) -> Self {
        use chrono::Timelike as _;
        let micros = self.nanosecond() / 1000;
        self.with_nanosecond(micros * 1000).unwrap_or(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: serde_json::Value) -> SessionInput {
        serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_same_session_hashes_the_same_whatever_the_offset_spelling() {
        let a =
            input(serde_json::json!({"started_at": "2026-12-07T07:30:00+01:00", "duration_seconds": 600}));
        let b = input(
            serde_json::json!({"started_at": "2026-12-07T07:30:00.000+01:00", "duration_seconds": 600}),
        );
        assert_eq!(a.normalise().content_hash, b.normalise().content_hash);
        let c = input(serde_json::json!({"started_at": "2026-12-07T06:30:00Z", "duration_seconds": 600}));
        assert_eq!(a.normalise().started_at, c.normalise().started_at, "same instant");
        assert_ne!(
            a.normalise().content_hash,
            c.normalise().content_hash,
            "but another offset"
        );
        let d = input(
            serde_json::json!({"started_at": "2026-12-07T07:30:00+01:00", "duration_seconds": 600, "rpe": 5}),
        );
        assert_ne!(a.normalise().content_hash, d.normalise().content_hash);
    }
}

pub mod stats;
